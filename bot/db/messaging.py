"""Messenger traffic: inbound webhook events (dedup + work queue) and the log of what we sent.

`inbound_events` is both the deduplication store (unique `dedup_key`) and the durable queue: a row
is written before the webhook answers 200, then claimed by a worker with a conditional UPDATE
(`status = 'pending'` → `'processing'`), which stays correct with several worker processes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.clock import utcnow
from bot.db.base import Base, UTCDateTime

# SQLite only auto-increments an "INTEGER PRIMARY KEY"; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Event statuses.
PENDING = "pending"  # accepted, waiting for a worker (or for `not_before` after a Rasa outage)
PROCESSING = "processing"  # claimed by a worker
DONE = "done"
FAILED = "failed"  # given up (the user was told once); kept for inspection
STORED = "stored"  # recorded only, nothing to answer (standby, thread control)
OPEN_STATUSES = (PENDING, PROCESSING)


class InboundEvent(Base):
    __tablename__ = "inbound_events"
    __table_args__ = (
        Index("ix_inbound_events_status_id", "status", "id"),
        Index("ix_inbound_events_sender_id_id", "sender_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # "mid:<message.mid>", "pb:<sender>:<timestamp>:<payload hash>", "tc:<kind>:<sender>:<ts>".
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # messaging | standby
    kind: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(64))  # PSID
    recipient_id: Mapped[str] = mapped_column(String(64), default="")  # page id
    event_time: Mapped[int] = mapped_column(BigInteger, default=0)  # ms epoch from Meta
    text: Mapped[str | None] = mapped_column(Text)  # message sent to Rasa
    raw_json: Mapped[str] = mapped_column(Text)  # the webhook item as received
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # Delivery state, so a retry after a crash or an outage never plays a turn twice:
    # earliest next attempt while Rasa is unreachable, and whether the user was told to wait.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    apologised: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Rasa's answer, stored before the first bubble is sent, and how many bubbles went out.
    replies_json: Mapped[str | None] = mapped_column(Text)
    replies_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class OutboundMessage(Base):
    """One Send API request (message or sender action) and how it ended."""

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    inbound_event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("inbound_events.id", ondelete="SET NULL"), index=True
    )
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # message | sender_action
    messaging_type: Mapped[str | None] = mapped_column(String(32))
    payload_json: Mapped[str] = mapped_column(Text)  # request body without any token
    status: Mapped[str] = mapped_column(String(16))  # sent | failed | dropped
    message_id: Mapped[str | None] = mapped_column(String(128))
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_subcode: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DialogueContext(Base):
    """What the assistant last asked a user and what it last showed them (JSON, see
    bot.services.dialogue.context), handed back to Rasa with the user's next message."""

    __tablename__ = "dialogue_contexts"

    psid: Mapped[str] = mapped_column(String(64), primary_key=True)
    context_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TrackerChore(Base):
    """Something owed to a user in Rasa's tracker store that failed when it was due: erasing their
    conversation ("erase") or masking a one-time code they typed ("mask"). Kept only until done
    (bot/channel/tracker_chores.py)."""

    __tablename__ = "tracker_chores"

    psid: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)  # an erasure removes what was said before
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
