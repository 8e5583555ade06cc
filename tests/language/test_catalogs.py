"""Every French text users read has its English translation, with the same placeholders; the
formats follow the turn's language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import extract_from_dir

from bot.services import fr_format as fmt
from bot.services.i18n import LOCALE_DIR, N_, _, catalog, current_language, ngettext, speaking

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "actions")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")


def marked_texts() -> dict[object, str]:
    """msgid → where it is marked, for every text of the code marked for translation."""
    found: dict[object, str] = {}
    for folder in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.setdefault(message, f"{folder}/{filename}:{lineno}")
    return found


def domain_texts() -> dict[object, str]:
    """The texts and chip titles of the Rasa domain's responses (translated by the webhook)."""
    domain = yaml.safe_load((ROOT / "nlu" / "domain.yml").read_text(encoding="utf-8"))
    found: dict[object, str] = {}
    for name, variants in domain["responses"].items():
        for variant in variants:
            for text in [variant.get("text"), *(b["title"] for b in variant.get("buttons") or [])]:
                if text:
                    found.setdefault(text, f"nlu/domain.yml: {name}")
    return found


def test_every_marked_text_has_its_english_translation():
    english = catalog("en")
    texts = {**marked_texts(), **domain_texts()}
    missing = [f"{where}: {msgid!r}" for msgid, where in texts.items() if msgid not in english]
    assert not missing, f"{len(missing)} text(s) without English (bot/locale/en/*.po):\n" + "\n".join(missing)


def test_translations_keep_the_placeholders():
    wrong = []
    for msgid, translated in catalog("en").items():
        pairs = zip(msgid, translated, strict=False) if isinstance(msgid, tuple) else [(msgid, translated)]
        for french, english in pairs:
            if sorted(PLACEHOLDER.findall(str(french))) != sorted(PLACEHOLDER.findall(str(english))):
                wrong.append(f"{french!r} → {english!r}")
    assert not wrong, "\n".join(wrong)


def test_the_catalog_files_are_where_the_loader_reads_them():
    assert LOCALE_DIR == ROOT / "bot" / "locale"


def test_texts_follow_the_turn_language():
    assert current_language() == "fr" and _("Bonjour") == "Bonjour"
    assert N_("texte") == "texte"
    with speaking("en"):
        assert current_language() == "en"
        assert _("une phrase que personne n'a traduite") == "une phrase que personne n'a traduite"
        assert ngettext("jour", "jours", 1) == "jour" and ngettext("jour", "jours", 0) == "jours"
    with speaking("xx"):
        assert current_language() == "fr"  # unknown: French
    assert ngettext("jour", "jours", 0) == "jour"  # French: 0 takes the singular


@pytest.mark.parametrize(
    "call, french, english",
    [
        (lambda: fmt.xpf(1050), "1 050 F", "1,050 XPF"),
        (lambda: fmt.xpf(-20000), "-20 000 F", "-20,000 XPF"),
        (lambda: fmt.date_fr(date(2026, 12, 12)), "12/12/2026", "12 Dec 2026"),
        (lambda: fmt.short_date_fr(date(2026, 3, 5)), "05/03", "5 Mar"),
        (
            lambda: fmt.datetime_fr(datetime(2026, 12, 12, 3, 5, tzinfo=UTC)),
            "12/12/2026 à 14:05",
            "12 Dec 2026, 14:05",
        ),
        (lambda: fmt.data_volume(500), "500 Mo", "500 MB"),
        (lambda: fmt.data_volume(1536), "1,5 Go", "1.5 GB"),
        (lambda: fmt.data_volume(10240), "10 Go", "10 GB"),
        (lambda: fmt.plural(0, "jour"), "0 jour", "0 jours"),
        (lambda: fmt.month_fr(8, 2026), "août 2026", "August 2026"),
        (lambda: fmt.de("avril"), "d'avril", "avril"),
        (lambda: fmt.days_left_fr(5), "dans 5 jours", "in 5 days"),
        (lambda: fmt.family_fr("forfait_m"), "forfait M", "M plan (forfait M)"),
    ],
)
def test_formats_in_both_languages(call, french, english):
    assert call() == french
    with speaking("en"):
        assert call() == english


def test_one_french_text_has_one_english_translation_across_the_catalogs():
    from babel.messages.pofile import read_po

    seen: dict[object, tuple[str, object]] = {}
    clashes = []
    for path in sorted(LOCALE_DIR.glob("en/*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.id in seen and seen[message.id][1] != message.string:
                    clashes.append(f"{message.id!r}: {seen[message.id]} vs {path.name} {message.string!r}")
                if message.id:
                    seen.setdefault(message.id, (path.name, message.string))
    assert not clashes, "\n".join(clashes)
