"""The held-out files (nlu/tests/nlu_heldout*.yml, and the English nlu/tests/en/) stay real
held-out sets: big enough per label, never a copy of their model's training data.

A held-out line equal to a training question (ignoring case, accents, punctuation and spacing)
would measure memorisation, not understanding; fewer than 15 lines per label makes one error
cost more than 6 F1 points and the gate noisy.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The first French file was written beside the training data; the others blind, without reading it.
# (held-out file, training data folder of its model, FAQ questions field)
HELDOUT_FILES = [
    (ROOT / "nlu" / "tests" / "nlu_heldout.yml", "nlu/data", "questions"),
    (ROOT / "nlu" / "tests" / "nlu_heldout_blind.yml", "nlu/data", "questions"),
    (ROOT / "nlu" / "tests" / "en" / "nlu_heldout_blind.yml", "nlu/en/data", "questions_en"),
]
MIN_PER_LABEL = 15
ENTITY = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def normalise(text: str) -> str:
    text = ENTITY.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w+#*]+", " ", text).split())


def examples_by_label(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    labels: dict[str, list[str]] = {}
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        lines = [line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")]
        labels.setdefault(block["intent"], []).extend(lines)
    return labels


def faq_questions(field: str = "questions") -> dict[str, list[str]]:
    entries = {}
    for path in sorted((ROOT / "faq").glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            entries[entry["id"]] = [str(q) for q in entry.get(field) or []]
    return entries


def training_intents(folder: str = "nlu/data") -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for path in sorted((ROOT / folder).glob("nlu_*.yml")):
        for name, lines in examples_by_label(path).items():
            labels.setdefault(name, []).extend(lines)
    return labels


class HeldOut(dict):
    """A held-out file's lines by label, with where its model's training data is."""

    data: str
    faq_field: str


@pytest.fixture(
    scope="module", params=HELDOUT_FILES, ids=lambda p: str(p[0].relative_to(ROOT / "nlu" / "tests")) if p else ""
)
def heldout(request) -> HeldOut:
    path, data, faq_field = request.param
    found = HeldOut(examples_by_label(path))
    found.data, found.faq_field = data, faq_field
    return found


def test_every_intent_has_enough_heldout_lines(heldout):
    short = {
        name: len(heldout.get(name, []))
        for name in training_intents(heldout.data)
        if len(heldout.get(name, [])) < MIN_PER_LABEL
    }
    assert not short, f"intents with fewer than {MIN_PER_LABEL} held-out lines: {short}"


def test_every_faq_entry_has_enough_heldout_lines(heldout):
    short = {
        entry: len(heldout.get(f"faq/{entry}", []))
        for entry in faq_questions()
        if len(heldout.get(f"faq/{entry}", [])) < MIN_PER_LABEL
    }
    assert not short, f"FAQ entries with fewer than {MIN_PER_LABEL} held-out lines: {short}"


def test_heldout_labels_all_exist(heldout):
    known = set(training_intents(heldout.data)) | {f"faq/{entry}" for entry in faq_questions()}
    assert not set(heldout) - known, f"held-out labels unknown to the training data: {set(heldout) - known}"


def test_no_heldout_line_is_a_training_line(heldout):
    training: dict[str, str] = {}
    for entry, questions in faq_questions(heldout.faq_field).items():
        training.update({normalise(q): f"faq/{entry} (faq/)" for q in questions})
    for path in sorted((ROOT / heldout.data).glob("*.yml")):  # faq.yml too when exported
        for name, lines in examples_by_label(path).items():
            training.update({normalise(line): f"{name} ({path.name})" for line in lines})
    copies = [
        f"{label}: {line!r} == training {training[normalise(line)]}"
        for label, lines in heldout.items()
        for line in lines
        if normalise(line) in training
    ]
    assert not copies, "held-out lines copied from training data:\n" + "\n".join(copies)


def test_no_heldout_line_under_two_labels(heldout):
    seen: dict[str, str] = {}
    clashes = []
    for label, lines in heldout.items():
        for line in lines:
            key = normalise(line)
            if key in seen and seen[key] != label:
                clashes.append(f"{line!r}: {seen[key]} and {label}")
            seen.setdefault(key, label)
    assert not clashes, "held-out lines under two labels:\n" + "\n".join(clashes)


def test_normalise_catches_near_verbatim_copies():
    # the check above must not be fooled by case, accents, apostrophes or entity markup
    assert normalise("J'ai oublié mon PIN !") == normalise("j ai oublie mon pin")
    assert normalise("mes [imd](product_type) de [mars](month)") == "mes imd de mars"
    assert normalise("code pin") != normalise("code puk")
