"""Helpers of the identity / purchase / assistance action tests: trackers with a conversation
history, SlotSet reading, consent and SMS-code shortcuts on the action database."""

from __future__ import annotations

import asyncio
import re

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.db.account import Line
from bot.db.base import session_scope
from bot.services.dialogue.context import MARKER
from bot.services.identity.sms import recent_messages
from bot.services.privacy.consent import record_consent


def user_event(intent: str, text: str = "") -> dict:
    return {"event": "user", "text": text or f"/{intent}", "parse_data": {"intent": {"name": intent}}}


def tracker(
    psid: str,
    intent: str = "",
    text: str = "",
    entities: list[dict] | None = None,
    slots: dict | None = None,
    history: list[str] | None = None,
    **latest_extra,
) -> Tracker:
    """The latest message is the last user event, as in a real Rasa tracker; `history` lists the
    intents of the earlier user messages, oldest first."""
    latest = {"intent": {"name": intent, "confidence": 1.0}, "entities": entities or [], "text": text, **latest_extra}
    events = [user_event(name) for name in history or []] + [user_event(intent, text)]
    return Tracker(psid, slots or {}, latest, events, False, None, {}, "action_listen")


def run(action, trk: Tracker) -> tuple[list[dict], list[dict]]:
    """What the user would see (without the context declaration meant for the webhook) and the events."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, {}))
    return shown(dispatcher.messages), events


def run_action(action, dispatcher, trk):
    """The coroutine of `action.run` (for run_coroutine)."""
    return action.run(dispatcher, trk, {})


def run_coroutine(factory) -> tuple[list[dict], list[dict]]:
    """factory(dispatcher) → coroutine (e.g. run_action); what it sent and the events it returned."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(factory(dispatcher))
    return shown(dispatcher.messages), events


def shown(messages: list[dict]) -> list[dict]:
    return [m for m in messages if MARKER not in (m.get("custom") or {})]


def slots_set(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def all_chips(messages: list[dict]) -> list[tuple[str, str]]:
    """(title, payload) of the quick replies hung on the last message."""
    last = messages[-1]
    if last.get("buttons"):
        return [(b["title"], b["payload"]) for b in last["buttons"]]
    return [(q["title"], q["payload"]) for q in (last.get("custom") or {}).get("quick_replies") or []]


def consent(psid: str, now) -> None:
    with session_scope() as session:
        record_consent(session, psid, now=now)


def line_id(msisdn: str) -> int:
    with session_scope() as session:
        return session.scalar(select(Line.id).where(Line.msisdn == msisdn))


def last_code(msisdn: str) -> str:
    """The code of the newest SMS sent to that number (the outbox is the dev 'phone')."""
    with session_scope() as session:
        messages = recent_messages(session, msisdn)
    assert messages, f"no SMS sent to {msisdn}"
    return re.search(r"\b(\d{6})\b", messages[0]["text"]).group(1)


def sms_count(msisdn: str) -> int:
    with session_scope() as session:
        return len(recent_messages(session, msisdn))


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def link_only(psid: str, msisdn: str, now) -> None:
    """A MessengerLink and nothing else (no consent): as after an SMS code under older CGU."""
    from bot.db.identity import MessengerLink

    with session_scope() as session:
        session.add(
            MessengerLink(
                psid=psid,
                line_id=session.scalar(select(Line.id).where(Line.msisdn == msisdn)),
                linked_at=now,
                via="sms",
            )
        )
