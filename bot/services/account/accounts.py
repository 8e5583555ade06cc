"""The assistant's own records of a line (notifications, products it may buy) and the time
windows the answers use; balances, usage and purchases come through the operator port
(bot.services.operator). No reply building here: see consultation.py.

Every function takes the line the caller is allowed to see (found through
bot.services.identity.linking.get_linked_line); nothing here looks a line up from user input.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.account import Line, Notification
from bot.db.purchasing import Product, ProductEligibility, eligible_for
from bot.services.fr_format import day_start, local_date


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


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
    return [(product, rule) for product, rule in session.execute(eligible_for(line.plan_family)).tuples()]
