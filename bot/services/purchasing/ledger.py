"""What a purchase will do to a line's balances (the summary), and the daily limits.

The line's buckets are read through the operator port, live (never a figure kept from a moment
ago: money is decided on them); the charging rules the projection follows are those of
bot.services.operator.charging (the operator applies them for real).

Every purchase decision runs after `lock_line`: PostgreSQL then serialises all purchases of one
line (SELECT … FOR UPDATE on the line row), and SQLite serialises every writer anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.account import PREPAID_FAMILIES, BucketKind, Line
from bot.db.purchasing import PaymentSource, Product, ProductType, Purchase, PurchaseStatus
from bot.services.fr_format import day_start, local_date
from bot.services.operator import charging
from bot.services.operator.port import Bucket, OperatorPort

COUNTED_STATUSES = (PurchaseStatus.PENDING, PurchaseStatus.SUCCEEDED)  # a pending purchase may still go through


def lock_line(session: Session, line_id: int) -> None:
    """Serialise money changes on one line (PostgreSQL row lock; SQLite ignores FOR UPDATE and
    serialises writers itself). FOR NO KEY UPDATE: it still excludes another purchase of the
    line, but not the foreign-key checks of rows merely pointing at the line (linking, usage)."""
    session.execute(select(Line.id).where(Line.id == line_id).with_for_update(key_share=True))


def credit_bucket(operator: OperatorPort, line: Line) -> Bucket | None:
    """The credit bucket purchases pay from and recharges feed."""
    return charging.credit_bucket(operator.buckets(line, live=True), line.plan_family)


def sms_bucket(operator: OperatorPort, line: Line) -> Bucket | None:
    return charging.sms_bucket(operator.buckets(line, live=True))


def usable_credit(operator: OperatorPort, line: Line, now: datetime) -> int:
    bucket = credit_bucket(operator, line)
    return bucket.remaining if bucket is not None and bucket.alive(now) else 0


def reserved_credit(session: Session, line: Line) -> int:
    """Credit promised to purchases the operator has not confirmed yet (it has not debited them
    yet, or we have not recorded that it did): a new purchase must not count on it."""
    reserved = session.scalar(
        select(func.coalesce(func.sum(Purchase.price_xpf), 0)).where(
            Purchase.line_id == line.id,
            Purchase.status == PurchaseStatus.PENDING,
            Purchase.payment_source == PaymentSource.CREDIT,
        )
    )
    return int(reserved or 0)


def data_available(operator: OperatorPort, line: Line, now: datetime) -> int | None:
    """Data the line can use now, in MB: valid data buckets plus what is left of the plan's
    monthly allowance; None when the plan's data is unlimited."""
    total = sum(b.remaining for b in operator.buckets(line, live=True) if b.kind == BucketKind.DATA and b.alive(now))
    if line.plan_family in PREPAID_FAMILIES:
        return total
    period = operator.billing_period(line, now)
    if period is None:
        return total
    if period.data_mb_allowance is None:
        return None
    used = operator.usage_totals(line, period.starts_at, now, in_plan=True).data_mb
    return total + max(0, period.data_mb_allowance - used)


def pack_validity(operator: OperatorPort, line: Line, product: Product, now: datetime) -> datetime | None:
    """Until when what is bought can be used."""
    period = operator.billing_period(line, now) if product.type == ProductType.TOPUP else None
    return charging.pack_validity(product, period, now)


@dataclass(frozen=True)
class Projection:
    """The line after the purchase, as the summary shows it (None: not relevant here)."""

    credit_now: int | None = None
    credit_after: int | None = None
    credit_valid_until: datetime | None = None
    credit_revived: int = 0  # expired credit that a recharge brings back
    sms_after: int | None = None
    data_now_mb: int | None = None
    data_after_mb: int | None = None
    valid_until: datetime | None = None  # of the product bought
    shortfall: int = 0  # credit missing to pay (credit-paid products)


def project(
    operator: OperatorPort, line: Line, product: Product, source: PaymentSource, price: int, now: datetime
) -> Projection:
    until = pack_validity(operator, line, product, now)
    if product.type == ProductType.RL:
        bucket, sms = credit_bucket(operator, line), sms_bucket(operator, line)
        alive = bucket is not None and bucket.alive(now)
        current = bucket.remaining if bucket is not None and alive else 0
        revived = bucket.remaining if bucket is not None and not alive else 0
        # A recharge revives what was left in an expired bucket, SMS included (see charging.py).
        sms_now = sms.remaining if sms is not None else 0
        return Projection(
            credit_now=current,
            credit_after=current + revived + product.credit_xpf,
            credit_valid_until=charging.new_validity(bucket, until, now),
            credit_revived=revived,
            sms_after=(sms_now + product.sms) if product.sms else None,
            valid_until=until,
        )
    data_now = data_available(operator, line, now)
    data_after = None if data_now is None else data_now + product.data_mb
    if source == PaymentSource.CREDIT:
        credit = usable_credit(operator, line, now)
        return Projection(
            credit_now=credit,
            credit_after=credit - price,
            data_now_mb=data_now,
            data_after_mb=data_after,
            valid_until=until,
            shortfall=max(0, price - credit),
        )
    return Projection(data_now_mb=data_now, data_after_mb=data_after, valid_until=until)


# ---------------------------------------------------------------------------- daily limits


@dataclass(frozen=True)
class DailyUsage:
    count: int
    amount_xpf: int


def daily_usage(session: Session, line: Line, now: datetime) -> DailyUsage:
    """Purchases of the line since midnight in Nouméa that count towards the limits."""
    start = day_start(local_date(now))
    count, amount = session.execute(
        select(func.count(Purchase.id), func.coalesce(func.sum(Purchase.price_xpf), 0)).where(
            Purchase.line_id == line.id, Purchase.created_at >= start, Purchase.status.in_(COUNTED_STATUSES)
        )
    ).one()
    return DailyUsage(int(count or 0), int(amount or 0))
