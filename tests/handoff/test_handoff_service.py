"""bot/services/handoff/escalations.py: deciding in or out of hours, recording, statuses, silence, return."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channel_helpers import fast_graph
from handoff_helpers import (
    FRIDAY_16H,
    INBOX_APP_ID,
    MONDAY_8H,
    MONDAY_10H,
    PAGE_ID,
    SATURDAY_10H,
    SUNDAY_10H,
    TUESDAY_6H,
    FakePort,
    link_line,
)

from bot.channel.thread_control import GraphThreadControl
from bot.db import handoff as h
from bot.services.handoff import escalations as service
from bot.services.handoff.texts import METADATA_LIMIT


@pytest.fixture
def session(sessions):
    with sessions() as s:
        yield s


# ---- in hours ----


def test_in_hours_passes_thread_to_page_inbox_with_summary(session, standin):
    link_line(session, "u1", "791234")
    port = GraphThreadControl(fast_graph(standin.url), PAGE_ID)
    reply = service.request_handoff(session, "u1", "user_request", ["/show_balance", "nlu_fallback"], MONDAY_10H, port)
    session.commit()

    [call] = standin.calls
    assert call["path"] == f"{PAGE_ID}/pass_thread_control"
    body = call["body"]
    assert body["recipient"] == {"id": "u1"} and str(body["target_app_id"]) == INBOX_APP_ID
    metadata = body["metadata"]
    assert "user_request" in metadata and "79****" in metadata and "791234" not in metadata
    assert "show_balance, nlu_fallback" in metadata and len(metadata) <= METADATA_LIMIT
    assert "conseiller" in reply.text and "répondra ici" in reply.text
    [escalation] = service.list_open_escalations(session)
    assert (escalation.status, escalation.line_masked, escalation.taken_at) == (h.WITH_AGENT, "79****", MONDAY_10H)
    assert service.is_bot_silenced(session, "u1")


def test_unlinked_user_summary_says_so(session):
    port = FakePort()
    service.request_handoff(session, "u2", "misunderstanding", [], MONDAY_10H, port)
    [(_, psid, metadata)] = port.calls
    assert psid == "u2" and "non liée" in metadata and "misunderstanding" in metadata


def test_deferred_pass_waits_for_the_channel(session):
    reply = service.request_handoff(session, "u1", "action_failure", ["buy_pass"], MONDAY_10H)
    [escalation] = service.list_open_escalations(session)
    assert (escalation.status, escalation.pass_pending) == (h.OPEN, True)
    assert not service.is_bot_silenced(session, "u1")  # the reply must still go out
    assert reply.text.startswith("Je n'ai pas pu terminer cette opération")
    port = FakePort()
    assert service.complete_pending_pass(session, "u1", port, MONDAY_10H + timedelta(seconds=1)) is None
    assert [c[0] for c in port.calls] == ["pass"]
    assert (escalation.status, escalation.pass_pending) == (h.WITH_AGENT, False)
    assert service.is_bot_silenced(session, "u1")
    assert service.complete_pending_pass(session, "u1", port) is None and len(port.calls) == 1  # once


def test_failed_pass_tells_user_to_call_the_1000_and_keeps_record(session):
    reply = service.request_handoff(session, "u1", "user_request", [], MONDAY_10H, FakePort(fail=True))
    assert "1000" in reply.text and "pas réussi" in reply.text
    [escalation] = service.list_open_escalations(session)
    assert escalation.status == h.OPEN and "refused" in escalation.last_error
    assert not service.is_bot_silenced(session, "u1")


def test_second_request_does_not_open_a_second_escalation(session):
    port = FakePort()
    service.request_handoff(session, "u1", "user_request", [], MONDAY_10H, port)
    reply = service.request_handoff(session, "u1", "misunderstanding", [], MONDAY_10H, port)
    assert "déjà transmise" in reply.text
    assert len(service.list_open_escalations(session)) == 1 and len(port.calls) == 1


def test_unknown_reason_refused(session):
    with pytest.raises(ValueError):
        service.request_handoff(session, "u1", "bored", [], MONDAY_10H, FakePort())


# ---- out of hours ----


@pytest.mark.parametrize(
    "now, when",
    [
        (FRIDAY_16H, "lundi à 7h30"),
        (SATURDAY_10H, "lundi à 7h30"),
        (SUNDAY_10H, "demain lundi à 7h30"),
        (TUESDAY_6H, "aujourd'hui à 7h30"),
    ],
)
def test_out_of_hours_records_waiting_and_names_reopening(session, now, when):
    port = FakePort()
    reply = service.request_handoff(session, "u1", "user_request", ["help"], now, port)
    assert port.calls == []  # nobody in the inbox: nothing is passed
    assert f"reprennent {when}." in reply.text and "Écrivez-moi votre message" in reply.text
    if when == "lundi à 7h30":
        assert "demain" not in reply.text
    [escalation] = service.list_open_escalations(session)
    assert escalation.status == h.WAITING_HOURS
    assert not service.is_bot_silenced(session, "u1")
    assert service.expects_message(session, "u1", now)


def test_message_left_out_of_hours_then_passed_at_opening(session):
    service.request_handoff(session, "u1", "lost_phone", ["lost_phone"], FRIDAY_16H, FakePort())
    ack = service.leave_message(session, "u1", "J'ai perdu mon téléphone hier soir", FRIDAY_16H + timedelta(minutes=2))
    assert "enregistré" in ack.text and "lundi à 7h30" in ack.text
    assert service.leave_message(session, "u1", "encore", FRIDAY_16H + timedelta(minutes=3)) is None  # one message
    port = FakePort()
    assert service.pass_waiting_at_opening(session, port, SATURDAY_10H) == []  # still closed
    assert service.pass_waiting_at_opening(session, port, MONDAY_8H) == ["u1"]
    [(_, _, metadata)] = port.calls
    assert "(non vérifié) : « J'ai perdu mon téléphone hier soir »" in metadata and "lost_phone" in metadata
    [escalation] = service.list_open_escalations(session)
    assert (escalation.status, escalation.taken_at) == (h.WITH_AGENT, MONDAY_8H)
    assert service.pass_waiting_at_opening(session, port, MONDAY_8H) == []  # once


def test_a_left_message_cannot_forge_the_summary_fields(session):
    """A user typing summary-like lines must not look like a verified field to the agent."""
    service.request_handoff(session, "u1", "user_request", [], FRIDAY_16H, FakePort())
    forged = "rappelez moi\nLigne : 79 12 34 (vérifiée par SMS)\r\nMotif : urgence « » \u2028Derniers sujets : x"
    service.leave_message(session, "u1", forged, FRIDAY_16H + timedelta(minutes=2))
    port = FakePort()
    service.pass_waiting_at_opening(session, port, MONDAY_8H)
    [(_, _, metadata)] = port.calls
    lines = metadata.split("\n")
    assert [line.split(" : ")[0] for line in lines] == [
        lines[0].split(" : ")[0],
        "Motif",
        "Ligne",
        "Derniers sujets",
        "Message laissé par l'utilisateur (non vérifié)",
    ]
    assert lines[2] == "Ligne : non liée"  # the real field, not the user's
    assert lines[-1].endswith("»") and lines[-1].count("«") == 1 and "Ligne : 79 12 34" in lines[-1]


def test_expected_message_expires(session):
    service.request_handoff(session, "u1", "user_request", [], FRIDAY_16H, FakePort())
    later = FRIDAY_16H + service.AWAIT_MESSAGE_FOR + timedelta(seconds=1)
    assert not service.expects_message(session, "u1", later)
    assert service.leave_message(session, "u1", "trop tard", later) is None


def test_asking_again_once_open_passes_the_waiting_request(session):
    service.request_handoff(session, "u1", "user_request", [], FRIDAY_16H, FakePort())
    port = FakePort()
    service.request_handoff(session, "u1", "user_request", [], MONDAY_8H, port)
    assert len(port.calls) == 1 and len(service.list_open_escalations(session)) == 1
    assert service.list_open_escalations(session)[0].status == h.WITH_AGENT


def test_summary_stays_within_metadata_limit(session):
    service.request_handoff(session, "u1", "user_request", [], FRIDAY_16H, FakePort())
    service.leave_message(session, "u1", "x" * 5000, FRIDAY_16H)
    [escalation] = service.list_open_escalations(session)
    assert len(escalation.user_message) == service.USER_MESSAGE_LIMIT
    assert len(escalation.summary) == METADATA_LIMIT and escalation.summary.endswith("…")


# ---- status transitions, return of control ----


def test_status_transitions_and_timestamps(session):
    reply = service.request_handoff(session, "u1", "user_request", [], MONDAY_10H)
    escalation = service.active_escalation(session, "u1")
    assert (escalation.status, escalation.created_at, escalation.taken_at) == (h.OPEN, MONDAY_10H, None)
    service.complete_pending_pass(session, "u1", FakePort(), MONDAY_10H + timedelta(seconds=2))
    assert (escalation.status, escalation.taken_at) == (h.WITH_AGENT, MONDAY_10H + timedelta(seconds=2))
    back = service.on_control_returned(session, "u1", MONDAY_10H + timedelta(minutes=20))
    assert "je reprends la conversation" in back.text and reply.text != back.text
    assert (escalation.status, escalation.closed_by) == (h.CLOSED, "returned")
    assert escalation.closed_at == MONDAY_10H + timedelta(minutes=20)
    assert not service.is_bot_silenced(session, "u1") and service.list_open_escalations(session) == []
    assert service.on_control_returned(session, "u1", MONDAY_10H) is None  # nothing to come back from
    service.request_handoff(session, "u1", "user_request", [], MONDAY_10H + timedelta(hours=1), FakePort())
    session.flush()
    assert len(session.query(h.Escalation).all()) == 2


def test_take_by_inbox_silences_and_marks_with_agent(session):
    service.request_handoff(session, "u1", "user_request", [], FRIDAY_16H, FakePort())
    service.on_taken_by_inbox(session, "u1", MONDAY_8H)
    assert service.is_bot_silenced(session, "u1")
    assert service.active_escalation(session, "u1").status == h.WITH_AGENT
    service.on_taken_by_inbox(session, "u9", MONDAY_8H)  # an agent wrote first: silent too
    assert service.is_bot_silenced(session, "u9")


def test_inactivity_timeout_takes_thread_back_and_greets_once(session):
    port = FakePort()
    service.request_handoff(session, "u1", "user_request", [], MONDAY_10H, port)
    service.record_agent_message(session, "u1", "Je regarde votre dossier.", MONDAY_10H + timedelta(minutes=30))
    idle = timedelta(hours=2)
    assert service.on_inactivity_timeout(session, MONDAY_10H + timedelta(hours=2), idle, port) == []  # agent active
    assert service.on_inactivity_timeout(session, MONDAY_10H + timedelta(hours=2, minutes=31), idle, port) == ["u1"]
    assert port.calls[-1][0] == "take"
    escalation = session.get(h.Escalation, 1)
    assert (escalation.status, escalation.closed_by) == (h.CLOSED, "inactivity")
    assert not service.is_bot_silenced(session, "u1")
    greeting = service.pending_greeting(session, "u1")
    assert "Aucun conseiller" in greeting.text and "1000" in greeting.text
    assert service.pending_greeting(session, "u1") is None


def test_inactivity_expires_a_pass_that_never_happened(session):
    service.request_handoff(session, "u1", "user_request", [], MONDAY_10H)  # pending, never completed
    port = FakePort()
    assert service.on_inactivity_timeout(session, MONDAY_10H + timedelta(hours=3), timedelta(hours=2), port) == ["u1"]
    assert port.calls == [] and session.get(h.Escalation, 1).closed_by == "expired"
    assert service.pending_greeting(session, "u1") is None


def test_take_failure_on_timeout_still_returns_the_thread(session):
    service.request_handoff(session, "u1", "user_request", [], MONDAY_10H, FakePort())
    taken = service.on_inactivity_timeout(
        session, MONDAY_10H + timedelta(hours=5), timedelta(hours=2), FakePort(fail=True)
    )
    assert taken == ["u1"] and not service.is_bot_silenced(session, "u1")


# ---- agents' side ----


def test_agent_message_and_listing(session):
    service.request_handoff(session, "u1", "user_request", ["a"], FRIDAY_16H, FakePort())
    service.request_handoff(session, "u2", "user_request", ["b"], MONDAY_10H, FakePort())
    service.on_control_returned(session, "u2", MONDAY_10H)  # closed: not listed
    service.request_handoff(session, "u3", "misunderstanding", ["c"], MONDAY_10H, FakePort())
    assert [e.psid for e in service.list_open_escalations(session)] == ["u3", "u1"]  # oldest first
    message = service.record_agent_message(session, "u1", "Bonjour !", MONDAY_8H)
    assert message.author == "agent" and message.escalation_id == service.active_escalation(session, "u1").id
    assert service.active_escalation(session, "u1").status == h.WITH_AGENT
    assert service.is_bot_silenced(session, "u1")
    with pytest.raises(LookupError):
        service.record_agent_message(session, "nobody", "?", MONDAY_8H)
    view = service.escalation_view(service.active_escalation(session, "u3"))
    assert view["reason_label"] == "incompréhensions répétées" and view["last_intents"] == ["c"]


def test_purge_closed_escalations(session):
    service.request_handoff(session, "u1", "user_request", [], MONDAY_10H, FakePort())
    service.record_agent_message(session, "u1", "Bonjour", MONDAY_10H)
    service.on_control_returned(session, "u1", MONDAY_10H)
    service.request_handoff(session, "u2", "user_request", [], MONDAY_10H, FakePort())  # still open
    assert service.purge_closed(session, MONDAY_10H + timedelta(days=1)) == 1
    assert [e.psid for e in session.query(h.Escalation).all()] == ["u2"]
    assert session.query(h.EscalationMessage).count() == 0
