"""What a purchase does to a line's balances: projected for the summary, applied for real.

Every function that changes money runs inside the caller's transaction, after `lock_line`:
PostgreSQL then serialises all purchases of one line (SELECT … FOR UPDATE on the line row), and
SQLite serialises every writer anyway. Amounts still move with SQL arithmetic and the debit is a
conditional UPDATE (… WHERE remaining >= price), so even a caller that forgot the lock could not
spend the same credit twice.

Sample rules (the catalogue's figures are samples too, see data/catalogue.yml):
- a Recharge Liberté adds its credit and SMS to the line's credit and SMS buckets and extends
  their validity to at least `validity_days` from today; credit that had expired comes back
  (the balance answer promises "une Recharge Liberté le réactive");
- on a forfait bloqué, recharged credit goes to its own bucket ("Crédit rechargé") so that the
  monthly plan credit, reset at renewal, never swallows it;
- an IMD pack or a TOP UP is a new data bucket: IMD valid `validity_days` from now, TOP UP until
  the end of the current billing period (the catalogue says so), else `validity_days`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeGuard

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.db.account import PREPAID_FAMILIES, Balance, BucketKind, Line, PlanFamily
from bot.db.base import changed_rows
from bot.db.purchasing import PaymentSource, Product, ProductType, Purchase, PurchaseStatus
from bot.services.account import accounts
from bot.services.fr_format import local_date

CREDIT_LABEL = "Crédit"
RECHARGED_CREDIT_LABEL = "Crédit rechargé"
SMS_LABEL = "SMS offerts"
UNITS = {BucketKind.CREDIT: "XPF", BucketKind.SMS: "SMS", BucketKind.DATA: "MB"}
COUNTED_STATUSES = (PurchaseStatus.PENDING, PurchaseStatus.SUCCEEDED)  # a pending card payment may still go through


def lock_line(session: Session, line_id: int) -> None:
    """Serialise money changes on one line (PostgreSQL row lock; SQLite ignores FOR UPDATE and
    serialises writers itself). FOR NO KEY UPDATE: it still excludes another purchase of the
    line, but not the foreign-key checks of rows merely pointing at the line (linking, usage)."""
    session.execute(select(Line.id).where(Line.id == line_id).with_for_update(key_share=True))


def _valid(bucket: Balance | None, now: datetime) -> TypeGuard[Balance]:
    return bucket is not None and (bucket.valid_until is None or bucket.valid_until > now)


def _latest(buckets: list[Balance]) -> Balance | None:
    """The bucket that lasts longest (no end date counts as the longest)."""
    far = datetime.max.replace(tzinfo=UTC)
    return max(buckets, key=lambda b: (b.valid_until or far, b.id), default=None)


def _new_validity(bucket: Balance | None, until: datetime | None, now: datetime) -> datetime | None:
    """Validity of a bucket after a recharge: extended if alive, restarted if expired, and
    left alone when it never expires."""
    if bucket is None:
        return until
    if bucket.valid_until is None:
        return None
    if _valid(bucket, now):
        return bucket.valid_until if until is None else max(bucket.valid_until, until)
    return until or bucket.valid_until


def credit_bucket(session: Session, line: Line) -> Balance | None:
    """The credit bucket purchases pay from and recharges feed."""
    rows = list(
        session.scalars(
            select(Balance)
            .where(Balance.line_id == line.id, Balance.kind == BucketKind.CREDIT)
            .execution_options(populate_existing=True)
        )
    )
    if line.plan_family == PlanFamily.FORFAIT_BLOQUE:
        rows = [b for b in rows if b.label == RECHARGED_CREDIT_LABEL]
    return _latest(rows)


def sms_bucket(session: Session, line: Line) -> Balance | None:
    rows = list(
        session.scalars(
            select(Balance)
            .where(Balance.line_id == line.id, Balance.kind == BucketKind.SMS, Balance.label == SMS_LABEL)
            .execution_options(populate_existing=True)
        )
    )
    return _latest(rows)


def usable_credit(session: Session, line: Line, now: datetime) -> int:
    bucket = credit_bucket(session, line)
    return bucket.remaining if _valid(bucket, now) else 0


def data_available(session: Session, line: Line, now: datetime) -> int | None:
    """Data the line can use now, in MB: valid data buckets plus what is left of the plan's
    monthly allowance; None when the plan's data is unlimited."""
    total = (
        session.scalar(
            select(func.coalesce(func.sum(Balance.remaining), 0)).where(
                Balance.line_id == line.id,
                Balance.kind == BucketKind.DATA,
                or_(Balance.valid_until.is_(None), Balance.valid_until > now),
            )
        )
        or 0
    )
    if line.plan_family in PREPAID_FAMILIES:
        return int(total)
    period = accounts.current_period(session, line, now)
    if period is None:
        return int(total)
    if period.data_mb_allowance is None:
        return None
    used = accounts.usage_totals(session, line, period.starts_at, now, in_plan=True).data_mb
    return int(total) + max(0, period.data_mb_allowance - used)


