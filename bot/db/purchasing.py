"""Purchasing tables: the quotes shown to a user before any charge, and card payment sessions.

Owner: payments engineer. A quote is the "offer" a summary shows: its random `token` is what the
user's "Confirmer" carries, and the purchase made from it gets the idempotency key
`quote:<token>` — so a double tap, a redelivered message or two workers can never buy twice.
A payment session follows one card purchase at the payment provider; its `token` is our reference
there and the only id a provider notification may name.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.clock import utcnow
from bot.db.base import Base, UTCDateTime
from bot.db.models import PaymentSource, ProductType, str_enum


class QuoteStatus(str, enum.Enum):
    OPEN = "open"  # summary shown, waiting for Confirmer / Annuler
    CONFIRMED = "confirmed"  # a purchase was made from it (see purchase_id)
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"  # the user asked for another summary since


class PaymentStatus(str, enum.Enum):
    PENDING = "pending"  # link sent, the provider has not answered yet
    APPROVED = "approved"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    EXPIRED = "expired"  # nothing heard before expires_at
    CANCELLED = "cancelled"  # the user cancelled in the chat before paying


# Which user message is owed for a payment session (see bot/channel/payment_notifications.py).
NOTICE_PENDING, NOTICE_SENDING, NOTICE_SENT, NOTICE_FAILED, NOTICE_DROPPED = (
    "pending",
    "sending",
    "sent",
    "failed",
    "dropped",
)


class PurchaseQuote(Base):
    __tablename__ = "purchase_quotes"
    __table_args__ = (Index("ix_purchase_quotes_psid_status", "psid", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    psid: Mapped[str] = mapped_column(String(64))
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # Copied when the summary is shown: the user agrees to THIS price, whatever the file says later.
    product_type: Mapped[ProductType] = mapped_column(str_enum(ProductType, "product_type"))
    price_xpf: Mapped[int] = mapped_column(Integer)
    payment_source: Mapped[PaymentSource] = mapped_column(str_enum(PaymentSource, "payment_source"))
    status: Mapped[QuoteStatus] = mapped_column(str_enum(QuoteStatus, "quote_status"), default=QuoteStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    purchase_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchases.id", ondelete="SET NULL"), nullable=True, unique=True
    )


class PaymentSession(Base):
    __tablename__ = "payment_sessions"
    __table_args__ = (Index("ix_payment_sessions_status_expires", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # our reference, in links and notifications
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id", ondelete="CASCADE"), unique=True)
    psid: Mapped[str] = mapped_column(String(64))  # who is told the result on Messenger
    provider: Mapped[str] = mapped_column(String(20))
    amount_xpf: Mapped[int] = mapped_column(Integer)
    status: Mapped[PaymentStatus] = mapped_column(
        str_enum(PaymentStatus, "payment_status"), default=PaymentStatus.PENDING
    )
    provider_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    provider_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_event_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    notice_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # sending: when claimed
