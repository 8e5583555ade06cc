"""An agent's reply (agents' panel) and Messenger's windows: tagged HUMAN_AGENT so it can go out
after 24 h, refused beyond 7 days or when Facebook says the window is closed, the failure kept on
the escalation and shown to the agent in French, and nothing crashes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import requests
from handoff_helpers import FakePort, escalations
from sqlalchemy import select

from bot.db import handoff as h
from bot.db import messaging as m
from bot.services.handoff import escalations as service

PSID = "dev-psid-window"


def user_wrote(sessions, psid: str, ago: timedelta, kind: str = "text") -> None:
    """The user's last message, `ago` before now (the dev server's clock is real)."""
    at = datetime.now(UTC) - ago
    with sessions() as session:
        session.add(
            m.InboundEvent(
                dedup_key=f"mid:{psid}:{at.timestamp()}",
                channel="messaging",
                kind=kind,
                sender_id=psid,
                text="un conseiller svp",
                raw_json="{}",
                status=m.DONE,
                received_at=at,
                event_time=int(at.timestamp() * 1000),
            )
        )
        session.commit()


def open_escalation(sessions, psid: str = PSID) -> None:
    with sessions() as session:
        service.request_handoff(
            session, psid, "user_request", ["human"], datetime(2026, 3, 16, 0, 0, tzinfo=UTC), FakePort()
        )
        session.commit()


def agent_reply(url: str, text: str = "Bonjour, ici Léa du 1000.", psid: str = PSID) -> requests.Response:
    return requests.post(f"{url}/dev/api/agent/reply", json={"psid": psid, "text": text}, timeout=30)


def outbound(sessions, psid: str = PSID) -> list[m.OutboundMessage]:
    with sessions() as session:
        return list(
            session.scalars(
                select(m.OutboundMessage).where(m.OutboundMessage.recipient_id == psid).order_by(m.OutboundMessage.id)
            )
        )


def test_reply_two_days_after_the_user_wrote_goes_out_tagged_human_agent(dev_server, sessions):
    user_wrote(sessions, PSID, timedelta(days=2))  # outside the 24 h window, inside the 7 days
    open_escalation(sessions)
    response = agent_reply(dev_server.url)
    assert response.status_code == 200 and response.json()["ok"], response.text
    [sent] = dev_server.store.messages(PSID)
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert [row.status for row in outbound(sessions)] == ["sent"]


def test_beyond_seven_days_the_reply_is_not_attempted_and_the_agent_is_told(dev_server, sessions):
    user_wrote(sessions, PSID, timedelta(days=7, hours=1))
    open_escalation(sessions)
    before = dev_server.store.request_count
    response = agent_reply(dev_server.url)
    assert response.status_code == 409
    body = response.json()
    assert body["ok"] is False and body["reason"] == "window"
    assert body["error"].startswith("Réponse non remise") and "7 jours" in body["error"]
    assert dev_server.store.request_count == before and dev_server.store.messages(PSID) == []
    [escalation] = escalations(sessions, PSID)
    assert escalation.last_error == body["error"] and escalation.status != h.CLOSED
    [row] = outbound(sessions)
    assert row.status == "dropped" and json.loads(row.payload_json)["tag"] == "HUMAN_AGENT"
    # The panel shows it with the escalation, so the agent still sees it after a reload.
    listed = requests.get(f"{dev_server.url}/dev/api/agent/escalations", timeout=5).json()["escalations"]
    assert [e["last_error"] for e in listed if e["psid"] == PSID] == [body["error"]]


def test_facebook_window_refusal_is_recorded_and_shown_then_cleared_by_a_later_success(dev_server, sessions):
    user_wrote(sessions, PSID, timedelta(days=3))  # we think it is open; Facebook disagrees
    open_escalation(sessions)
    dev_server.store.fail_next(code=10, subcode=2018278)
    before = dev_server.store.request_count
    refused = agent_reply(dev_server.url)
    assert refused.status_code == 409 and refused.json()["reason"] == "window"
    assert "Messenger n'autorise plus" in refused.json()["error"]
    assert dev_server.store.request_count == before + 1  # asked once, never retried
    assert escalations(sessions, PSID)[0].last_error == refused.json()["error"]
    row = outbound(sessions)[-1]
    assert (row.status, row.error_code, row.error_subcode) == ("dropped", 10, 2018278)
    with sessions() as session:  # nothing of the undelivered text is presented as said to the user
        assert session.scalars(select(h.EscalationMessage).where(h.EscalationMessage.psid == PSID)).all() == []

    again = agent_reply(dev_server.url, "Nouvel essai")  # e.g. the user wrote again meanwhile
    assert again.status_code == 200 and again.json()["ok"]
    assert escalations(sessions, PSID)[0].last_error is None


def test_user_gone_is_told_in_french_without_crashing(dev_server, sessions):
    user_wrote(sessions, PSID, timedelta(hours=1))
    open_escalation(sessions)
    dev_server.store.fail_next(code=551, subcode=1545041)
    response = agent_reply(dev_server.url)
    assert response.status_code == 409 and response.json()["reason"] == "unavailable"
    assert "plus joignable" in response.json()["error"]
    assert requests.get(f"{dev_server.url}/healthz", timeout=5).status_code == 200


def test_window_follows_the_users_last_message_not_thread_control(sessions):
    with sessions() as session:
        assert service.agent_window_closed(session, "nobody") is False  # unknown: Facebook decides
    user_wrote(sessions, "u-old", timedelta(days=8))
    user_wrote(sessions, "u-old", timedelta(days=1), kind="pass_thread_control")  # not the user writing
    user_wrote(sessions, "u-recent", timedelta(days=8))
    user_wrote(sessions, "u-recent", timedelta(days=6), kind="postback")
    with sessions() as session:
        assert service.agent_window_closed(session, "u-old") is True
        assert service.agent_window_closed(session, "u-recent") is False
