"""Editors' changes to faq/*.yml from the review queue: a few lines each, checked like
`./mobilis faq-check` before anything is written, then exported to the training data."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.services.assistance import faq_source
from bot.services.assistance.faq_editing import FaqEditError, add_entry, add_questions, yaml_text
from bot.tools import faq_export

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 4)


@pytest.fixture
def faq_dir(tmp_path):
    target = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", target)
    return target


def entry(faq_dir, entry_id):
    return faq_source.check_dir(faq_dir).entries[entry_id]


def test_questions_added_to_an_entry_are_the_only_lines_that_change(faq_dir):
    before = (faq_dir / "carte_sim.yml").read_text(encoding="utf-8")
    change = add_questions(faq_dir, "code_puk", ["mon tel veut 8 chiffres", "  ", "yes"], TODAY)
    after = (faq_dir / "carte_sim.yml").read_text(encoding="utf-8")
    added = [line for line in change.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    removed = [line for line in change.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert added == ["+    - mon tel veut 8 chiffres", '+    - "yes"', "+  reviewed: 2026-12-04"]
    assert len(removed) == 1 and removed[0].startswith("-  reviewed:")
    assert len(after.splitlines()) == len(before.splitlines()) + 2
    puk = entry(faq_dir, "code_puk")
    assert "mon tel veut 8 chiffres" in puk.questions and "yes" in puk.questions
    assert puk.reviewed == TODAY
    assert faq_source.check_dir(faq_dir).ok


def test_english_questions_go_to_questions_en(faq_dir):
    add_questions(faq_dir, "code_puk", ["phone asks 8 digit code"], TODAY, english=True)
    puk = entry(faq_dir, "code_puk")
    assert "phone asks 8 digit code" in puk.questions_en and "phone asks 8 digit code" not in puk.questions


def test_a_change_the_check_refuses_writes_nothing(faq_dir):
    before = {p.name: p.read_text(encoding="utf-8") for p in faq_dir.iterdir()}
    other_entry_question = entry(faq_dir, "code_pin").questions[0]
    with pytest.raises(FaqEditError) as refused:
        add_questions(faq_dir, "code_puk", [other_entry_question], TODAY)
    assert any("question" in p.lower() for p in refused.value.problems)
    with pytest.raises(FaqEditError):
        add_questions(faq_dir, "no_such_entry", ["bonjour"], TODAY)
    with pytest.raises(FaqEditError):
        add_questions(faq_dir, "code_puk", ["   "], TODAY)
    assert {p.name: p.read_text(encoding="utf-8") for p in faq_dir.iterdir()} == before


def test_a_new_entry_needs_what_the_check_needs(faq_dir):
    questions = [
        "wifi bateau",
        "wifi paquebot",
        "internet sur le bateau",
        "wifi croisiere",
        "capter en mer",
        "reseau en mer",
    ]
    with pytest.raises(FaqEditError):  # 6 questions at least
        add_entry(faq_dir, "reseau", "wifi_bateau", "Wifi à bord", questions[:2], "Le wifi du navire.", TODAY)
    with pytest.raises(FaqEditError):
        add_entry(faq_dir, "reseau", "Wifi Bateau", "Wifi", questions, "Le wifi du navire.", TODAY)
    with pytest.raises(FaqEditError):
        add_entry(faq_dir, "nowhere", "wifi_bateau", "Wifi", questions, "Le wifi du navire.", TODAY)
    change = add_entry(
        faq_dir,
        "reseau",
        "wifi_bateau",
        "Wifi à bord",
        questions,
        "En mer, pas de réseau.\n\nLe wifi du navire.",
        TODAY,
    )
    created = entry(faq_dir, "wifi_bateau")
    assert (
        created.answer.strip() == "En mer, pas de réseau.\n\nLe wifi du navire."
        and list(created.questions) == questions
    )
    assert any("answer_en" in w for w in change.warnings)  # no English yet: a warning, not a refusal


def test_added_questions_reach_the_training_data(faq_dir, tmp_path):
    add_questions(faq_dir, "code_puk", ["mon bigo me demande un code a 8 chiffres"], TODAY)
    out = tmp_path / "faq_nlu.yml"
    faq_export.main(["--faq-dir", str(faq_dir), "--nlu", str(out)])
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    puk = next(item for item in exported["nlu"] if item["intent"] == "faq/code_puk")
    assert "- mon bigo me demande un code a 8 chiffres" in puk["examples"].splitlines()


@pytest.mark.parametrize("text", ["yes", "non", "oui", "on", "123", "1.5", "- tiret", "a: b", "x #y", "[crochet"])
def test_texts_that_plain_yaml_would_misread_are_quoted(text):
    assert yaml.safe_load(f"- {yaml_text(text)}") == [text]
