"""Assistance actions: FAQ from faq/, lost phone and suspension, agencies, the 1000, hand-off,
fallback; public answers carry the consent intro once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from actions_helpers import chip_payloads, texts
from flow_helpers import Clock, consent, link_only, run, slots_set, tracker
from sqlalchemy import select

from actions import assistance as actions_module
from actions.assistance import (
    ActionAnswerFaq,
    ActionAppointment,
    ActionCancelSuspend,
    ActionContact1000,
    ActionFallback,
    ActionFindAgency,
    ActionHandoff,
    ActionLostPhone,
    ActionSuspendLine,
)
from actions.identity import ActionAcceptTerms
from bot import clock as bot_clock
from bot.db import handoff as h
from bot.db.account import Line, LineStatus
from bot.db.base import session_scope
from bot.db.suspension import LineSuspension
from bot.services.assistance import faq, faq_source

MARIE = "psid-marie"  # 791234
STRANGER = "psid-stranger"
MONDAY_10H = datetime(2026, 3, 15, 23, 0, tzinfo=UTC)  # Monday 16/03 10:00 in Nouméa
MENU = ["/show_balance", "/show_usage", "/buy", "/find_agency", "/human"]


@pytest.fixture
def clock(action_db, demo_now, monkeypatch):
    clock = Clock(demo_now)  # Sunday: the 1000 is closed
    monkeypatch.setattr(bot_clock, "utcnow", clock)
    monkeypatch.delenv("MOBILIS_CGU_VERSION", raising=False)
    monkeypatch.delenv("MOBILIS_FAQ_DIR", raising=False)
    return clock


@pytest.fixture
def marie(clock, demo_now):
    consent(MARIE, demo_now)
    link_only(MARIE, "791234", clock.now)
    return MARIE


def faq_tracker(psid: str, key: str | None, slots=None):
    selector = {"faq": {"response": {"intent_response_key": key}}} if key else {}
    return tracker(psid, "faq", "c'est quoi le code puk", slots=slots, response_selector=selector)


def line_status(msisdn: str) -> LineStatus:
    with session_scope() as session:
        return session.scalar(select(Line.status).where(Line.msisdn == msisdn))


def escalation(psid: str) -> h.Escalation:
    with session_scope() as session:
        row = session.scalar(select(h.Escalation).where(h.Escalation.psid == psid))
        session.expunge_all()
        return row


# ------------------------------------------------------------------ FAQ and the intro once


def test_faq_answer_comes_from_the_yaml(marie):
    messages, events = run(ActionAnswerFaq(), faq_tracker(MARIE, "faq/code_puk"))
    assert texts(messages).startswith(faq.load_faq()["code_puk"].answer.strip()[:60])
    assert chip_payloads(messages) == ["/help", "/contact_1000"]
    assert events == []


def test_faq_edit_is_live(marie, tmp_path, set_env):
    (tmp_path / "carte_sim.yml").write_text(
        (faq_source.DEFAULT_FAQ_DIR / "carte_sim.yml")
        .read_text(encoding="utf-8")
        .replace("Le code PUK", "Le code PUK (réponse modifiée)"),
        encoding="utf-8",
    )
    set_env("MOBILIS_FAQ_DIR", str(tmp_path))
    messages, _ = run(ActionAnswerFaq(), faq_tracker(MARIE, "faq/code_puk"))
    assert "réponse modifiée" in texts(messages)


def test_unknown_or_missing_faq_key_gets_the_unknown_answer(marie):
    for key in ("faq/no_such_entry", None):
        messages, _ = run(ActionAnswerFaq(), faq_tracker(MARIE, key))
        assert "Je n'ai pas trouvé de réponse à cette question" in texts(messages)


def test_public_answer_appends_the_intro_once(clock):
    messages, events = run(ActionAnswerFaq(), faq_tracker(STRANGER, "faq/code_puk"))
    assert "merci d'accepter les conditions" in texts(messages)
    # Only the last message shows chips: the intro's and the answer's are gathered there.
    assert chip_payloads(messages) == ["/accept_terms", "/decline_terms", "/switch_language", "/help", "/contact_1000"]
    assert slots_set(events) == {"intro_shown": True}
    again, events = run(ActionAnswerFaq(), faq_tracker(STRANGER, "faq/code_puk", slots={"intro_shown": True}))
    assert "accepter les conditions" not in texts(again) and events == []


def test_public_answer_survives_a_broken_database(clock, set_env, tmp_path):
    from bot.db.base import engine_for

    set_env("DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/x.db")
    engine_for.cache_clear()
    messages, _ = run(ActionAnswerFaq(), faq_tracker(STRANGER, "faq/code_puk"))
    assert "PUK" in texts(messages) and "Désolé" not in texts(messages)
    lost, _ = run(ActionLostPhone(), tracker(STRANGER, "lost_phone", "j'ai perdu mon tel"))
    assert "appelez le 1000" in texts(lost) and "/human" in chip_payloads(lost)


# ------------------------------------------------------------------ lost phone and suspension


def test_lost_phone_linked_offers_to_suspend(marie):
    messages, _ = run(ActionLostPhone(), tracker(MARIE, "lost_phone", "on m'a vole mon portable"))
    text = texts(messages)
    assert "ligne 79 12 34" in text and "*#06#" in text and "même numéro" in text
    assert chip_payloads(messages) == ["/confirm_suspend", "/cancel_suspend"]
    assert line_status("791234") == LineStatus.ACTIVE  # nothing done before the confirmation


def test_lost_phone_not_linked_points_to_the_1000_and_a_human(clock, demo_now):
    consent(STRANGER, demo_now)
    messages, _ = run(ActionLostPhone(), tracker(STRANGER, "lost_phone", "j'ai perdu mon tel"))
    assert "appelez le 1000" in texts(messages)
    assert chip_payloads(messages)[0] == "/human"
    assert "/confirm_suspend" not in chip_payloads(messages)


def test_suspend_the_linked_line(marie, demo_now):
    messages, _ = run(ActionSuspendLine(), tracker(MARIE, "confirm_suspend", "/confirm_suspend"))
    assert "C'est fait : la ligne 79 12 34 est suspendue" in texts(messages)
    assert line_status("791234") == LineStatus.SUSPENDED
    with session_scope() as session:
        record = session.scalar(select(LineSuspension))
        assert (record.psid, record.created_at) == (MARIE, demo_now)
    again, _ = run(ActionSuspendLine(), tracker(MARIE, "confirm_suspend", "/confirm_suspend"))
    assert "déjà suspendue" in texts(again)


def test_suspension_ignores_forged_line_entities(marie):
    run(
        ActionSuspendLine(),
        tracker(
            MARIE,
            "confirm_suspend",
            '/confirm_suspend{"msisdn":"797878"}',
            entities=[{"entity": "msisdn", "value": "797878"}],
            slots={"msisdn": "797878"},
        ),
    )
    assert line_status("791234") == LineStatus.SUSPENDED
    assert line_status("797878") == LineStatus.ACTIVE


def test_suspension_waits_for_consent_then_happens_on_accept(clock):
    link_only(STRANGER, "791234", clock.now)
    messages, events = run(ActionSuspendLine(), tracker(STRANGER, "confirm_suspend", "/confirm_suspend"))
    assert "/accept_terms" in chip_payloads(messages)
    assert slots_set(events)["pending_request"] == "/confirm_suspend"
    assert line_status("791234") == LineStatus.ACTIVE
    messages, _ = run(
        ActionAcceptTerms(),
        tracker(STRANGER, "accept_terms", "/accept_terms", slots={"pending_request": "/confirm_suspend"}),
    )
    assert "est suspendue" in texts(messages)
    assert line_status("791234") == LineStatus.SUSPENDED


def test_cancel_suspend(marie):
    messages, _ = run(ActionCancelSuspend(), tracker(MARIE, "cancel_suspend", "/cancel_suspend"))
    assert "je ne suspends pas la ligne" in texts(messages)
    assert line_status("791234") == LineStatus.ACTIVE


def test_suspension_error_gives_the_apology_with_retry(marie, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("network on fire")

    monkeypatch.setattr(actions_module.line_suspension, "suspend_linked_line", broken)
    messages, _ = run(ActionSuspendLine(), tracker(MARIE, "confirm_suspend", "/confirm_suspend"))
    assert "Désolé" in texts(messages)
    assert chip_payloads(messages) == ["/confirm_suspend", "/human"]


# ------------------------------------------------------------------ agencies, 1000, appointment


def test_find_agency_from_the_entity(marie):
    messages, _ = run(
        ActionFindAgency(),
        tracker(
            MARIE,
            "find_agency",
            '/find_agency{"agency_query":"Koné"}',
            entities=[{"entity": "agency_query", "value": "Koné"}],
        ),
    )
    assert "Koné" in texts(messages) or "Kone" in texts(messages)
    assert "/appointment" in chip_payloads(messages)


def test_find_agency_from_the_sentence_and_without_query(marie):
    messages, _ = run(ActionFindAgency(), tracker(MARIE, "find_agency", "ou est l'agence de dumbea"))
    assert "Dumbéa" in texts(messages)
    messages, _ = run(ActionFindAgency(), tracker(MARIE, "find_agency", "/find_agency"))
    assert "Dans quelle commune" in texts(messages)


def test_contact_1000_uses_the_clock(marie, clock):
    messages, _ = run(ActionContact1000(), tracker(MARIE, "contact_1000", "numero du service client"))
    assert "le 1000 est fermé : il rouvre demain à 7h30" in texts(messages)
    clock.now = MONDAY_10H
    messages, _ = run(ActionContact1000(), tracker(MARIE, "contact_1000", "numero du service client"))
    assert "le 1000 est ouvert" in texts(messages)


def test_appointment(marie):
    messages, _ = run(ActionAppointment(), tracker(MARIE, "appointment", "rdv"))
    assert "rendez-vous" in texts(messages)
    assert messages[0]["custom"]["attachment"]["payload"]["buttons"][0]["url"] == "https://www.opt.nc/rdv"


# ------------------------------------------------------------------ hand-off and fallback


def test_handoff_in_hours_passes_the_last_intents(marie, clock):
    clock.now = MONDAY_10H
    history = ["greet", "show_balance", "show_usage", "buy", "faq", "show_offer"]
    messages, events = run(ActionHandoff(), tracker(MARIE, "human", "/human", history=history))
    assert "Je vous mets en relation avec un conseiller" in texts(messages)
    assert events == []
    row = escalation(MARIE)
    assert row.reason == h.USER_REQUEST and row.pass_pending
    assert row.last_intents == "show_usage, buy, faq, show_offer, human"  # the last 5, oldest first
    assert row.line_masked == "79****"


def test_handoff_out_of_hours_and_after_lost_phone(clock):
    messages, _ = run(ActionHandoff(), tracker(STRANGER, "human", "/human", history=["lost_phone"]))
    assert "Nos conseillers et le 1000 répondent" in texts(messages)
    assert "accepter les conditions" not in texts(messages)
    assert escalation(STRANGER).reason == h.LOST_PHONE


def test_handoff_failure_points_to_the_1000(marie, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("graph on fire")

    monkeypatch.setattr(actions_module.handoff, "request_handoff", broken)
    messages, _ = run(ActionHandoff(), tracker(MARIE, "human", "/human"))
    assert "je n'ai pas réussi à transmettre votre demande" in texts(messages)
    assert "/human" not in chip_payloads(messages)


def test_first_misunderstanding_reprompts_with_the_menu(marie):
    messages, events = run(ActionFallback(), tracker(MARIE, "nlu_fallback", "blablabla", history=["greet"]))
    assert "Je n'ai pas bien compris" in texts(messages)
    assert chip_payloads(messages) == MENU
    assert events == []
    assert escalation(MARIE) is None


def test_second_misunderstanding_in_a_row_hands_off(marie, clock):
    clock.now = MONDAY_10H
    messages, _ = run(ActionFallback(), tracker(MARIE, "nlu_fallback", "zzz", history=["greet", "nlu_fallback"]))
    assert "Je n'arrive pas à bien comprendre votre demande" in texts(messages)
    row = escalation(MARIE)
    assert row.reason == h.MISUNDERSTANDING
    assert row.last_intents == "greet, nlu_fallback, nlu_fallback"


def test_misunderstandings_not_in_a_row_do_not_hand_off(marie):
    run(ActionFallback(), tracker(MARIE, "nlu_fallback", "zzz", history=["nlu_fallback", "greet"]))
    assert escalation(MARIE) is None
