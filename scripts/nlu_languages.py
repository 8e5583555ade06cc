#!/usr/bin/env python3
"""English for visitors: one model per language, or one bilingual model? Measured (docs/english.md).

Run with the rasa environment from the project root (the FAQ exports are made by the app
environment first: `./mobilis nlu-languages` does both):

    .venv/rasa/bin/python scripts/nlu_languages.py [--out results/bench/nlu_languages.json] [--work DIR]

Trains, one at a time (2 cores), NLU-only models with our pipeline (nlu/config.yml):
- `french`    nlu/data (+ the French FAQ export): the model in production today;
- `english`   nlu/en/data (+ the English FAQ export), language "en" (nlu/en/config.yml);
- `bilingual` both data sets and both FAQ question sets, one model.
Each is measured in a fresh process (scripts/nlu_compare.py `measure`: macro-F1 of intents and of
FAQ entries, parse time, resident memory) on the French held-out files and the English one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nlu_compare import run_measure

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
FRENCH_HELDOUT = ["nlu/tests/nlu_heldout.yml", "nlu/tests/nlu_heldout_blind.yml"]
ENGLISH_HELDOUT = ["nlu/tests/en/nlu_heldout_blind.yml"]
MODELS = {
    "french": ("nlu/config.yml", ["nlu/data"], FRENCH_HELDOUT),
    "english": ("nlu/en/config.yml", ["nlu/en/data", "work:faq_en.yml"], ENGLISH_HELDOUT),
    "bilingual": ("nlu/config.yml", ["nlu/data", "nlu/en/data", "work:faq_en.yml"], FRENCH_HELDOUT + ENGLISH_HELDOUT),
}


def data_folder(name: str, sources: list[str], work: Path) -> Path:
    """One folder with every NLU file of the model (rules and stories are not needed for NLU)."""
    folder = work / f"{name}-data"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for source in sources:
        if source.startswith("work:"):
            shutil.copy(work / source.removeprefix("work:"), folder / f"{name}-{source.removeprefix('work:')}")
            continue
        prefix = source.replace("/", "_")
        for path in sorted((ROOT / source).glob("*.yml")):
            if path.name not in ("rules.yml", "stories.yml"):
                shutil.copy(path, folder / f"{prefix}_{path.name}")
    return folder


def train(name: str, config: str, data: Path, work: Path) -> tuple[str, float]:
    log = work / f"{name}.train.log"
    started = time.perf_counter()
    with log.open("w") as handle:
        result = subprocess.run(
            [str(Path(sys.executable).with_name("rasa")), "train", "nlu", "--config", config, "--nlu", str(data)]
            + ["--out", str(work / name), "--fixed-model-name", name],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=ENV,
        )
    if result.returncode != 0:
        raise RuntimeError(f"training {name} failed, see {log}")
    return str(work / name / f"{name}.tar.gz"), time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/bench/nlu_languages.json")
    parser.add_argument("--work", default="/tmp/nlu-languages")
    parser.add_argument("--only", default=",".join(MODELS))
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "faq_en.yml").exists():
        raise SystemExit(
            f"{work}/faq_en.yml missing: python -m bot.tools.faq_export --language en --nlu {work}/faq_en.yml"
        )
    rows = []
    for name in args.only.split(","):
        config, sources, heldouts = MODELS[name]
        model, seconds = train(name, config, data_folder(name, sources, work), work)
        row = {"name": name, "config": config, "data": sources, "train_seconds": round(seconds, 1), "heldout": {}}
        for heldout in heldouts:
            measured = run_measure(model, heldout, ENV)
            row["heldout"][heldout] = {k: measured[k] for k in ("intent_macro_f1", "faq_macro_f1", "examples")}
            row["infer_ms_median"], row["rss_mb"] = measured["infer_ms_median"], measured["rss_mb"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "models": rows}
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
