"""Hand-off to a human: escalations, what agents wrote, and who owns each Messenger thread.

One `escalations` row per request for a human (never deleted while
open: it is the record agents and audits read). `thread_states` says, per PSID, whether the bot
or the page's human inbox answers; the channel reads it before every turn.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime

PSID_LEN = 64

# Why the bot escalated.
USER_REQUEST = "user_request"
MISUNDERSTANDING = "misunderstanding"
ACTION_FAILURE = "action_failure"
LOST_PHONE = "lost_phone"
FRUSTRATION = "frustration"  # "tu comprends rien", "c'est nul", insults
REPEATED = "repeated"  # the same message a third time in a row
REASONS = (USER_REQUEST, MISUNDERSTANDING, ACTION_FAILURE, LOST_PHONE, FRUSTRATION, REPEATED)

# Escalation statuses.
OPEN = "open"  # in hours, control not (yet) with the inbox: pass pending or failed
WITH_AGENT = "with_agent"  # the page's human inbox owns the thread
WAITING_HOURS = "waiting_hours"  # asked while the 1000 was closed: kept for the agents
CLOSED = "closed"
ACTIVE_STATUSES = (OPEN, WITH_AGENT, WAITING_HOURS)

# Thread owners.
BOT = "bot"
INBOX = "inbox"  # the Page Inbox (or any app other than ours)


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_psid_status", "psid", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psid: Mapped[str] = mapped_column(String(PSID_LEN))
    reason: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), index=True)
    line_masked: Mapped[str | None] = mapped_column(String(16))  # "79****", never the full number
    last_intents: Mapped[str] = mapped_column(Text, default="")  # comma-separated intent names
    summary: Mapped[str] = mapped_column(Text)  # the thread-control metadata (≤ 1000 chars)
    user_message: Mapped[str | None] = mapped_column(Text)  # left by the user out of hours
    pass_pending: Mapped[bool] = mapped_column(Boolean, default=False)  # channel passes after the reply
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # control reached the inbox
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How it ended: returned (pass back), released, user_message (messages on `messaging` again),
    # inactivity, expired (control never reached the inbox).
    closed_by: Mapped[str | None] = mapped_column(String(24))


class EscalationMessage(Base):
    """What an agent wrote through our tools (Page Inbox replies are echoes we do not keep)."""

    __tablename__ = "escalation_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    psid: Mapped[str] = mapped_column(String(PSID_LEN))
    author: Mapped[str] = mapped_column(String(16))  # agent
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ThreadState(Base):
    """Who answers this PSID. No row means the bot (Messenger's default for our page)."""

    __tablename__ = "thread_states"

    psid: Mapped[str] = mapped_column(String(PSID_LEN), primary_key=True)
    owner: Mapped[str] = mapped_column(String(8))  # bot | inbox
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id", ondelete="SET NULL"))
    # Out of hours the next free text is the message left for the agents, until this instant.
    awaiting_message_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Greeting owed at the user's next message (set when control came back silently): "timeout".
    pending_greeting: Mapped[str | None] = mapped_column(String(16))
