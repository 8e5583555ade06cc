"""Messenger webhook → Rasa → action server → database, all real processes on loopback."""

from __future__ import annotations

import time
import uuid

from e2e_helpers import message_event, page_body, text_of
from sqlalchemy import select

from bot.db.base import session_scope
from bot.db.messaging import InboundEvent
from bot.services.account.consultation import offer_reply
from bot.services.identity.linking import get_linked_line


def new_psid() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def test_missing_or_wrong_signature_is_refused(stack):
    body = page_body(message_event(new_psid(), "bonjour"))
    assert stack.post(body, signature=None).status_code == 403
    assert stack.post(body, signature="sha256=" + "0" * 64).status_code == 403


def test_greeting_reaches_the_graph_api_with_quick_replies(stack):
    psid = new_psid()
    stack.say(psid, "bjr")
    messages = stack.wait_for_messages(psid, 1)
    assert all(m["messaging_type"] == "RESPONSE" for m in messages)
    assert any(m["message"].get("quick_replies") for m in messages), messages


def test_batch_of_three_events_gets_three_answers(stack):
    psids = [new_psid() for _ in range(3)]
    body = page_body(*(message_event(p, "salut") for p in psids), entries=2)
    assert stack.post(body).status_code == 200
    for psid in psids:
        assert stack.wait_for_messages(psid, 1)


def test_same_mid_twice_is_answered_once(stack):
    psid = new_psid()
    event = message_event(psid, "merci beaucoup", mid=f"m_dup_{uuid.uuid4().hex}")
    stack.post(page_body(event)).raise_for_status()
    first = stack.wait_for_messages(psid, 1)
    time.sleep(1.0)  # let every reply of the first delivery arrive
    settled = len(stack.sent_messages(psid))
    stack.post(page_body(event)).raise_for_status()  # Messenger redelivery
    time.sleep(3.0)
    assert len(stack.sent_messages(psid)) == settled >= len(first)
    with session_scope(stack.db_url) as session:
        rows = session.scalars(select(InboundEvent).where(InboundEvent.sender_id == psid)).all()
    assert len(rows) == 1


def test_offer_is_read_from_the_database_for_the_linked_line(stack):
    psid = new_psid()
    stack.link_demo_line(psid, "791234")
    stack.exchange(psid, "J'accepte", quick_reply="/accept_terms")
    messages = stack.exchange(psid, "c koi mon forfait")
    with session_scope(stack.db_url) as session:
        expected = offer_reply(session, get_linked_line(session, psid)).text
    assert expected in [text_of(m) for m in messages], messages


def test_quick_reply_payload_drives_the_conversation(stack):
    psid = new_psid()
    stack.say(psid, "Aide", quick_reply="/help")
    messages = stack.wait_for_messages(psid, 1)
    chips = [q["payload"] for m in messages for q in m["message"].get("quick_replies", [])]
    assert "/show_balance" in chips, messages