def pack_validity(session: Session, line: Line, product: Product, now: datetime) -> datetime | None:
    """Until when what is bought can be used."""
    days = product.validity_days
    if product.type == ProductType.RL:
        return accounts.end_of_day(local_date(now) + timedelta(days=days)) if days else None
    if product.type == ProductType.TOPUP:
        period = accounts.current_period(session, line, now)
        if period is not None:
            return period.ends_at - timedelta(seconds=1)
    return now + timedelta(days=days) if days else None


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
    session: Session, line: Line, product: Product, source: PaymentSource, price: int, now: datetime
) -> Projection:
    until = pack_validity(session, line, product, now)
    if product.type == ProductType.RL:
        bucket, sms = credit_bucket(session, line), sms_bucket(session, line)
        alive = _valid(bucket, now)
        current = bucket.remaining if bucket is not None and alive else 0
        revived = bucket.remaining if bucket is not None and not alive else 0
        # A recharge revives what was left in an expired bucket, SMS included (see deliver()).
        sms_now = sms.remaining if sms is not None else 0
        return Projection(
            credit_now=current,
            credit_after=current + revived + product.credit_xpf,
            credit_valid_until=_new_validity(bucket, until, now),
            credit_revived=revived,
            sms_after=(sms_now + product.sms) if product.sms else None,
            valid_until=until,
        )
    data_now = data_available(session, line, now)
    data_after = None if data_now is None else data_now + product.data_mb
    if source == PaymentSource.CREDIT:
        credit = usable_credit(session, line, now)
        return Projection(
            credit_now=credit,
            credit_after=credit - price,
            data_now_mb=data_now,
            data_after_mb=data_after,
            valid_until=until,
            shortfall=max(0, price - credit),
        )
    return Projection(data_now_mb=data_now, data_after_mb=data_after, valid_until=until)


# ------------------------------------------------------------------------ applying for real


def debit_credit(session: Session, line: Line, amount: int, now: datetime) -> bool:
    """Take `amount` from the line's valid credit; False (nothing changed) if it is short."""
    bucket = credit_bucket(session, line)
    if bucket is None or not _valid(bucket, now):
        return False
    result = session.execute(
        update(Balance)
        .where(
            Balance.id == bucket.id,
            Balance.remaining >= amount,
            or_(Balance.valid_until.is_(None), Balance.valid_until > now),
        )
        .values(remaining=Balance.remaining - amount, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result) == 1


def deliver(session: Session, line: Line, product: Product, now: datetime) -> None:
    """Give the line what the product contains (caller holds the line lock, same transaction)."""
    until = pack_validity(session, line, product, now)
    if product.type == ProductType.RL:
        label = RECHARGED_CREDIT_LABEL if line.plan_family == PlanFamily.FORFAIT_BLOQUE else CREDIT_LABEL
        _top_up(session, line, credit_bucket(session, line), BucketKind.CREDIT, label, product.credit_xpf, until, now)
        if product.sms:
            _top_up(session, line, sms_bucket(session, line), BucketKind.SMS, SMS_LABEL, product.sms, until, now)
        return
    if product.data_mb:
        session.add(
            Balance(
                line_id=line.id,
                kind=BucketKind.DATA,
                label=product.name[:80],
                remaining=product.data_mb,
                initial=product.data_mb,
                unit=UNITS[BucketKind.DATA],
                valid_until=until,
                updated_at=now,
            )
        )
        session.flush()


def _top_up(
    session: Session,
    line: Line,
    bucket: Balance | None,
    kind: BucketKind,
    label: str,
    amount: int,
    until: datetime | None,
    now: datetime,
) -> None:
    if bucket is None:
        session.add(
            Balance(
                line_id=line.id,
                kind=kind,
                label=label,
                remaining=amount,
                initial=amount,
                unit=UNITS[kind],
                valid_until=until,
                updated_at=now,
            )
        )
        session.flush()
        return
    session.execute(
        update(Balance)
        .where(Balance.id == bucket.id)
        # `initial` follows the last top-up: it is the reference for "nearly used up" warnings.
        .values(
            remaining=Balance.remaining + amount,
            initial=Balance.remaining + amount,
            valid_until=_new_validity(bucket, until, now),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------------------- daily limits


@dataclass(frozen=True)
class DailyUsage:
    count: int
    amount_xpf: int


def daily_usage(session: Session, line: Line, now: datetime) -> DailyUsage:
    """Purchases of the line since midnight in Nouméa that count towards the limits."""
    start = accounts.day_start(local_date(now))
    count, amount = session.execute(
        select(func.count(Purchase.id), func.coalesce(func.sum(Purchase.price_xpf), 0)).where(
            Purchase.line_id == line.id, Purchase.created_at >= start, Purchase.status.in_(COUNTED_STATUSES)
        )
    ).one()
    return DailyUsage(int(count or 0), int(amount or 0))
