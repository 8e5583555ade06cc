"""The NLU pipeline's linear second reader (nlu/components/ngram_blend.py), trained, persisted,
loaded and applied through Rasa's own model storage, in the Rasa environment (a subprocess: the
application's environment has no Rasa)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def read_with_blend(diet_weight: float) -> dict:
    rasa_bin = os.environ.get("MOBILIS_RASA_BIN", "")
    if not rasa_bin or not Path(rasa_bin).exists():
        if os.environ.get("MOBILIS_REQUIRE_E2E") == "1":
            pytest.fail("MOBILIS_RASA_BIN not set: run ./mobilis test")
        pytest.skip("needs the Rasa environment (MOBILIS_RASA_BIN): run ./mobilis test")
    python = Path(rasa_bin).with_name("python")
    done = subprocess.run(
        [str(python), str(ROOT / "tests" / "nlu" / "ngram_blend_probe.py"), str(diet_weight)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def blended():
    return read_with_blend(0.5)


def test_the_linear_reader_overturns_a_hesitant_diet_and_the_faq_entry(blended):
    assert blended["intent"]["name"] == "faq"
    assert blended["ranking"][0]["name"] == "faq"
    assert blended["faq"]["response"]["intent_response_key"] == "faq/code_puk"
    assert blended["faq"]["response"]["utter_action"] == "utter_faq/code_puk"
    # the answer's text follows the chosen entry (kept from the training data's responses)
    assert blended["faq"]["response"]["responses"] == [{"text": "Le PUK…"}]
    assert blended["faq"]["ranking"][0]["intent_response_key"] == "faq/code_puk"


def test_confidences_stay_a_distribution_best_first(blended):
    confidences = [r["confidence"] for r in blended["ranking"]]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0, abs=0.01)
    assert blended["intent"]["confidence"] == pytest.approx(confidences[0])


def test_a_message_without_text_keeps_its_reading(blended):
    assert blended["payload_only"] == {"name": "affirm", "confidence": 1.0}


def test_with_all_the_weight_on_diet_the_reading_is_diets():
    diet_only = read_with_blend(1.0)

    assert diet_only["intent"]["name"] == "show_balance"
    assert diet_only["intent"]["confidence"] == pytest.approx(0.6)
    assert diet_only["faq"]["response"]["intent_response_key"] == "faq/roaming"
