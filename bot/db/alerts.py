"""Opt-in alerts: what each Messenger user asked to be told about their linked line, and each
threshold crossing detected with what became of its message.

No subscription row means no alert (the default). An alert's `key` names the crossing (user, line,
kind, threshold, which balance or period, and how many times it was crossed before): detecting the
same crossing again inserts nothing, so it is never sent twice; when the balance goes back above
the threshold (a recharge, a new pass) the alert is re-armed (`rearmed_at`) and the next crossing
is a new one.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, str_enum


class AlertKind(str, enum.Enum):
    LOW_CREDIT = "low_credit"  # credit below the threshold the user chose (prepaid, forfait bloqué)
    EXPIRY = "expiry"  # credit or a pass expiring: 3 days before, then on the day
    DATA_USAGE = "data_usage"  # 75, 90 and 100 % of a data allowance or pass used
    OUT_OF_PLAN = "out_of_plan"  # out-of-plan charges of the period above the user's threshold (forfaits)
    # A purchase paid by card elsewhere (OPT site, shop, app) went through; one made in this chat is
    # answered in it (bot/channel/payment_notifications.py).
    CARD_PURCHASE = "card_purchase"


class AlertState(str, enum.Enum):
    PENDING = "pending"  # detected, to be sent (at `send_after` at the earliest)
    SENDING = "sending"  # claimed by a sender
    SENT = "sent"
    SUPPRESSED = "suppressed"  # not sent, on purpose: `reason` says why (metrics)
    FAILED = "failed"  # Messenger refused it for good


class AlertSubscription(Base):
    __tablename__ = "alert_subscriptions"

    psid: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, "alert_kind"), primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)  # XPF, for the kinds that have one
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertProfile(Base):
    """A user's delivery choices (no row: the defaults)."""

    __tablename__ = "alert_profiles"

    psid: Mapped[str] = mapped_column(String(64), primary_key=True)
    night_ok: Mapped[bool] = mapped_column(Boolean, default=False)  # alerts also between 21:00 and 07:00
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_state_send_after", "state", "send_after"),
        Index("ix_alerts_psid_sent_at", "psid", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    psid: Mapped[str] = mapped_column(String(64))
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, "alert_kind"))
    scope: Mapped[str] = mapped_column(
        String(80)
    )  # which balance or period: "credit", "bucket:12", "period:2026-12-01"
    threshold: Mapped[int] = mapped_column(Integer)  # XPF, % used, or days before expiry
    generation: Mapped[int] = mapped_column(Integer, default=1)
    params: Mapped[str] = mapped_column(Text)  # JSON: what the message says (amount, date, line ending)
    state: Mapped[AlertState] = mapped_column(str_enum(AlertState, "alert_state"), default=AlertState.PENDING)
    reason: Mapped[str | None] = mapped_column(String(24), nullable=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    send_after: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rearmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # when a purchase on the line followed the alert within 24 h (counted once, for the metric)
    followed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AlertTemplate(Base):
    """A utility message template on the Page, as Meta last described it."""

    __tablename__ = "alert_templates"

    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    remote_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(24))  # APPROVED, PENDING, REJECTED, PAUSED, DISABLED…
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
