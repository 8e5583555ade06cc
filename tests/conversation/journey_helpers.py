"""Playing conversations on the real stack and reading what the user saw.

A turn is one signed webhook post (typed text, or a tapped quick reply found by its title in the
previous answer). It is over when the webhook has finished its inbound event (status done or
failed): every bubble of that turn has then reached the stand-in Graph API. Nothing waits for a
fixed time.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field

from e2e_helpers import page_body
from sqlalchemy import func, select

from bot.channel.inbox import erased_key
from bot.db import messaging as m
from bot.db.account import Line, LineStatus
from bot.db.base import session_scope
from bot.db.handoff import Escalation
from bot.db.identity import Consent, MessengerLink
from bot.db.purchasing import Purchase
from bot.db.suspension import LineSuspension
from bot.services.identity.sms import recent_messages
from bot.services.privacy.consent import record_consent
from bot.tools.demo import load_demo

_mids = itertools.count(1)
TURN_TIMEOUT = 60.0


@dataclass
class Seen:
    """The bubbles one turn produced: texts (templates and cards included) and the chips."""

    bubbles: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(_visible(b) for b in self.bubbles)

    @property
    def chips(self) -> list[tuple[str, str]]:
        return [(q.get("title", ""), q.get("payload", "")) for b in self.bubbles for q in b.get("quick_replies", [])]

    @property
    def chip_titles(self) -> list[str]:
        return [title for title, _ in self.chips]

    def payload_of(self, title: str) -> str:
        for chip_title, chip_payload in self.chips:
            if chip_title == title:
                return chip_payload
        for bubble in self.bubbles:  # postback buttons of templates
            payload = (bubble.get("attachment") or {}).get("payload") or {}
            buttons = list(payload.get("buttons") or [])
            for element in payload.get("elements") or []:
                buttons += element.get("buttons") or []
            for button in buttons:
                if button.get("title") == title and button.get("payload"):
                    return button["payload"]
        raise AssertionError(f"no chip or button « {title} » in {self.chip_titles}: {self.text!r}")


def _visible(bubble: dict) -> str:
    if "text" in bubble:
        return bubble["text"]
    payload = (bubble.get("attachment") or {}).get("payload") or {}
    parts = [payload.get("text", "")]
    parts += [f"{e.get('title', '')} {e.get('subtitle', '')}" for e in payload.get("elements") or []]
    return "\n".join(p for p in parts if p)


class Chat:
    """Conversations with the running stack (tests/e2e's StackClient underneath)."""

    def __init__(self, stack):
        self.stack = stack

    def reset_demo(self) -> None:
        """The demo lines as documented (credit, passes, status), whatever earlier conversations
        bought or suspended; links, consents and the purchases made in the chat are kept."""
        with session_scope(self.stack.db_url) as session:
            load_demo(session)

    # ---------------------------------------------------------------- users
    def new_user(self, prefix: str = "chat") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    def consented_user(self, msisdn: str | None = None, prefix: str = "chat") -> str:
        """A user who accepted the CGU (and, with `msisdn`, linked that line) before the test."""
        psid = self.new_user(prefix)
        with session_scope(self.stack.db_url) as session:
            record_consent(session, psid)
        if msisdn:
            self.stack.link_demo_line(psid, msisdn)
        return psid

    # ---------------------------------------------------------------- turns
    def say(self, psid: str, text: str) -> Seen:
        return self._turn(psid, {"mid": self._mid(psid), "text": text})

    def tap(self, psid: str, seen: Seen, title: str) -> Seen:
        """Tap a quick reply (or a postback button) of the previous answer, by its title."""
        payload = seen.payload_of(title)
        return self._turn(psid, {"mid": self._mid(psid), "text": title, "quick_reply": {"payload": payload}})

    def _mid(self, psid: str) -> str:
        return f"m_chat_{psid}_{next(_mids)}"

    def _turn(self, psid: str, message: dict) -> Seen:
        event = {
            "sender": {"id": psid},
            "recipient": {"id": "PAGE"},
            "timestamp": int(time.time() * 1000),
            "message": message,
        }
        self.stack.post(page_body(event)).raise_for_status()
        event_id = self._wait_done(f"mid:{message['mid']}")
        with session_scope(self.stack.db_url) as session:
            rows = session.scalars(
                select(m.OutboundMessage.payload_json)
                .where(
                    m.OutboundMessage.inbound_event_id == event_id,
                    m.OutboundMessage.kind == "message",
                    m.OutboundMessage.status == "sent",
                )
                .order_by(m.OutboundMessage.id)
            ).all()
        return Seen([json.loads(row)["message"] for row in rows])

    def _wait_done(self, dedup_key: str) -> int:
        deadline = time.monotonic() + TURN_TIMEOUT
        while time.monotonic() < deadline:
            with session_scope(self.stack.db_url) as session:
                row = session.execute(
                    select(m.InboundEvent.id, m.InboundEvent.status).where(
                        m.InboundEvent.dedup_key.in_((dedup_key, erased_key(dedup_key)))
                    )
                ).first()
            if row is not None and row.status in (m.DONE, m.FAILED):
                return row.id
            time.sleep(0.05)
        raise AssertionError(f"turn {dedup_key} not finished after {TURN_TIMEOUT} s")

    # ---------------------------------------------------------------- what happened
    def code_sent_to(self, msisdn: str) -> str:
        with session_scope(self.stack.db_url) as session:
            messages = recent_messages(session, msisdn)
        assert messages, f"no SMS sent to {msisdn}"
        return re.search(r"\b(\d{6})\b", messages[0]["text"]).group(1)

    def effects(self, psid: str, msisdn: str) -> dict:
        """What the conversation changed: purchases of the line, its status and suspensions, the
        PSID's link and consent, hand-offs."""
        with session_scope(self.stack.db_url) as session:
            line = session.scalar(select(Line).where(Line.msisdn == msisdn))
            return {
                "purchases": session.scalar(
                    select(func.count(Purchase.id)).where(
                        Purchase.line_id == line.id, ~func.coalesce(Purchase.reference, "").startswith("DEMO-")
                    )
                ),
                "suspended": line.status == LineStatus.SUSPENDED,
                "suspensions": session.scalar(
                    select(func.count(LineSuspension.id)).where(LineSuspension.line_id == line.id)
                ),
                "linked": session.scalar(
                    select(func.count()).select_from(MessengerLink).where(MessengerLink.psid == psid)
                )
                > 0,
                "consented": session.scalar(select(func.count(Consent.id)).where(Consent.psid == psid)) > 0,
                "handoffs": session.scalar(select(func.count(Escalation.id)).where(Escalation.psid == psid)),
            }
