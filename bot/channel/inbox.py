"""Durable inbox: webhook events are deduplicated and queued in `inbound_events`.

Every state change is a short transaction of its own. Claiming is a conditional UPDATE
(`... WHERE id = :id AND status = 'pending'`), so two workers, threads or processes, can never
both process an event. A sender's events are taken strictly oldest first (`claim_next`): a newer
message never overtakes one that is still in progress or waiting for Rasa to come back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot import clock
from bot.channel.events import MessengerEvent, raw_json
from bot.db import messaging as m
from bot.db.base import changed_rows
from bot.logmask import mask_codes
from bot.services.dialogue import context as dialogue
from bot.services.privacy.erasure import PSEUDONYM

log = logging.getLogger(__name__)
ERROR_LIMIT = 2000


@dataclass(frozen=True)
class Accepted:
    id: int
    sender_id: str
    status: str  # pending (to answer) or stored (record only)


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    sender_id: str
    kind: str
    text: str | None
    attempts: int
    received_at: datetime | None = None
    apologised: bool = False
    replies_json: str | None = None  # Rasa's answer when an earlier attempt already got it
    replies_sent: int = 0  # bubbles of that answer already delivered


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def erased_key(dedup_key: str) -> str:
    """The dedup key of an erased turn: still recognises a redelivery, no longer shows the key
    (thread-control keys name the PSID)."""
    return "erased:" + hashlib.sha256(dedup_key.encode()).hexdigest()


class Inbox:
    """The durable queue of inbound events. One-time codes are masked before a message is stored:
    the clear text is kept in this process's memory until the event is done, so Rasa still reads
    the code; an event resumed by another process (after a crash) only has the masked text, and the
    user is asked to type the code again."""

    def __init__(self, session_factory: Callable[[], Session], worker_id: str | None = None):
        self._sessions = session_factory
        self.worker_id = worker_id or new_worker_id()
        self._clear_texts: dict[int, str | None] = {}
        self._clear_lock = threading.Lock()

    def record(self, events: Iterable[MessengerEvent]) -> list[Accepted]:
        """Store new events (one transaction each); duplicates are skipped, not errors."""
        accepted = []
        for event in events:
            stored_text = mask_codes(event.text) if event.text else event.text
            row = m.InboundEvent(
                dedup_key=event.dedup_key,
                channel=event.channel,
                kind=event.kind,
                sender_id=event.sender_id,
                recipient_id=event.recipient_id,
                event_time=event.timestamp,
                text=stored_text,
                raw_json=mask_codes(raw_json(event)),
                status=m.PENDING if event.answerable else m.STORED,
                received_at=clock.utcnow(),
            )
            with self._sessions() as session:
                if session.scalar(
                    select(m.InboundEvent.id).where(
                        m.InboundEvent.dedup_key.in_((event.dedup_key, erased_key(event.dedup_key)))
                    )
                ):
                    log.info("duplicate webhook event %s ignored", event.dedup_key[:40])
                    continue
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:  # the same event raced in through another request
                    session.rollback()
                    log.info("duplicate webhook event %s ignored", event.dedup_key[:40])
                    continue
                if stored_text != event.text:
                    with self._clear_lock:
                        self._clear_texts[row.id] = event.text
                accepted.append(Accepted(row.id, row.sender_id, row.status))
        return accepted

    def claim(self, event_id: int) -> ClaimedEvent | None:
        """Take a pending event for this worker; None if it is not pending any more."""
        return self._claim(m.InboundEvent.id == event_id)

    def _claim(self, *where: ColumnElement[bool]) -> ClaimedEvent | None:
        # One statement (UPDATE ... RETURNING) on the hot path of every message.
        c = m.InboundEvent
        with self._sessions() as session:
            row = session.execute(
                update(c)
                .where(*where, c.status == m.PENDING)
                .values(
                    status=m.PROCESSING, claimed_at=clock.utcnow(), claimed_by=self.worker_id, attempts=c.attempts + 1
                )
                .returning(
                    c.id,
                    c.sender_id,
                    c.kind,
                    c.text,
                    c.attempts,
                    c.received_at,
                    c.apologised,
                    c.replies_json,
                    c.replies_sent,
                )
                .execution_options(synchronize_session=False)
            ).first()
            session.commit()
        if row is None:
            return None
        with self._clear_lock:  # a code typed: the clear text only ever lived in this process
            text = self._clear_texts.get(row.id, row.text)
        return ClaimedEvent(
            row.id,
            row.sender_id,
            row.kind,
            text,
            row.attempts,
            row.received_at,
            bool(row.apologised),
            row.replies_json,
            row.replies_sent or 0,
        )

    def next_due(self, sender_id: str) -> int | None:
        """Id of the sender's oldest open event if it can be worked on now, else None.

        None also when that oldest event is in progress elsewhere or waiting for a retry time:
        the sender's later events wait behind it, so the user is answered in order.
        """
        with self._sessions() as session:
            row = session.execute(
                select(m.InboundEvent.id, m.InboundEvent.status, m.InboundEvent.not_before)
                .where(m.InboundEvent.sender_id == sender_id, m.InboundEvent.status.in_(m.OPEN_STATUSES))
                .order_by(m.InboundEvent.event_time, m.InboundEvent.id)
                .limit(1)
            ).first()
        if row is None or row.status != m.PENDING:
            return None
        if row.not_before is not None and row.not_before > clock.utcnow():
            return None
        return int(row.id)

    def claim_next(self, sender_id: str) -> ClaimedEvent | None:
        """Claim the sender's oldest open event if it is pending and due (same rule as next_due)."""
        c = m.InboundEvent
        oldest_open = (
            select(c.id)
            .where(c.sender_id == sender_id, c.status.in_(m.OPEN_STATUSES))
            .order_by(c.event_time, c.id)
            .limit(1)
            .scalar_subquery()
        )
        return self._claim(c.id == oldest_open, or_(c.not_before.is_(None), c.not_before <= clock.utcnow()))

    def due_senders(self, received_before: datetime | None = None, limit: int = 500) -> list[str]:
        """Senders with a pending event whose retry time (if any) has come, oldest first."""
        now = clock.utcnow()
        query = (
            select(m.InboundEvent.sender_id, m.InboundEvent.id)
            .where(
                m.InboundEvent.status == m.PENDING,
                or_(m.InboundEvent.not_before.is_(None), m.InboundEvent.not_before <= now),
            )
            .order_by(m.InboundEvent.id)
            .limit(limit)
        )
        if received_before is not None:  # fresh events are the webhook's own job; retries are ours
            query = query.where(or_(m.InboundEvent.received_at < received_before, m.InboundEvent.attempts > 0))
        with self._sessions() as session:
            senders = [row.sender_id for row in session.execute(query)]
        return list(dict.fromkeys(senders))  # unique, first-seen order

    def finish(self, event_id: int, status: str, error: str | None = None) -> None:
        """Record the end of an attempt; PENDING puts the event back in the queue (see `retry_later`)."""
        if status != m.PENDING:
            with self._clear_lock:
                self._clear_texts.pop(event_id, None)
        values: dict[str, Any] = {"status": status, "error": (error or None) and error[:ERROR_LIMIT]}
        if status == m.PENDING:
            values["claimed_by"] = None
        else:
            values["finished_at"] = clock.utcnow()
        with self._sessions() as session:
            session.execute(
                update(m.InboundEvent)
                .where(m.InboundEvent.id == event_id, m.InboundEvent.claimed_by == self.worker_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    def heartbeat(self, event_ids: Iterable[int]) -> None:
        """Renew this worker's claims on events it is still processing, so that the claim lease
        measures whether the worker is alive, not how long a turn takes."""
        ids = list(event_ids)
        if ids:
            self._update_many(ids, claimed_at=clock.utcnow())

    def retry_later(self, event_id: int, not_before: datetime | None, apologised: bool) -> None:
        """Set when the next attempt may start (the caller then finishes the attempt as PENDING)."""
        self._update(event_id, not_before=not_before, apologised=apologised)

    def confirm_delivered(self, bubbles: Iterable[tuple[int, int]]) -> None:
        """Move delivery cursors from message echoes (never backwards): a bubble Meta echoed is
        not sent again by a turn resumed after a crash, even if its sender died before logging it."""
        c = m.InboundEvent
        with self._sessions() as session:
            for event_id, index in bubbles:
                session.execute(
                    update(c)
                    .where(c.id == event_id, c.replies_sent < index + 1)
                    .values(replies_sent=index + 1)
                    .execution_options(synchronize_session=False)
                )
            session.commit()

    def save_replies(
        self, event_id: int, replies_json: str, sender_id: str | None = None, context: dict[str, Any] | None = None
    ) -> None:
        """Keep Rasa's answer before sending it: a retry sends what is left instead of a new turn.

        With `sender_id`, what this answer asks and shows (`context`; None: nothing) replaces the
        user's dialogue context in the same transaction, so context and answer never disagree.
        """
        with self._sessions() as session:
            session.execute(
                update(m.InboundEvent)
                .where(m.InboundEvent.id == event_id, m.InboundEvent.claimed_by == self.worker_id)
                .values(replies_json=replies_json)
                .execution_options(synchronize_session=False)
            )
            if sender_id is not None:
                _store_context(session, sender_id, context)
            session.commit()

    def forget_turn(self, event_id: int, sender_id: str) -> None:
        """The turn that erased the user's data leaves nothing of them either: its own message is
        kept (the queue needs the row) without its text, and its answers no longer say to whom."""
        with self._sessions() as session:
            key = session.scalar(select(m.InboundEvent.dedup_key).where(m.InboundEvent.id == event_id))
            session.execute(
                update(m.InboundEvent)
                .where(m.InboundEvent.id == event_id)
                .values(sender_id=PSEUDONYM, text=None, raw_json="{}", dedup_key=erased_key(key or ""))
                .execution_options(synchronize_session=False)
            )
            # The answer itself ("C'est fait…") says nothing about the user: only who it went to goes.
            for row in session.scalars(select(m.OutboundMessage).where(m.OutboundMessage.inbound_event_id == event_id)):
                payload = json.loads(row.payload_json or "{}")
                if isinstance(payload.get("recipient"), dict):
                    payload["recipient"]["id"] = PSEUDONYM
                row.recipient_id, row.payload_json = PSEUDONYM, json.dumps(payload, ensure_ascii=False)
            session.execute(delete(m.DialogueContext).where(m.DialogueContext.psid == sender_id))
            session.commit()

    def dialogue_context(self, sender_id: str) -> dict[str, Any] | None:
        """The user's live dialogue context (JSON), or None when absent or expired."""
        with self._sessions() as session:
            row = session.get(m.DialogueContext, sender_id)
            if row is None or row.expires_at <= clock.utcnow():
                return None
            try:
                value = json.loads(row.context_json)
            except ValueError:
                return None
        return value if isinstance(value, dict) else None

    def recent_texts(self, sender_id: str, before_event_id: int) -> list[str]:
        """The user's typed messages just before this one (oldest first, a few minutes back)."""
        c = m.InboundEvent
        since = clock.utcnow() - dialogue.RECENT_WINDOW
        with self._sessions() as session:
            rows = session.scalars(
                select(c.text)
                .where(
                    c.sender_id == sender_id,
                    c.id < before_event_id,
                    c.kind == "text",
                    c.received_at >= since,
                    c.text.is_not(None),
                )
                .order_by(c.id.desc())
                .limit(dialogue.RECENT_COUNT)
            ).all()
        return [text for text in reversed(rows) if text is not None]

    def _update(self, event_id: int, **values: Any) -> None:
        self._update_many([event_id], **values)

    def _update_many(self, event_ids: list[int], **values: Any) -> None:
        with self._sessions() as session:
            session.execute(
                update(m.InboundEvent)
                .where(m.InboundEvent.id.in_(event_ids), m.InboundEvent.claimed_by == self.worker_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    def requeue_in_progress(self, older_than: timedelta | None = None) -> int:
        """Put `processing` events back to `pending` (all of them, or claims older than a lease).

        With the embedded single-process worker every such row at start-up belongs to a dead
        process; several processes must pass a lease so they do not steal live claims.
        """
        query = update(m.InboundEvent).where(m.InboundEvent.status == m.PROCESSING)
        if older_than is not None:
            query = query.where(m.InboundEvent.claimed_at < clock.utcnow() - older_than)
        with self._sessions() as session:
            result = session.execute(
                query.values(status=m.PENDING, claimed_by=None).execution_options(synchronize_session=False)
            )
            session.commit()
        requeued = changed_rows(result)
        if requeued:
            log.warning("requeued %d event(s) left in progress", requeued)
        return requeued

    def log_outbound(
        self,
        event_id: int | None,
        recipient_id: str,
        payload: dict[str, Any],
        status: str,
        message_id: str | None = None,
        error: Exception | str | None = None,
        replies_sent: int | None = None,
    ) -> None:
        """Keep a trace of each Send API request (never the token: it is not in the payload).

        With `replies_sent`, the event's delivery cursor moves in the same transaction, so after a
        crash only a bubble whose send was in flight at that very moment can go out twice.
        """
        kind = "sender_action" if "sender_action" in payload else "message"
        row = m.OutboundMessage(
            inbound_event_id=event_id,
            recipient_id=recipient_id,
            kind=kind,
            messaging_type=payload.get("messaging_type"),
            payload_json=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            status=status,
            message_id=message_id,
            error_code=getattr(error, "code", None),
            error_subcode=getattr(error, "subcode", None),
            error=str(error)[:ERROR_LIMIT] if error else None,
            created_at=clock.utcnow(),
        )
        with self._sessions() as session:
            session.add(row)
            if replies_sent is not None and event_id is not None:
                session.execute(
                    update(m.InboundEvent)
                    .where(m.InboundEvent.id == event_id)
                    .values(replies_sent=replies_sent)
                    .execution_options(synchronize_session=False)
                )
            session.commit()


def _store_context(session: Session, sender_id: str, context: dict[str, Any] | None) -> None:
    row = session.get(m.DialogueContext, sender_id)
    if not context:
        if row is not None:
            session.delete(row)
        return
    now = clock.utcnow()
    if row is None:
        row = m.DialogueContext(psid=sender_id)
        session.add(row)
    row.context_json = json.dumps(context, ensure_ascii=False, separators=(",", ":"))
    row.updated_at, row.expires_at = now, now + dialogue.TTL
