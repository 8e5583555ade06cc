#!/usr/bin/env python3
"""Quality gate on the held-out NLU evaluation (rasa has no threshold of its own).

Usage, after `rasa test nlu --nlu nlu/tests/nlu_heldout.yml --model models/mobilis.tar.gz --out results`:

    python scripts/nlu_gate.py [results/intent_report.json] [--macro 0.93] [--min-intent 0.80]

Prints the per-intent table and exits 1 when the macro-F1 over intents is below --macro or any
intent's F1 is below --min-intent; exit 2 when the report is missing or unreadable.
The "accuracy" / "* avg" rows of the report are ignored: the macro-F1 is recomputed from the
intents themselves. Rows with support 0 (labels only ever predicted, e.g. nlu_fallback) are
listed but not gated — their errors already lower the recall of the true intents.
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
        name: row for name, row in report.items()
        if name not in SUMMARY_ROWS and not name.endswith(" avg") and isinstance(row, dict) and "f1-score" in row
    }


def evaluate(report: dict, macro_min: float, intent_min: float) -> tuple[bool, list[str]]:
    rows = intent_rows(report)
    gated = {name: row for name, row in rows.items() if row.get("support", 0) > 0}
    lines = [f"{'intent':<24} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}"]
    failures = []
    for name, row in sorted(rows.items(), key=lambda kv: (kv[1]["f1-score"], kv[0])):
        f1 = row["f1-score"]
        mark = ""
        if name not in gated:
            mark = "  (not gated: support 0)"
        elif f1 < intent_min:
            mark = f"  < {intent_min:.2f}  FAIL"
            failures.append(f"intent {name}: F1 {f1:.3f} < {intent_min:.2f}")
        lines.append(f"{name:<24} {row['precision']:>9.3f} {row['recall']:>7.3f} {f1:>6.3f} "
                     f"{row.get('support', 0):>7}{mark}")
    if not gated:
        return False, lines + ["no intent with support > 0 in the report"]
    macro = sum(row["f1-score"] for row in gated.values()) / len(gated)
    lines.append(f"{'macro-F1 (' + str(len(gated)) + ' intents)':<24} {'':>9} {'':>7} {macro:>6.3f}")
    if macro < macro_min:
        failures.append(f"macro-F1 {macro:.3f} < {macro_min:.2f}")
    lines.append("FAIL: " + "; ".join(failures) if failures else
                 f"OK: macro-F1 {macro:.3f} ≥ {macro_min:.2f} and every intent ≥ {intent_min:.2f}")
    return not failures, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--macro", type=float, default=0.93, help="minimum macro-F1 (default 0.93)")
    parser.add_argument("--min-intent", type=float, default=0.80, help="minimum F1 per intent (default 0.80)")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.report}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(report, dict):
        print(f"{args.report} is not an intent report", file=sys.stderr)
        return 2
    ok, lines = evaluate(report, args.macro, args.min_intent)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
