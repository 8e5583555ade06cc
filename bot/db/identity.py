"""Identity tables: who a Messenger user (PSID) is, what they agreed to, how they proved it.

Lines live in bot/db/account.py; they are referenced by the string
"lines.id" so this module does not import the domain models.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime

PSID_LEN = 64  # Messenger PSIDs are ~16-20 digits; leave room for simulator ids.


class Consent(Base):
    """One row per (PSID, CGU version) accepted: a new version simply needs a new row."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("psid", "cgu_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psid: Mapped[str] = mapped_column(String(PSID_LEN), index=True)
    cgu_version: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MessengerLink(Base):
    """The line a PSID proved it holds (SMS code). At most one current line per PSID."""

    __tablename__ = "messenger_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psid: Mapped[str] = mapped_column(String(PSID_LEN), unique=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    via: Mapped[str] = mapped_column(String(16))  # "sms", "switch" or "dev"


class LinkChallenge(Base):
    """A one-time code sent (or pretended sent) to a number. Only an HMAC of the code is kept.

    `line_id` is NULL when the number is not an active Mobilis line: the challenge still exists
    so the conversation looks the same, but it can never succeed.
    """

    __tablename__ = "link_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psid: Mapped[str] = mapped_column(String(PSID_LEN), index=True)
    msisdn: Mapped[str] = mapped_column(String(6), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), nullable=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/verified/exhausted/superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes typed
    send_count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkEvent(Base):
    """Security counters (wrong code, code sent) keyed by a peppered hash of the PSID or number.

    Kept apart from challenges so that erasing one's data cannot reset a lockout, and hashed
    so that these short-lived rows carry no readable personal data.
    """

    __tablename__ = "link_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "wrong_code" or "code_sent"
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LinkLockout(Base):
    """Linking refused for a PSID or a number (hashed key) until `locked_until`."""

    __tablename__ = "link_lockouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SmsOutbox(Base):
    """SMS 'sent' by the embedded gateway (development/simulator): shown, never delivered."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(6), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
