"""Account tables: subscribers, their lines and offers, balances (buckets), billing periods, usage
and notifications.

Conventions (docs/contracts.md): money in XPF integers, data in MB, voice in seconds, SMS as counts,
times stored in UTC (timezone-aware).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.clock import utcnow
from bot.db.base import Base, UTCDateTime, str_enum


class PlanFamily(str, enum.Enum):
    LIBERTE = "liberte"
    TOURISM_CARD = "tourism_card"
    FORFAIT_BLOQUE = "forfait_bloque"
    FORFAIT_HORAIRE = "forfait_horaire"
    FORFAIT_M = "forfait_m"
    DATA_SEUL = "data_seul"


# Prepaid families follow a credit balance; the others follow usage against a monthly allowance.
PREPAID_FAMILIES = frozenset({PlanFamily.LIBERTE, PlanFamily.TOURISM_CARD, PlanFamily.FORFAIT_BLOQUE})


class LineStatus(str, enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class BucketKind(str, enum.Enum):
    CREDIT = "credit"
    SMS = "sms"
    DATA = "data"
    VOICE = "voice"


class UsageKind(str, enum.Enum):
    VOICE = "voice"
    SMS = "sms"
    DATA = "data"


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The operator's customer id, for a subscriber first met through the operator's API (the
    # embedded demo subscribers have none).
    operator_ref: Mapped[str | None] = mapped_column(String(60), unique=True, nullable=True)

    lines: Mapped[list[Line]] = relationship(back_populates="subscriber", order_by="Line.id")


class Offer(Base):
    """A commercial offer (synced from data/catalogue.yml). Quantities are per month for
    forfaits and per validity period for prepaid kits; None means "not included"."""

    __tablename__ = "offers"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    plan_family: Mapped[PlanFamily] = mapped_column(str_enum(PlanFamily, "plan_family"), index=True)
    price_xpf: Mapped[int] = mapped_column(Integer)
    recurring: Mapped[bool] = mapped_column(Boolean, default=True)  # False: paid once (kits)
    credit_xpf: Mapped[int | None] = mapped_column(Integer, nullable=True)
    voice_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data_mb: Mapped[int | None] = mapped_column(Integer, nullable=True)
    voice_unlimited: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_unlimited: Mapped[bool] = mapped_column(Boolean, default=False)
    data_unlimited: Mapped[bool] = mapped_column(Boolean, default=False)
    validity_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(300), nullable=True)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False once removed from the file


class Line(Base):
    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(6), unique=True)  # 6 national digits, e.g. "791234"
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    plan_family: Mapped[PlanFamily] = mapped_column(str_enum(PlanFamily, "plan_family"))
    offer_code: Mapped[str] = mapped_column(ForeignKey("offers.code"), index=True)
    status: Mapped[LineStatus] = mapped_column(str_enum(LineStatus, "line_status"), default=LineStatus.ACTIVE)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="lines")
    offer: Mapped[Offer] = relationship()


class Balance(Base):
    """One bucket of a line: credit (XPF), SMS, data (MB) or voice (seconds).

    A line may hold several buckets of one kind (e.g. Tourism Card data + an IMD pack), each
    with its own validity; `label` says where it comes from.
    """

    __tablename__ = "balances"
    __table_args__ = (Index("ix_balances_line_kind", "line_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    kind: Mapped[BucketKind] = mapped_column(str_enum(BucketKind, "bucket_kind"))
    label: Mapped[str] = mapped_column(String(80), default="")
    remaining: Mapped[int] = mapped_column(Integer)
    initial: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(8))  # "XPF", "SMS", "MB", "s": explicit for readers of raw rows
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BillingPeriod(Base):
    """A forfait's monthly period, with the allowances in force then (None = unlimited), so
    that changing an offer later does not rewrite past consumption."""

    __tablename__ = "billing_periods"
    __table_args__ = (Index("ix_billing_periods_line_start", "line_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)  # exclusive
    voice_seconds_allowance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sms_allowance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data_mb_allowance: Mapped[int | None] = mapped_column(Integer, nullable=True)


class UsageRecord(Base):
    """One call, SMS or data session. Out-of-plan (hors forfait) records have in_plan False and
    a non-zero amount; `description` never holds a full third-party number (masked)."""

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_line_time", "line_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[UsageKind] = mapped_column(str_enum(UsageKind, "usage_kind"))
    quantity: Mapped[int] = mapped_column(Integer)  # seconds, SMS count or MB
    in_plan: Mapped[bool] = mapped_column(Boolean, default=True)
    amount_xpf: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(120), default="")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_line_read", "line_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
