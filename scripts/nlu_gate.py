#!/usr/bin/env python3
"""Quality gate on the held-out NLU evaluation (rasa has no threshold of its own).

Usage, after `rasa test nlu --nlu nlu/tests/nlu_heldout.yml --model models/mobilis.tar.gz --out results`:

    python scripts/nlu_gate.py [results/intent_report.json] [--macro 0.93] [--min-intent 0.80]
        [--responses results/response_selection_report.json] [--faq-macro 0.93] [--min-faq 0.80]

Prints the per-intent table and exits 1 when the macro-F1 over intents is below --macro or any
intent's F1 is below --min-intent. With --responses, also prints the per-FAQ-entry table of the
response selector (`faq/<id>` rows) and fails below --faq-macro / --min-faq in the same way.
Exit 2 when a report is missing or unreadable.
The "accuracy" / "* avg" rows of the reports are ignored: each macro-F1 is recomputed from the
labels themselves. Rows with support 0 (labels only ever predicted, e.g. nlu_fallback) are
listed but not gated — their errors already lower the recall of the true labels.
Note: rasa scores the response selector on every FAQ line whatever intent DIET predicted, so the
FAQ table measures "which answer"; "is it a FAQ at all" is the `faq` row of the intent table.
Standard library only, so it runs in either environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_REPORT = Path("results") / "intent_report.json"
SUMMARY_ROWS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def intent_rows(report: dict) -> dict[str, dict]:
    return {
        name: row
        for name, row in report.items()
        if name not in SUMMARY_ROWS and not name.endswith(" avg") and isinstance(row, dict) and "f1-score" in row
    }


def evaluate(
    report: dict, macro_min: float, intent_min: float, kind: str = "intent", plural: str = "intents"
) -> tuple[bool, list[str]]:
    """Gate one report; `kind`/`plural` only name the labels in the printed lines."""
    rows = intent_rows(report)
    gated = {name: row for name, row in rows.items() if row.get("support", 0) > 0}
    width = max([24, *(len(name) + 1 for name in rows)])
    lines = [f"{kind:<{width}} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}"]
    failures = []
    for name, row in sorted(rows.items(), key=lambda kv: (kv[1]["f1-score"], kv[0])):
        f1 = row["f1-score"]
        mark = ""
        if name not in gated:
            mark = "  (not gated: support 0)"
        elif round(f1, 6) < intent_min:  # 12/15 is 0.7999999999999999 in sklearn's floats
            mark = f"  < {intent_min:.2f}  FAIL"
            failures.append(f"{kind} {name}: F1 {f1:.3f} < {intent_min:.2f}")
        lines.append(
            f"{name:<{width}} {row['precision']:>9.3f} {row['recall']:>7.3f} {f1:>6.3f} "
            f"{row.get('support', 0):>7}{mark}"
        )
    if not gated:
        return False, lines + [f"FAIL: no {kind} with support > 0 in the report"]
    macro = sum(row["f1-score"] for row in gated.values()) / len(gated)
    lines.append(f"{'macro-F1 (' + str(len(gated)) + ' ' + plural + ')':<{width}} {'':>9} {'':>7} {macro:>6.3f}")
    if round(macro, 6) < macro_min:
        failures.append(f"macro-F1 {macro:.3f} < {macro_min:.2f}")
    lines.append(
        "FAIL: " + "; ".join(failures)
        if failures
        else f"OK: macro-F1 {macro:.3f} ≥ {macro_min:.2f} and every {kind} ≥ {intent_min:.2f}"
    )
    return not failures, lines


def load(path: Path) -> dict | None:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return None
    if not isinstance(report, dict):
        print(f"{path} is not a rasa evaluation report", file=sys.stderr)
        return None
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--macro", type=float, default=0.93, help="minimum macro-F1 (default 0.93)")
    parser.add_argument("--min-intent", type=float, default=0.80, help="minimum F1 per intent (default 0.80)")
    parser.add_argument(
        "--responses", type=Path, default=None, help="response_selection_report.json: also gate the FAQ entries"
    )
    parser.add_argument(
        "--faq-macro", type=float, default=0.93, help="minimum macro-F1 over FAQ entries (default 0.93)"
    )
    parser.add_argument("--min-faq", type=float, default=0.80, help="minimum F1 per FAQ entry (default 0.80)")
    args = parser.parse_args(argv)

    intents = load(args.report)
    responses = load(args.responses) if args.responses is not None else {}
    if intents is None or responses is None:
        return 2
    ok, lines = evaluate(intents, args.macro, args.min_intent)
    print("\n".join(lines))
    if args.responses is not None:
        faq_ok, faq_lines = evaluate(responses, args.faq_macro, args.min_faq, kind="FAQ entry", plural="FAQ entries")
        print()
        print("\n".join(faq_lines))
        ok = ok and faq_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
