#!/usr/bin/env python3
"""5-fold cross-validation of the NLU pipeline on nlu/data, with per-fold macro-F1.

Run with the rasa environment, after `python -m bot.tools.faq_export` (scripts/nlu_cv.sh does both):

    .venv/rasa/bin/python scripts/nlu_cv.py [--folds 5] [--config nlu/config.yml] [--out results/nlu-cv]

Same procedure as `rasa test nlu --cross-validation --folds 5` (Rasa's own data loading,
`drop_intents_below_freq`, stratification on the full retrieval intent `faq/<id>`, `train_nlu`,
`get_eval_data`, and `evaluate_intents` / `evaluate_response_selections` / `evaluate_entities` on
the accumulated test folds, which write the same reports and the intent confusion matrix PNG), with
two differences that make the result usable: the split is seeded (Rasa's StratifiedKFold is not, so
two runs differ), and the macro-F1 of every fold is recorded — the CLI only logs a weighted F1
mean ± std. Train-fold scoring, which the CLI also does, is skipped (it only shows memorisation).

Writes into --out: intent_report.json, intent_confusion_matrix.png, response_selection_report.json,
*_errors.json, ..., and cv_summary.json; with --doc, a markdown summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]


def macro_f1(targets: list[str], predictions: list[str]) -> float:
    """Macro-F1 over the labels that occur as targets (the gate's definition, see nlu_gate.py)."""
    from sklearn.metrics import f1_score

    labels = sorted(set(targets))
    return float(f1_score(targets, predictions, labels=labels, average="macro", zero_division=0))


def folds(n: int, data, seed: int):
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    examples = data.intent_examples
    labels = [example.get_full_intent() for example in examples]
    split = StratifiedKFold(n_splits=n, shuffle=True, random_state=seed)
    for train_index, test_index in split.split(examples, labels):

        def subset(indexes):
            return TrainingData(
                training_examples=[examples[i] for i in indexes],
                entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
                responses=data.responses,
            )

        yield subset(train_index), subset(test_index)


async def run(args: argparse.Namespace) -> dict:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.nlu import test as nlu_test
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter

    data = TrainingDataImporter.load_from_dict(
        training_data_paths=[str(args.nlu)], domain_path=str(args.domain)
    ).get_nlu_data()
    data = nlu_test.drop_intents_below_freq(data, cutoff=args.folds)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    per_fold, intent_results, response_results, entity_results = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as tmp:
        for index, (train, test) in enumerate(folds(args.folds, data, args.seed), start=1):
            train_file = Path(tmp) / "train.yml"
            RasaYAMLWriter().dump(train_file, train)
            started = time.perf_counter()
            model = train_nlu(
                str(args.config), str(train_file), str(Path(tmp) / "models"), fixed_model_name=f"fold{index}"
            )
            train_seconds = time.perf_counter() - started
            processor = Agent.load(model).processor
            intents, responses, entities = await nlu_test.get_eval_data(processor, test)
            intents = nlu_test.remove_empty_intent_examples(intents)
            responses = nlu_test.remove_empty_response_examples(responses)
            fold = {
                "fold": index,
                "train_examples": len(train.intent_examples),
                "test_examples": len(test.intent_examples),
                "intent_macro_f1": round(
                    macro_f1([r.intent_target for r in intents], [r.intent_prediction for r in intents]), 4
                ),
                "faq_macro_f1": round(
                    macro_f1(
                        [r.intent_response_key_target for r in responses],
                        [str(r.intent_response_key_prediction) for r in responses],
                    ),
                    4,
                )
                if responses
                else None,
                "train_seconds": round(train_seconds, 1),
            }
            print(
                f"fold {index}/{args.folds}: intent macro-F1 {fold['intent_macro_f1']:.3f}, "
                f"FAQ macro-F1 {fold['faq_macro_f1']}, trained in {train_seconds:.0f} s",
                flush=True,
            )
            per_fold.append(fold)
            intent_results += intents
            response_results += responses
            entity_results += entities

    # Rasa's own reports and plots over the accumulated test folds (as the CLI writes them).
    nlu_test.evaluate_intents(intent_results, str(out), False, True, False, report_as_dict=True)
    if response_results:
        nlu_test.evaluate_response_selections(response_results, str(out), False, True, False, report_as_dict=True)
    if entity_results:
        extractors = nlu_test._get_active_entity_extractors(entity_results)
        nlu_test.evaluate_entities(entity_results, extractors, str(out), False, True, False, report_as_dict=True)

    def stats(key: str) -> dict | None:
        values = [fold[key] for fold in per_fold if fold[key] is not None]
        if not values:
            return None
        return {
            "mean": round(statistics.mean(values), 4),
            "stdev": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
        }

    summary = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": str(args.config),
        "data": str(args.nlu),
        "folds": args.folds,
        "seed": args.seed,
        "examples": len(data.intent_examples),
        "per_fold": per_fold,
        "intent_macro_f1": stats("intent_macro_f1"),
        "faq_macro_f1": stats("faq_macro_f1"),
        "pooled_intent_macro_f1": round(
            macro_f1([r.intent_target for r in intent_results], [r.intent_prediction for r in intent_results]), 4
        ),
        "pooled_faq_macro_f1": round(
            macro_f1(
                [r.intent_response_key_target for r in response_results],
                [str(r.intent_response_key_prediction) for r in response_results],
            ),
            4,
        )
        if response_results
        else None,
    }
    (out / "cv_summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def weakest(report_path: Path, count: int) -> list[tuple[str, float, int]]:
    report = json.loads(report_path.read_text(encoding="utf-8"))
    rows = [
        (name, row["f1-score"], row["support"])
        for name, row in report.items()
        if isinstance(row, dict) and "f1-score" in row and not name.endswith(" avg") and row.get("support", 0) > 0
    ]
    return sorted(rows, key=lambda r: r[1])[:count]


def copy_png(source: Path, target: Path, max_side: int) -> None:
    """Committed copy, downscaled so the repository does not carry a multi-megabyte plot."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.thumbnail((max_side, max_side))
        image.convert("P", palette=Image.ADAPTIVE, colors=128).save(target, optimize=True)


def write_doc(summary: dict, out: Path, doc: Path, png: Path, seconds: float) -> None:
    rel_png = os.path.relpath(png, doc.parent)
    lines = [
        "# NLU cross-validation (5 folds)",
        "",
        f"Written by `scripts/nlu_cv.sh` on {summary['generated_at']} ({seconds / 60:.0f} min on the shared",
        "2-core machine). Do not edit by hand: run `./mobilis nlu-cv` again.",
        "",
        f"- Data: `{summary['data']}` (exported FAQ questions included), {summary['examples']} examples; "
        f"config `{summary['config']}`.",
        f"- {summary['folds']} folds stratified by intent and by FAQ entry (`faq/<id>`), seed {summary['seed']}:",
        "  each fold trains on 4/5 of the examples and is scored on the remaining 1/5.",
        "- Intent macro-F1: mean F1 over the intents present (the FAQ counts as one intent `faq`), as in",
        "  the gate (`scripts/nlu_gate.py`). FAQ macro-F1: response selector over the `faq/<id>` entries.",
        "",
        "| Fold | Test examples | Intent macro-F1 | FAQ macro-F1 | Training (s) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for fold in summary["per_fold"]:
        faq = "–" if fold["faq_macro_f1"] is None else f"{fold['faq_macro_f1']:.3f}"
        lines.append(
            f"| {fold['fold']} | {fold['test_examples']} | {fold['intent_macro_f1']:.3f} | {faq} | "
            f"{fold['train_seconds']:.0f} |"
        )
    intent, faq = summary["intent_macro_f1"], summary["faq_macro_f1"]
    faq_cell = "–" if faq is None else f"**{faq['mean']:.3f}** ± {faq['stdev']:.3f}"
    lines += [f"| **mean** ± stdev | | **{intent['mean']:.3f}** ± {intent['stdev']:.3f} | {faq_cell} | |", ""]
    lines += [
        "Weakest intents (all folds pooled, F1 and examples): "
        + ", ".join(f"`{name}` {f1:.2f} ({support})" for name, f1, support in weakest(out / "intent_report.json", 5))
        + "."
    ]
    if (out / "response_selection_report.json").exists():
        lines += [
            "",
            "Weakest FAQ entries: "
            + ", ".join(
                f"`{name}` {f1:.2f} ({support})"
                for name, f1, support in weakest(out / "response_selection_report.json", 5)
            )
            + ".",
        ]
    lines += [
        "",
        "Cross-validation measures how consistent the training data is (every example is predicted by a",
        "model that did not see it); it does not replace the held-out file `nlu/tests/nlu_heldout.yml`,",
        "written the way subscribers type (see `docs/nlu-quality.md`).",
        "",
        "## Intent confusion matrix (all folds pooled)",
        "",
        f"![Intent confusion matrix, 5-fold cross-validation]({rel_png})",
        "",
        f"Full reports (not committed): `{out}/` (`intent_report.json`, `response_selection_report.json`,",
        "`intent_errors.json`, `cv_summary.json`, confusion matrices as PNG).",
        "",
    ]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--config", type=Path, default=Path("nlu/config.yml"))
    parser.add_argument("--nlu", type=Path, default=Path("nlu/data"))
    parser.add_argument("--domain", type=Path, default=Path("nlu/domain.yml"))
    parser.add_argument("--out", type=Path, default=Path("results/nlu-cv"))
    parser.add_argument(
        "--doc", type=Path, default=None, help="markdown summary to write (e.g. docs/nlu-cross-validation.md)"
    )
    parser.add_argument(
        "--png",
        type=Path,
        default=Path("docs/img/nlu-cv-confusion.png"),
        help="committed, downscaled copy of the intent confusion matrix (with --doc)",
    )
    parser.add_argument("--png-max-side", type=int, default=1400)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    summary = asyncio.run(run(args))
    seconds = time.perf_counter() - started
    intent, faq = summary["intent_macro_f1"], summary["faq_macro_f1"]
    print(
        f"intent macro-F1 mean {intent['mean']:.3f} ± {intent['stdev']:.3f}"
        + (f"; FAQ macro-F1 mean {faq['mean']:.3f} ± {faq['stdev']:.3f}" if faq else "")
        + f"; {seconds / 60:.1f} min; reports in {args.out}/"
    )
    if args.doc:
        matrix = args.out / "intent_confusion_matrix.png"
        if not matrix.exists():
            print(f"{matrix} was not written (plotting failed?)", file=sys.stderr)
            return 1
        copy_png(matrix, args.png, args.png_max_side)
        write_doc(summary, args.out, args.doc, args.png, seconds)
        print(f"wrote {args.doc} and {args.png} ({args.png.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
