"""scripts/nlu_gate.py: the held-out thresholds really fail the build."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("nlu_gate", ROOT / "scripts" / "nlu_gate.py")
nlu_gate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nlu_gate)


def row(f1: float, support: int = 16) -> dict:
    return {"precision": f1, "recall": f1, "f1-score": f1, "support": support, "confused_with": {}}


def report(**intents) -> dict:
    data = dict(intents)
    # summary rows that must be ignored (deliberately misleading values)
    data["accuracy"] = 1.0
    data["macro avg"] = row(1.0, 999)
    data["weighted avg"] = row(1.0, 999)
    data["micro avg"] = row(1.0, 999)
    return data


def run(tmp_path: Path, data, *args: str) -> int:
    path = tmp_path / "intent_report.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return nlu_gate.main([str(path), *args])


def test_passes_when_every_intent_is_good(tmp_path, capsys):
    assert run(tmp_path, report(greet=row(1.0), show_balance=row(0.95), help=row(0.90))) == 0
    out = capsys.readouterr().out
    assert "macro-F1 (3 intents)" in out and "0.950" in out and "OK" in out


def test_fails_on_low_macro_even_if_the_avg_row_says_otherwise(tmp_path, capsys):
    assert run(tmp_path, report(greet=row(0.90), help=row(0.90), thanks=row(0.92))) == 1
    assert "macro-F1 0.907 < 0.93" in capsys.readouterr().out


def test_fails_on_one_weak_intent(tmp_path, capsys):
    intents = {f"i{n}": row(1.0) for n in range(20)} | {"out_of_scope": row(0.79)}
    assert run(tmp_path, report(**intents)) == 1
    out = capsys.readouterr().out
    assert "intent out_of_scope: F1 0.790 < 0.80" in out
    assert out.index("out_of_scope") < out.index("i0")  # worst first


def test_prediction_only_labels_are_listed_not_gated(tmp_path, capsys):
    assert run(tmp_path, report(greet=row(1.0), help=row(0.96), nlu_fallback=row(0.0, support=0))) == 0
    assert "not gated" in capsys.readouterr().out


def test_thresholds_are_configurable(tmp_path):
    assert run(tmp_path, report(greet=row(0.85)), "--macro", "0.8", "--min-intent", "0.8") == 0


def test_missing_report_is_an_error(tmp_path):
    assert nlu_gate.main([str(tmp_path / "nope.json")]) == 2
