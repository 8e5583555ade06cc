"""Purchasing tables: the catalogue (products and who may buy them), purchases, the quotes shown
to a user before any charge, and card payment sessions.

A quote is the "offer" a summary shows: its random `token` is what the
user's "Confirmer" carries, and the purchase made from it gets the idempotency key
`quote:<token>` — so a double tap, a redelivered message or two workers can never buy twice.
A payment session follows one card purchase at the payment provider; its `token` is our reference
there and the only id a provider notification may name.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.clock import utcnow
from bot.db.account import PlanFamily
from bot.db.base import Base, UTCDateTime, str_enum


class ProductType(str, enum.Enum):
    RL = "RL"  # Recharge Liberté (credit + SMS, extends validity)
    IMD = "IMD"  # Internet Mobile à la Demande (data pack, paid from credit)
    TOPUP = "TOPUP"  # extra data for plan subscribers, billed


class PaymentSource(str, enum.Enum):
    CREDIT = "credit"
    BILL = "bill"
    CARD = "card"


class PurchaseStatus(str, enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Product(Base):
    """Something a line can buy (synced from data/catalogue.yml; never deleted, only
    deactivated, because purchases reference it)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[ProductType] = mapped_column(str_enum(ProductType, "product_type"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    price_xpf: Mapped[int] = mapped_column(Integer)
    credit_xpf: Mapped[int] = mapped_column(Integer, default=0)
    sms: Mapped[int] = mapped_column(Integer, default=0)
    data_mb: Mapped[int] = mapped_column(Integer, default=0)
    validity_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ProductEligibility(Base):
    """Which plan family may buy which product, and how it is paid."""

    __tablename__ = "product_eligibility"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    plan_family: Mapped[PlanFamily] = mapped_column(str_enum(PlanFamily, "plan_family"), primary_key=True)
    payment_source: Mapped[PaymentSource] = mapped_column(str_enum(PaymentSource, "payment_source"))

    product: Mapped[Product] = relationship()


def eligible_for(plan_family: PlanFamily) -> Select[tuple[Product, ProductEligibility]]:
    """Active products a plan family may buy, with the payment rule (by type, then cheapest first)."""
    return (
        select(Product, ProductEligibility)
        .join(ProductEligibility, ProductEligibility.product_id == Product.id)
        .where(ProductEligibility.plan_family == plan_family, Product.active.is_(True))
        .order_by(Product.type, Product.price_xpf)
    )


class Purchase(Base):
    """A purchase attempt. `idempotency_key` is unique so a retried request (double tap,
    webhook redelivery) maps to the same row and is charged at most once. Type and price are
    copied from the product at purchase time: the catalogue may change afterwards."""

    __tablename__ = "purchases"
    __table_args__ = (Index("ix_purchases_line_created", "line_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    product_type: Mapped[ProductType] = mapped_column(str_enum(ProductType, "product_type"))
    price_xpf: Mapped[int] = mapped_column(Integer)
    payment_source: Mapped[PaymentSource] = mapped_column(str_enum(PaymentSource, "payment_source"))
    status: Mapped[PurchaseStatus] = mapped_column(
        str_enum(PurchaseStatus, "purchase_status"), default=PurchaseStatus.PENDING
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    product: Mapped[Product] = relationship()


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
