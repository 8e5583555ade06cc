"""bot.services.assistance.faq: loading, live reload after an edit, replies within Messenger limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.services.assistance import faq_source
from bot.services.assistance.faq import answer_reply, load_faq, unknown_reply
from bot.services.assistance.faq_source import normalise_question


def bump_mtime(path: Path) -> None:
    """Make the change visible even on file systems with coarse timestamps."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    bump_mtime(path)


def test_real_faq_loads_with_required_topics():
    entries = load_faq()
    required = {
        "code_pin",
        "code_puk",
        "sim_bloquee",
        "parametres_internet_apn",
        "roaming",
        "messagerie_vocale",
        "remplacement_sim",
        "conserver_numero",
        "recharger_credit",
        "validite_credit",
        "imd_ou_top_up",
        "tourism_card",
        "debit_apres_forfait",
        "sms_emoji",
        "arret_2g",
        "compatibilite_4g_volte",
        "lire_consommation",
        "hors_forfait",
        "horaires_1000",
        "perte_vol_suspendre_ligne",
        "trouver_imei",
        "declaration_vol_police",
        "nouvelle_sim_apres_perte",
        "reactiver_ligne",
    }
    assert required <= set(entries), required - set(entries)
    lost = [e for e in entries.values() if e.category == "telephone_perdu"]
    assert len(lost) >= 5
    assert all(str(e.reviewed) == "2026-11-27" for e in entries.values())


def test_contact_facts_are_in_the_1000_entry():
    answer = load_faq()["horaires_1000"].answer
    for fact in ("7h30", "15h45", "1000@opt.nc", "1013", "1016", "gratuit"):
        assert fact in answer
    urls = {b.url for b in load_faq()["horaires_1000"].buttons}
    assert urls == {"https://www.opt.nc/assistance/aide-reclamation-mobile", "https://www.opt.nc/rdv"}


def test_content_facts():
    entries = load_faq()
    assert "70" in entries["sms_emoji"].answer and "160" in entries["sms_emoji"].answer
    assert "*#06#" in entries["trouver_imei"].answer
    assert "8 chiffres" in entries["code_puk"].answer
    assert "5 000 F" in entries["tourism_card"].answer and "25 Go" in entries["tourism_card"].answer


def test_answer_reply_has_buttons_and_next_steps():
    reply = answer_reply("horaires_1000")
    assert reply.text == load_faq()["horaires_1000"].answer
    assert [b.title for b in reply.buttons] == ["Aide en ligne", "Prendre rendez-vous"]
    assert [(q.title, q.payload) for q in reply.quick_replies] == [
        ("Autre question", "/help"),
        ("Appeler le 1000", "/contact_1000"),
    ]


def test_answer_reply_accepts_the_response_selector_key():
    assert answer_reply("faq/code_puk").text == answer_reply("code_puk").text


def test_unknown_key_gives_the_unknown_reply():
    reply = answer_reply("faq/n_existe_pas")
    assert reply == unknown_reply()
    assert "1000" in reply.text and reply.quick_replies and reply.buttons


@pytest.mark.parametrize("entry_id", sorted(load_faq()))
def test_every_reply_respects_messenger_limits(entry_id):
    reply = answer_reply(entry_id)
    assert 0 < len(reply.text) <= (640 if reply.buttons else 2000)
    assert len(reply.buttons) <= 3
    assert all(len(b.title) <= 20 and b.url.startswith("https://") for b in reply.buttons)
    assert all(len(q.title) <= 20 for q in reply.quick_replies)


def test_changed_answer_is_live_without_restart(faq_copy):
    before = answer_reply("code_puk", faq_copy).text
    edit(faq_copy / "carte_sim.yml", "Le code PUK (8 chiffres)", "NOUVEAU : le code PUK (8 chiffres)")
    after = answer_reply("code_puk", faq_copy).text
    assert after != before and after.startswith("NOUVEAU")


def test_no_reread_when_nothing_changed(faq_copy, monkeypatch):
    load_faq(faq_copy)

    def boom(*_a, **_k):
        raise AssertionError("re-read although no file changed")

    monkeypatch.setattr(faq_source, "check_dir", boom)
    assert "code_puk" in load_faq(faq_copy)


def test_new_and_removed_files_are_seen(faq_copy):
    assert "localiser_telephone" in load_faq(faq_copy)
    (faq_copy / "telephone_perdu.yml").unlink()
    assert "localiser_telephone" not in load_faq(faq_copy)


def test_broken_edit_keeps_the_last_good_answer(faq_copy):
    good = answer_reply("code_puk", faq_copy).text
    edit(faq_copy / "carte_sim.yml", "- id: code_puk", "- id: code_puk\n  answer: [cassé")
    assert answer_reply("code_puk", faq_copy).text == good  # YAML broken: old version kept
    assert "recharger_credit" in load_faq(faq_copy)  # other files unaffected


def test_invalid_entry_keeps_previous_version_but_deletion_in_clean_file_applies(faq_copy):
    good = answer_reply("code_puk", faq_copy).text
    edit(
        faq_copy / "carte_sim.yml",
        "  reviewed: 2026-11-27\n\n- id: sim_bloquee",
        "  reviewed: 27/11/2026\n\n- id: sim_bloquee",
    )  # code_puk now invalid
    assert answer_reply("code_puk", faq_copy).text == good


def test_normalise_question():
    assert normalise_question("  Où est  mon Code-PUK ?? ") == "ou est mon code puk"
    assert normalise_question("J'ai perdu") == normalise_question("j ai perdu")


def test_default_folder_is_the_project_faq():
    assert faq_source.DEFAULT_FAQ_DIR.name == "faq" and (faq_source.DEFAULT_FAQ_DIR / "README.md").exists()
