"""Read queries on a line's account (no reply building here: see consultation.py).

Every function takes the line the caller is allowed to see (found through
bot.services.identity.linking.get_linked_line); nothing here looks a line up from user input.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.account import Balance, BillingPeriod, BucketKind, Line, Notification, UsageKind, UsageRecord
from bot.db.purchasing import Product, ProductEligibility, ProductType, Purchase
from bot.services.fr_format import NOUMEA, local_date


def day_start(day: date) -> datetime:
    """Midnight in Nouméa of `day`, as an aware UTC datetime (how times are stored)."""
    return datetime.combine(day, time(0), NOUMEA).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def balances(session: Session, line: Line) -> list[Balance]:
    """Buckets of the line, credit first, then SMS, data, voice; soonest validity first."""
    order = {BucketKind.CREDIT: 0, BucketKind.SMS: 1, BucketKind.DATA: 2, BucketKind.VOICE: 3}
    rows = session.scalars(select(Balance).where(Balance.line_id == line.id)).all()
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda b: (order[b.kind], b.valid_until or far, b.id))


def current_period(session: Session, line: Line, now: datetime) -> BillingPeriod | None:
    return billing_period(session, line, now)


def billing_period(session: Session, line: Line, now: datetime, back: int = 0) -> BillingPeriod | None:
    """The forfait period in force now (back=0), or the one `back` periods before it."""
    current = session.scalars(
        select(BillingPeriod)
        .where(BillingPeriod.line_id == line.id, BillingPeriod.starts_at <= now, BillingPeriod.ends_at > now)
        .order_by(BillingPeriod.starts_at.desc())
    ).first()
    if back <= 0 or current is None:
        return current
    return session.scalars(
        select(BillingPeriod)
        .where(BillingPeriod.line_id == line.id, BillingPeriod.starts_at < current.starts_at)
        .order_by(BillingPeriod.starts_at.desc())
        .offset(back - 1)
        .limit(1)
    ).first()


@dataclass(frozen=True)
class UsageTotals:
    voice_seconds: int = 0
    sms: int = 0
    data_mb: int = 0
    amount_xpf: int = 0  # credit used (prepaid) or out-of-plan charges, depending on the query


def usage_totals(
    session: Session, line: Line, start: datetime, end: datetime, in_plan: bool | None = True
) -> UsageTotals:
    """Sum of usage in [start, end); in_plan None counts everything."""
    query = (
        select(UsageRecord.kind, func.sum(UsageRecord.quantity), func.sum(UsageRecord.amount_xpf))
        .where(UsageRecord.line_id == line.id, UsageRecord.occurred_at >= start, UsageRecord.occurred_at < end)
        .group_by(UsageRecord.kind)
    )
    if in_plan is not None:
        query = query.where(UsageRecord.in_plan.is_(in_plan))
    sums = {kind: (int(qty or 0), int(amount or 0)) for kind, qty, amount in session.execute(query)}
    return UsageTotals(
        voice_seconds=sums.get(UsageKind.VOICE, (0, 0))[0],
        sms=sums.get(UsageKind.SMS, (0, 0))[0],
        data_mb=sums.get(UsageKind.DATA, (0, 0))[0],
        amount_xpf=sum(amount for _, amount in sums.values()),
    )


def out_of_plan_records(session: Session, line: Line, start: datetime, end: datetime) -> list[UsageRecord]:
    """Hors forfait charges in [start, end), newest first."""
    return list(
        session.scalars(
            select(UsageRecord)
            .where(
                UsageRecord.line_id == line.id,
                UsageRecord.in_plan.is_(False),
                UsageRecord.occurred_at >= start,
                UsageRecord.occurred_at < end,
            )
            .order_by(UsageRecord.occurred_at.desc(), UsageRecord.id.desc())
        )
    )


@dataclass(frozen=True)
class PurchaseWindow:
    start: datetime
    end: datetime
    month: int | None  # set when the window is one calendar month


def purchase_window(now: datetime, month: int | None = None) -> PurchaseWindow:
    """Default: the last 3 months up to now. With `month` (1-12): that calendar month in
    Nouméa, the most recent one not in the future (asking for "novembre" in February means
    last November), so an explicit month may look further back than 3 months (≤ 1 year)."""
    today = local_date(now)
    if month is None:
        return PurchaseWindow(day_start(add_months(today, -3)), now, None)
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")
    year = today.year if month <= today.month else today.year - 1
    first = date(year, month, 1)
    return PurchaseWindow(day_start(first), min(now, day_start(add_months(first, 1))), month)


def months_back_window(now: datetime, months_back: int) -> PurchaseWindow:
    """The calendar month `months_back` months before this one (0: this month), up to now."""
    first = add_months(local_date(now).replace(day=1), -max(0, months_back))
    return PurchaseWindow(day_start(first), min(now, day_start(add_months(first, 1))), first.month)


def day_window(day: date, now: datetime) -> PurchaseWindow:
    """One calendar day in Nouméa, up to now."""
    return PurchaseWindow(day_start(day), min(now, day_start(day + timedelta(days=1))), None)


def purchases(
    session: Session, line: Line, window: PurchaseWindow, product_type: ProductType | str | None = None
) -> list[Purchase]:
    """Purchases of the line in the window, newest first."""
    query = (
        select(Purchase)
        .where(Purchase.line_id == line.id, Purchase.created_at >= window.start, Purchase.created_at < window.end)
        .order_by(Purchase.created_at.desc(), Purchase.id.desc())
    )
    if product_type is not None:
        query = query.where(Purchase.product_type == ProductType(product_type))
    return list(session.scalars(query))


def notifications(session: Session, line: Line, limit: int) -> list[Notification]:
    """Unread first, then newest first within each group."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.line_id == line.id)
            .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, line: Line) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.line_id == line.id, Notification.read_at.is_(None))
        )
        or 0
    )


def eligible_products(session: Session, line: Line) -> list[tuple[Product, ProductEligibility]]:
    """Active products the line's plan family may buy (by type, then cheapest first), with the
    payment rule."""
    rows = session.execute(
        select(Product, ProductEligibility)
        .join(ProductEligibility, ProductEligibility.product_id == Product.id)
        .where(ProductEligibility.plan_family == line.plan_family, Product.active.is_(True))
        .order_by(Product.type, Product.price_xpf)
    ).all()
    return [(product, rule) for product, rule in rows]


def end_of_day(day: date) -> datetime:
    """Last second of `day` in Nouméa (validity dates are whole days)."""
    return day_start(day + timedelta(days=1)) - timedelta(seconds=1)
