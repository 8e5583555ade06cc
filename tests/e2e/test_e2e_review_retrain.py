"""The end of the editors' loop: a misunderstood message, added from the review queue to a FAQ entry
(bot/services/assistance/faq_editing.py), is answered with that entry once the model is trained
again — the same steps as `./mobilis train` (FAQ export, then Rasa training on nlu/config.yml),
NLU only: the dialogue rules do not change with a FAQ question.

Slow (a few minutes of training): it runs in `./mobilis test`, which sets MOBILIS_RASA_BIN.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

from e2e_helpers import rasa_and_model
from test_e2e_backoffice_browser import MISUNDERSTOOD

from bot.services.assistance.faq_editing import add_questions
from bot.tools import faq_export

ROOT = Path(__file__).resolve().parents[2]
# Rasa imports our pipeline's last step (nlu/components) from the project; no telemetry.
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
PARSE = """
import asyncio, json, sys
from rasa.core.agent import Agent
agent = Agent.load(sys.argv[1])
parse = asyncio.run(agent.parse_message(sys.argv[2]))
selected = parse.get("response_selector", {}).get("faq", {}).get("response", {})
print(json.dumps({"intent": parse["intent"]["name"], "entry": selected.get("intent_response_key")}))
"""


def reading(rasa_bin: str, model: Path | str, text: str) -> dict:
    python = Path(rasa_bin).with_name("python")
    done = subprocess.run(
        [str(python), "-c", PARSE, str(model), text], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_question_added_from_the_queue_is_answered_after_training(tmp_path):
    rasa_bin, model = rasa_and_model()
    answered = {"intent": "faq", "entry": "faq/code_puk"}
    assert reading(rasa_bin, model, MISUNDERSTOOD) != answered, "today's model answers it: pick another message"

    faq_dir, data = tmp_path / "faq", tmp_path / "nlu"
    shutil.copytree(ROOT / "faq", faq_dir)
    data.mkdir()
    add_questions(faq_dir, "code_puk", [MISUNDERSTOOD], date.today())
    for source in sorted((ROOT / "nlu" / "data").glob("nlu_*.yml")):
        shutil.copy(source, data / source.name)
    faq_export.main(["--faq-dir", str(faq_dir), "--nlu", str(data / "faq.yml")])

    trained = subprocess.run(
        [
            rasa_bin,
            "train",
            "nlu",
            "--config",
            "nlu/config.yml",
            "--nlu",
            str(data),
            "--out",
            str(tmp_path),
            "--fixed-model-name",
            "retrained",
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    assert reading(rasa_bin, tmp_path / "retrained.tar.gz", MISUNDERSTOOD) == answered
