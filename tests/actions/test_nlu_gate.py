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


# ---- FAQ entries (response_selection_report.json, --responses)


def run_both(tmp_path: Path, intents: dict, responses: dict | None, *args: str) -> int:
    intent_path = tmp_path / "intent_report.json"
    intent_path.write_text(json.dumps(intents), encoding="utf-8")
    extra: list[str] = []
    if responses is not None:
        response_path = tmp_path / "response_selection_report.json"
        response_path.write_text(json.dumps(responses), encoding="utf-8")
        extra = ["--responses", str(response_path)]
    return nlu_gate.main([str(intent_path), *extra, *args])


GOOD_INTENTS = report(greet=row(1.0), faq=row(0.97, 500))


def faq(**entries) -> dict:
    return report(**{f"faq/{name}": value for name, value in entries.items()})


def test_faq_entries_pass_and_are_printed(tmp_path, capsys):
    assert run_both(tmp_path, GOOD_INTENTS, faq(code_puk=row(1.0), roaming=row(0.94), arret_2g=row(0.91))) == 0
    out = capsys.readouterr().out
    assert "FAQ entry" in out and "faq/roaming" in out and "macro-F1 (3 FAQ entries)" in out
    assert out.index("intent") < out.index("faq/roaming")  # intent table first


def test_faq_low_macro_fails_even_when_intents_pass(tmp_path, capsys):
    assert run_both(tmp_path, GOOD_INTENTS, faq(code_puk=row(0.90), roaming=row(0.92))) == 1
    assert "macro-F1 0.910 < 0.93" in capsys.readouterr().out


def test_one_weak_faq_entry_fails(tmp_path, capsys):
    entries = {f"e{n}": row(1.0) for n in range(30)} | {"localiser_telephone": row(0.75)}
    assert run_both(tmp_path, GOOD_INTENTS, faq(**entries)) == 1
    assert "FAQ entry faq/localiser_telephone: F1 0.750 < 0.80" in capsys.readouterr().out


def test_faq_thresholds_are_configurable(tmp_path):
    weak = faq(code_puk=row(0.85), roaming=row(0.75))
    assert run_both(tmp_path, GOOD_INTENTS, weak) == 1
    assert run_both(tmp_path, GOOD_INTENTS, weak, "--faq-macro", "0.8", "--min-faq", "0.7") == 0


def test_failing_intents_still_fail_with_good_faq(tmp_path):
    assert run_both(tmp_path, report(greet=row(0.5)), faq(code_puk=row(1.0), roaming=row(1.0))) == 1


def test_faq_report_without_entries_fails(tmp_path, capsys):
    assert run_both(tmp_path, GOOD_INTENTS, report()) == 1
    assert "no FAQ entry with support > 0" in capsys.readouterr().out


def test_missing_faq_report_is_an_error(tmp_path):
    path = tmp_path / "intent_report.json"
    path.write_text(json.dumps(GOOD_INTENTS), encoding="utf-8")
    assert nlu_gate.main([str(path), "--responses", str(tmp_path / "nope.json")]) == 2


def test_without_responses_the_faq_gate_is_off(tmp_path, capsys):
    # backward compatible: the old command line only gates intents
    assert run_both(tmp_path, GOOD_INTENTS, None) == 0
    assert "FAQ entry" not in capsys.readouterr().out


# ---- scripts/nlu_compare.py scoring: same macro-F1 definition as the gate, fallback undone

compare_spec = importlib.util.spec_from_file_location("nlu_compare", ROOT / "scripts" / "nlu_compare.py")
nlu_compare = importlib.util.module_from_spec(compare_spec)
compare_spec.loader.exec_module(nlu_compare)


def test_compare_macro_f1_ignores_prediction_only_labels():
    targets = ["greet", "greet", "help", "help"]
    predictions = ["greet", "nlu_fallback", "help", "help"]
    # greet F1 = 2/3, help F1 = 1.0 (precision 1, recall 1); nlu_fallback is not averaged in
    assert abs(nlu_compare.macro_f1(targets, predictions) - (2 / 3 + 1.0) / 2) < 1e-9


def test_compare_undoes_the_fallback_like_rasa_test():
    parse = {
        "intent": {"name": "nlu_fallback", "confidence": 0.55},
        "intent_ranking": [{"name": "nlu_fallback"}, {"name": "show_balance"}, {"name": "buy"}],
    }
    assert nlu_compare.predicted_intent(parse) == "show_balance"
    assert nlu_compare.predicted_intent({"intent": {"name": "buy"}, "intent_ranking": []}) == "buy"


def test_compare_reads_the_selected_faq_entry():
    parse = {"response_selector": {"faq": {"response": {"intent_response_key": "faq/code_puk"}}}}
    assert nlu_compare.predicted_faq_key(parse) == "faq/code_puk"
    assert nlu_compare.predicted_faq_key({}) is None
    default = {"response_selector": {"default": {"response": {"intent_response_key": "faq/roaming"}}}}
    assert nlu_compare.predicted_faq_key(default) == "faq/roaming"  # selector without retrieval_intent


def test_compare_keeps_a_trial_only_for_a_clear_cheap_gain():
    def heldouts(first, second):
        return {"nlu_heldout": {"intent_macro_f1": first}, "nlu_heldout_blind": {"intent_macro_f1": second}}

    ours = {
        "intent_macro_f1": 0.95,
        "heldout": heldouts(0.95, 0.90),
        "train_seconds": 200.0,
        "infer_ms_median": 10.0,
        "rss_mb": 900.0,
    }
    small_gain = dict(ours, heldout=heldouts(0.955, 0.90), train_seconds=260.0, infer_ms_median=20.0, rss_mb=1000.0)
    big_gain = dict(small_gain, heldout=heldouts(0.96, 0.92))
    too_slow = dict(big_gain, infer_ms_median=400.0)
    too_long_to_train = dict(big_gain, train_seconds=390.0)
    assert nlu_compare.decide_trial(small_gain, ours)[0] is False
    assert nlu_compare.decide_trial(big_gain, ours)[0] is True
    kept, why = nlu_compare.decide_trial(too_slow, ours)
    assert kept is False and "latency" in why
    kept, why = nlu_compare.decide_trial(too_long_to_train, ours)
    assert kept is False and "training" in why


def test_an_f1_printed_as_the_threshold_passes(tmp_path):
    # sklearn gives 2*(6/7)*(3/4)/(6/7+3/4) = 0.7999999999999999 for an F1 that is exactly 0.80
    exact = {"precision": 6 / 7, "recall": 0.75, "f1-score": 2 * (6 / 7) * 0.75 / (6 / 7 + 0.75), "support": 16}
    assert exact["f1-score"] < 0.8
    assert run(tmp_path, report(greet=row(1.0), help=exact), "--macro", "0.8") == 0
    assert run(tmp_path, report(greet=row(1.0), help=row(0.799)), "--macro", "0.8") == 1
