"""Helpers shared by the hand-off tests (a uniquely named module, unlike conftest.py)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from sqlalchemy import select

from bot.db import handoff as h
from bot.db import messaging as m
from bot.db.account import Line, LineStatus, Offer, PlanFamily, Subscriber
from bot.db.identity import MessengerLink
from bot.services.handoff import escalations as service
from bot.services.handoff.escalations import ThreadControlError

OUR_APP_ID = "4242424242"
INBOX_APP_ID = "263902037430900"
PAGE_ID = "1234567890"


def noumea(year, month, day, hour, minute=0) -> datetime:
    """A New Caledonia wall-clock time as the aware UTC instant the services receive (UTC+11)."""
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Pacific/Noumea")).astimezone(UTC)


MONDAY_10H = noumea(2026, 3, 16, 10)  # the 1000 is open
FRIDAY_16H = noumea(2026, 3, 20, 16)  # closed since 15:45
SATURDAY_10H = noumea(2026, 3, 21, 10)
SUNDAY_10H = noumea(2026, 3, 22, 10)
TUESDAY_6H = noumea(2026, 3, 17, 6)
MONDAY_8H = noumea(2026, 3, 23, 8)  # the Monday after FRIDAY_16H


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakePort:
    """ThreadControlPort recording calls; `fail=True` makes every call raise."""

    def __init__(self, fail: bool = False):
        self.calls: list[tuple[str, str, str]] = []
        self.fail = fail

    def pass_thread_control(self, psid, metadata):
        self.calls.append(("pass", psid, metadata))
        if self.fail:
            raise ThreadControlError("pass refused (test)")

    def take_thread_control(self, psid, metadata):
        self.calls.append(("take", psid, metadata))
        if self.fail:
            raise ThreadControlError("take refused (test)")


def link_line(session, psid: str, msisdn: str) -> Line:
    """A line of its own, linked to the PSID (what the SMS code flow ends with)."""
    if session.get(Offer, "TEST") is None:
        session.add(Offer(code="TEST", name="Offre test", plan_family=PlanFamily.LIBERTE, price_xpf=0))
    subscriber = Subscriber(first_name="Test", last_name=f"Abonné {msisdn}")
    line = Line(
        msisdn=msisdn,
        subscriber=subscriber,
        plan_family=PlanFamily.LIBERTE,
        offer_code="TEST",
        status=LineStatus.ACTIVE,
    )
    session.add_all([subscriber, line])
    session.flush()
    session.add(MessengerLink(psid=psid, line_id=line.id, linked_at=MONDAY_10H, via="dev"))
    session.flush()
    return line


def escalations(sessions, psid: str | None = None) -> list[h.Escalation]:
    with sessions() as session:
        query = select(h.Escalation).order_by(h.Escalation.id)
        if psid is not None:
            query = query.where(h.Escalation.psid == psid)
        return list(session.scalars(query))


def owner(sessions, psid: str) -> str:
    with sessions() as session:
        return service.thread_owner(session, psid)


def inbound(sessions, psid: str) -> list[m.InboundEvent]:
    with sessions() as session:
        return list(
            session.scalars(select(m.InboundEvent).where(m.InboundEvent.sender_id == psid).order_by(m.InboundEvent.id))
        )


def handoff_action(sessions, now: datetime, reason: str = "user_request", trigger: str = "un conseiller svp"):
    """A FakeRasa reply function doing what the conversation's hand-off action will do: call
    request_handoff (graph=None: the channel passes control after the reply) and say its Reply."""

    def reply(sender: str, text: str) -> list[dict]:
        if text != trigger:
            return [{"text": f"écho : {text}"}]
        with sessions() as session:
            answer = service.request_handoff(session, sender, reason, ["show_balance", "nlu_fallback"], now)
            session.commit()
        return [
            {"text": answer.text, "buttons": [{"title": q.title, "payload": q.payload} for q in answer.quick_replies]}
        ]

    return reply


def control_event(
    psid: str, kind: str, new_owner: str, previous_owner: str | None = None, ts: int | None = None
) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": ts or int(time.time() * 1000),
        kind: {"previous_owner_app_id": previous_owner, "new_owner_app_id": new_owner, "metadata": "test"},
    }


def texts(records: list[dict]) -> list[str]:
    return [r["message"].get("text") or json.dumps(r["message"]) for r in records]
