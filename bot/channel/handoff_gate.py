"""Where the channel meets the hand-off: who answers a turn, and thread-control webhooks.

- Thread-control webhooks that change who answers (a pass back to us, a release, a take by the
  inbox) are stored like every event, then queued (`stored` → `pending`) so the worker handles
  them in order with the user's messages.
- Before a turn: a message on `messaging` while we believed an agent held the thread means the
  thread is ours again (Meta sends `standby` otherwise): greet, then answer. Out of hours, the
  next free text after a hand-off request is the message left for the agents.
- After a turn: if that turn asked for a human, pass control now that the reply is sent.
- Every minute or so: take back idle threads, pass requests left out of hours once agents are back.

Standby events never reach this code: they stay `stored` and nothing is ever sent for them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

import bot.clock
from bot.channel import formatting
from bot.channel.events import MessengerEvent
from bot.channel.graph import GraphClient
from bot.channel.inbox import ClaimedEvent
from bot.channel.thread_control import PAGE_INBOX_APP_ID, GraphThreadControl
from bot.config import Settings
from bot.db import messaging as m
from bot.db.base import changed_rows
from bot.services.handoff import escalations as service
from bot.services.handoff.escalations import ThreadControlPort
from bot.services.i18n import _
from bot.services.replies import Reply

log = logging.getLogger(__name__)
CONTROL_KINDS = ("pass_thread_control", "take_thread_control", "release_thread_control")
TABLES = ("escalations", "escalation_messages", "thread_states")


@dataclass
class Step:
    replies: list[Reply] = field(default_factory=list)
    stop: bool = False  # True: the turn ends here, nothing goes to Rasa


class HandoffGate:
    def __init__(
        self,
        sessions: Callable[[], Session],
        thread_control: ThreadControlPort,
        *,
        our_app_id: str = "",
        inbox_app_id: str = PAGE_INBOX_APP_ID,
        idle_after: timedelta = service.DEFAULT_IDLE,
        clock: Callable[[], datetime] | None = None,
    ):
        self._sessions = sessions
        self.thread_control = thread_control
        self.our_app_id, self.inbox_app_id = str(our_app_id or ""), str(inbox_app_id)
        self.idle_after = idle_after
        self.clock = clock or bot.clock.utcnow
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- webhook request (routes) ----

    def queue_control_events(self, events: Iterable[MessengerEvent]) -> list[tuple[int, str]]:
        """(id, sender) of stored thread-control events that change who answers, now pending.

        Conditional on `stored`, so a redelivered webhook is never handled twice."""
        wanted = [e for e in events if self.changes_owner(e.kind, e.raw.get(e.kind))]
        if not wanted:
            return []
        queued = []
        with self._sessions() as session:
            for event in wanted:
                done = session.execute(
                    update(m.InboundEvent)
                    .where(m.InboundEvent.dedup_key == event.dedup_key, m.InboundEvent.status == m.STORED)
                    .values(status=m.PENDING)
                    .execution_options(synchronize_session=False)
                )
                if changed_rows(done):
                    key = m.InboundEvent.dedup_key == event.dedup_key
                    queued.append((session.execute(select(m.InboundEvent.id).where(key)).scalar_one(), event.sender_id))
            session.commit()
        return queued

    def changes_owner(self, kind: str, body: object) -> bool:
        if kind == "release_thread_control":
            return True  # the thread is free: we answer the next message
        if kind not in CONTROL_KINDS or not isinstance(body, dict):
            return False
        if kind == "pass_thread_control":
            return self.is_ours(body.get("new_owner_app_id"))
        return not self.is_ours(body.get("new_owner_app_id"))  # take: by the inbox, we go silent

    def is_ours(self, app_id: object) -> bool:
        if app_id in (None, ""):
            return False
        if self.our_app_id:
            return str(app_id) == self.our_app_id
        # FB_APP_ID unset: Meta only sends a pass webhook to the new owner, so not-the-inbox is us.
        return str(app_id) != self.inbox_app_id

    # ---- worker (processing) ----

    def before_turn(self, event: ClaimedEvent) -> Step:
        now = self.clock()
        with self._sessions() as session:
            if event.kind in CONTROL_KINDS:
                step = self._control(session, event, now)
            else:
                step = self._message(session, event, now)
            session.commit()
        return step

    def after_turn(self, psid: str) -> list[Reply]:
        with self._sessions() as session:
            reply = service.complete_pending_pass(session, psid, self.thread_control, self.clock())
            session.commit()
        return [reply] if reply else []

    def _control(self, session: Session, event: ClaimedEvent, now: datetime) -> Step:
        raw = json.loads(session.scalar(select(m.InboundEvent.raw_json).where(m.InboundEvent.id == event.id)) or "{}")
        body = raw.get(event.kind) or {}
        if event.kind == "take_thread_control":
            service.on_taken_by_inbox(session, event.sender_id, now)
            return Step(stop=True)
        cause = "released" if event.kind == "release_thread_control" else "returned"
        log.info(
            "thread control back to the bot (%s from app %s)",
            event.kind,
            body.get("previous_owner_app_id") if isinstance(body, dict) else None,
        )
        reply = service.on_control_returned(session, event.sender_id, now, cause=cause)
        return Step([reply] if reply else [], stop=True)

    def _message(self, session: Session, event: ClaimedEvent, now: datetime) -> Step:
        psid, replies = event.sender_id, []
        if service.is_bot_silenced(session, psid):
            # Per Meta, `messaging` (not standby) means we own the thread again.
            reply = service.on_control_returned(session, psid, now, cause="user_message")
            replies += [reply] if reply else []
        else:
            greeting = service.pending_greeting(session, psid)
            replies += [greeting] if greeting else []
        if service.expects_message(session, psid, now):
            if event.kind == "text":
                ack = service.leave_message(session, psid, event.text or "", now)
                if ack is not None:
                    return Step(replies + [ack], stop=True)
            else:  # a button or chip: the user moved on, their choice goes to the bot
                service.cancel_expected_message(session, psid)
        return Step(replies)

    # ---- background sweep ----

    def sweep(self) -> None:
        now = self.clock()
        with self._sessions() as session:
            taken = service.on_inactivity_timeout(session, now, self.idle_after, self.thread_control)
            passed = service.pass_waiting_at_opening(session, self.thread_control, now)
            session.commit()
        if taken or passed:
            log.info("hand-off sweep: %d thread(s) taken back, %d waiting request(s) passed", len(taken), len(passed))

    def start(self, interval: float = 60.0) -> None:
        self._thread = threading.Thread(target=self._loop, args=(interval,), name="mobilis-handoff", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def _loop(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            try:
                self.sweep()
            except Exception:
                log.exception("hand-off sweep failed")


def reply_messages(reply: Reply) -> list[dict[str, Any]]:
    """A service Reply as Send API `message` objects, through the channel's own limits.

    Titles are translated here (shared chips are module constants, marked only)."""
    rasa: dict[str, Any] = {"text": reply.text}
    rasa["buttons"] = [
        {"title": _(b.title), "url": b.url} if b.url else {"title": _(b.title), "payload": b.payload}
        for b in reply.buttons
    ]
    rasa["quick_replies"] = [{"title": _(q.title), "payload": q.payload} for q in reply.quick_replies]
    if reply.cards:
        rasa["custom"] = {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "generic",
                    "elements": [
                        {
                            "title": _(c.title),
                            "subtitle": _(c.subtitle) if c.subtitle else c.subtitle,
                            "buttons": [
                                {"title": _(b.title), "url": b.url}
                                if b.url
                                else {"title": _(b.title), "payload": b.payload}
                                for b in c.buttons
                            ],
                        }
                        for c in reply.cards
                    ],
                },
            }
        }
    return formatting.messages_from_reply(rasa)


def build_handoff_gate(settings: Settings, sessions: Callable[[], Session], graph: GraphClient) -> HandoffGate | None:
    """The gate, or None when the hand-off tables are missing (database not migrated to
    0005_handoff): then no escalation can exist, so the channel simply answers as before."""
    with sessions() as session:
        inspector = inspect(session.get_bind())
        missing = [t for t in TABLES if not inspector.has_table(t)]
    if missing:
        log.warning("hand-off disabled: tables %s missing (run `python -m bot.db.migrate`)", ", ".join(missing))
        return None
    return HandoffGate(
        sessions,
        GraphThreadControl(graph, settings.page_id, settings.fb_inbox_app_id),
        our_app_id=settings.fb_app_id,
        inbox_app_id=settings.fb_inbox_app_id,
        idle_after=timedelta(minutes=settings.handoff_inactivity_minutes),
    )
