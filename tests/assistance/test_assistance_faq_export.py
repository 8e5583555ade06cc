"""bot.tools.faq_export: valid Rasa 3.1 data, deterministic, independent of the answers' text."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from assistance_helpers import FAQ_DIR, ROOT

from bot.services.assistance.faq import load_faq
from bot.tools.faq_export import PLACEHOLDER, export, main, render_combined


def run_export(faq_dir, out: Path, responses: Path | None = None) -> bytes:
    result = export(faq_dir, out, responses)
    assert result.problems == []
    return out.read_bytes()


def test_output_is_valid_rasa_training_data(tmp_path):
    data = yaml.safe_load(run_export(FAQ_DIR, tmp_path / "faq.yml"))
    assert data["version"] == "3.1"
    entries = load_faq(FAQ_DIR)
    intents = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert set(intents) == {f"faq/{i}" for i in entries}
    for entry_id, entry in entries.items():
        examples = [line[2:] for line in intents[f"faq/{entry_id}"].splitlines()]
        assert sorted(examples) == sorted(entry.questions)
    assert set(data["responses"]) == {f"utter_faq/{i}" for i in entries}
    assert all(r == [{"text": PLACEHOLDER}] for r in data["responses"].values())


def test_separate_responses_file(tmp_path):
    run_export(FAQ_DIR, tmp_path / "nlu.yml", tmp_path / "responses.yml")
    nlu = yaml.safe_load((tmp_path / "nlu.yml").read_text(encoding="utf-8"))
    responses = yaml.safe_load((tmp_path / "responses.yml").read_text(encoding="utf-8"))
    assert "responses" not in nlu and "nlu" not in responses
    assert responses["version"] == "3.1" and len(responses["responses"]) == len(nlu["nlu"])


def test_deterministic_and_independent_of_file_and_question_order(tmp_path, faq_copy):
    first = run_export(FAQ_DIR, tmp_path / "a.yml")
    assert run_export(FAQ_DIR, tmp_path / "b.yml") == first
    # Same content, other order: entries reversed and questions reversed.
    path = faq_copy / "carte_sim.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for item in data:
        item["questions"].reverse()
    path.write_text(yaml.safe_dump(list(reversed(data)), allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert run_export(faq_copy, tmp_path / "c.yml") == first


def test_answer_edit_changes_nothing_but_question_edit_does(tmp_path, faq_copy):
    first = run_export(faq_copy, tmp_path / "a.yml")
    path = faq_copy / "recharge.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Pour recharger une ligne", "Pour recharger facilement une ligne"),
        encoding="utf-8",
    )
    assert run_export(faq_copy, tmp_path / "b.yml") == first  # no retraining needed
    path.write_text(
        path.read_text(encoding="utf-8").replace("- comment recharger\n", "- comment je recharge\n"), encoding="utf-8"
    )
    assert run_export(faq_copy, tmp_path / "c.yml") != first


def test_unchanged_output_is_not_rewritten(tmp_path):
    out = tmp_path / "faq.yml"
    run_export(FAQ_DIR, out)
    os.utime(out, ns=(0, 0))
    run_export(FAQ_DIR, out)
    assert out.stat().st_mtime_ns == 0


def test_refuses_to_export_broken_faq(tmp_path, faq_copy, capsys):
    (faq_copy / "recharge.yml").write_text("- id: [\n", encoding="utf-8")
    out = tmp_path / "faq.yml"
    assert main(["--faq-dir", str(faq_copy), "--nlu", str(out)]) == 1
    assert not out.exists()
    assert "recharge.yml:" in capsys.readouterr().err


def test_tricky_question_text_survives(tmp_path, write_faq):
    questions = ["c'est quoi le #PUK", "- tiret au debut", "prix: 1 000 F ?", "  espaces  ", "question 5", "question 6"]
    write_faq(
        "sim.yml",
        "- id: x\n  category: sim\n  questions:\n"
        + "".join(f"    - {json.dumps(q, ensure_ascii=False)}\n" for q in questions)
        + "  answer: ok\n  reviewed: 2026-11-27\n",
    )
    data = yaml.safe_load(run_export(write_faq.folder, tmp_path / "faq.yml"))
    examples = [line[2:] for line in data["nlu"][0]["examples"].splitlines()]
    assert sorted(examples) == sorted(" ".join(q.split()) for q in questions)


def test_cli_default_paths_point_into_nlu_data():
    from bot.tools import faq_export

    assert faq_export.DEFAULT_NLU == ROOT / "nlu" / "data" / "faq.yml"


def _rasa_python() -> Path | None:
    rasa_bin = os.environ.get("MOBILIS_RASA_BIN") or "/tmp/probe/rasa-venv/bin/rasa"
    python = Path(rasa_bin).parent / "python"
    return python if python.exists() else None


@pytest.mark.skipif(_rasa_python() is None, reason="Rasa environment not installed")
def test_rasa_reads_the_export_as_retrieval_intent(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "faq.yml").write_text(render_combined(load_faq(FAQ_DIR)), encoding="utf-8")
    (tmp_path / "domain.yml").write_text(
        'version: "3.1"\nintents:\n  - faq\nactions:\n  - action_answer_faq\n', encoding="utf-8"
    )
    (tmp_path / "config.yml").write_text(
        "recipe: default.v1\nassistant_id: faqtest\nlanguage: fr\npipeline:\n"
        "  - name: WhitespaceTokenizer\n  - name: ResponseSelector\n    retrieval_intent: faq\n"
        "policies:\n  - name: RulePolicy\n",
        encoding="utf-8",
    )
    script = (
        "from rasa.shared.importers.importer import TrainingDataImporter as T\n"
        f"i = T.load_from_config({str(tmp_path / 'config.yml')!r}, "
        f"domain_path={str(tmp_path / 'domain.yml')!r}, "
        f"training_data_paths=[{str(data_dir)!r}])\n"
        "d, n = i.get_domain(), i.get_nlu_data()\n"
        "print(sorted(n.retrieval_intents), len(n.intent_examples), "
        "len([r for r in d.responses if r.startswith('utter_faq/')]))\n"
    )
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    done = subprocess.run(
        [str(_rasa_python()), "-c", script], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    entries = load_faq(FAQ_DIR)
    questions = sum(len(e.questions) for e in entries.values())
    assert done.stdout.strip().splitlines()[-1] == f"['faq'] {questions} {len(entries)}"


def test_the_english_export_holds_the_english_questions_only(tmp_path, write_faq):
    french = "".join(f"    - question {n}\n" for n in range(6))
    write_faq(
        "sim.yml",
        "- id: with_english\n  category: sim\n  questions:\n"
        + french
        + "  questions_en:\n"
        + "".join(f"    - english question {n}\n" for n in range(6))
        + "  answer: ok\n  answer_en: ok\n  reviewed: 2026-11-27\n"
        "- id: french_only\n  category: sim\n  questions:\n"
        + french.replace("question", "autre")
        + "  answer: ok\n  reviewed: 2026-11-27\n",
    )
    out = tmp_path / "faq_en.yml"
    assert main(["--faq-dir", str(write_faq.folder), "--nlu", str(out), "--language", "en"]) == 0
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    examples = "".join(f"- english question {n}\n" for n in range(6))
    assert data["nlu"] == [{"intent": "faq/with_english", "examples": examples}]
    assert set(data["responses"]) == {"utter_faq/with_english", "utter_faq/french_only"}
