"""When and how a detected alert may be sent, within Messenger's rules and the user's choices.

In this order: an alert the user no longer wants, or whose cause went away (a recharge re-armed
it), is not sent; between 21:00 and 07:00 Nouméa time it waits for 07:00 (unless the user said
night alerts are fine); past the daily cap it is not sent; within 24 hours of the user's last
message it is a normal message; outside, only an approved utility template may carry it — without
one it is not sent (a metric says so), never sent another way.

An alert leaves `pending` by one conditional UPDATE (`claim`), so two senders never send it twice;
one left `sending` by a process that died is not retried (`abandon_stale`): Messenger has no
idempotency key, and an alert sent twice is worse than one lost.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.db.alerts import Alert, AlertState, AlertSubscription
from bot.db.base import changed_rows
from bot.db.purchasing import Purchase, PurchaseStatus
from bot.services.alerts.subscriptions import night_ok
from bot.services.fr_format import NOUMEA, day_start, local_date
from bot.services.replies import STANDARD_WINDOW

QUIET_FROM, QUIET_UNTIL = time(21, 0), time(7, 0)  # Nouméa time
STALE_CLAIM = timedelta(minutes=10)


class Route(enum.StrEnum):
    MESSAGE = "message"  # a normal message, within the 24-hour window
    TEMPLATE = "template"  # an approved utility template, outside it
    LATER = "later"  # quiet hours: wait
    SKIP = "skip"  # not sent: see the reason


class Skip(enum.StrEnum):
    OPT_OUT = "opt_out"
    RESOLVED = "resolved"
    CAP = "cap"
    TEMPLATE = "template"  # outside the window and no approved template
    INTERRUPTED = "interrupted"  # a sender died while sending it


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: Skip | None = None
    send_after: datetime | None = None


@dataclass(frozen=True)
class Circumstances:
    subscribed: bool
    night_ok: bool
    sent_today: int
    daily_cap: int
    last_seen: datetime | None  # the user's last message to us
    template_approved: bool


def decide(alert: Alert, now: datetime, c: Circumstances) -> Decision:
    if not c.subscribed:
        return Decision(Route.SKIP, Skip.OPT_OUT)
    if alert.rearmed_at is not None:
        return Decision(Route.SKIP, Skip.RESOLVED)
    if not c.night_ok and in_quiet_hours(now):
        return Decision(Route.LATER, send_after=quiet_hours_end(now))
    if c.sent_today >= c.daily_cap:
        return Decision(Route.SKIP, Skip.CAP)
    if c.last_seen is not None and now - c.last_seen < STANDARD_WINDOW:
        return Decision(Route.MESSAGE)
    if c.template_approved:
        return Decision(Route.TEMPLATE)
    return Decision(Route.SKIP, Skip.TEMPLATE)


def in_quiet_hours(now: datetime) -> bool:
    local = now.astimezone(NOUMEA).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def quiet_hours_end(now: datetime) -> datetime:
    """The next 07:00 in Nouméa."""
    local = now.astimezone(NOUMEA)
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, NOUMEA).astimezone(now.tzinfo)


# ----------------------------------------------------------------------------- the queue


def due(session: Session, now: datetime, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(Alert.id)
            .where(Alert.state == AlertState.PENDING, Alert.send_after <= now)
            .order_by(Alert.send_after, Alert.id)
            .limit(limit)
        )
    )


def circumstances(
    session: Session, alert: Alert, now: datetime, *, daily_cap: int, last_seen: datetime | None, approved: bool
) -> Circumstances:
    subscribed = session.get(AlertSubscription, (alert.psid, alert.kind)) is not None
    return Circumstances(
        subscribed, night_ok(session, alert.psid), sent_today(session, alert.psid, now), daily_cap, last_seen, approved
    )


def sent_today(session: Session, psid: str, now: datetime) -> int:
    """Alerts sent to the user since midnight, Nouméa time."""
    since = day_start(local_date(now))
    return (
        session.scalar(select(func.count()).select_from(Alert).where(Alert.psid == psid, Alert.sent_at >= since)) or 0
    )


def claim(session: Session, alert_id: int, now: datetime) -> bool:
    """pending → sending; False when someone else has it (commits)."""
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.state == AlertState.PENDING)
        .values(state=AlertState.SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return changed_rows(result) == 1


def finish(session: Session, alert_id: int, state: AlertState, now: datetime, reason: str | None = None) -> None:
    values: dict[str, object] = {"state": state, "reason": reason}
    if state == AlertState.SENT:
        values["sent_at"] = now
    session.execute(
        update(Alert).where(Alert.id == alert_id).values(**values).execution_options(synchronize_session=False)
    )
    session.commit()


def postpone(session: Session, alert_id: int, until: datetime) -> None:
    """Back to pending, not before `until` (quiet hours) (commits)."""
    session.execute(
        update(Alert)
        .where(Alert.id == alert_id)
        .values(state=AlertState.PENDING, send_after=until, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def abandon_stale(session: Session, now: datetime) -> int:
    """Alerts a dead sender left `sending`: not sent again (see the module doc) (commits)."""
    result = session.execute(
        update(Alert)
        .where(Alert.state == AlertState.SENDING, Alert.claimed_at < now - STALE_CLAIM)
        .values(state=AlertState.SUPPRESSED, reason=Skip.INTERRUPTED.value)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return changed_rows(result)


FOLLOW_UP = timedelta(hours=24)


def followed_by_a_purchase(session: Session, now: datetime) -> list[Alert]:
    """Alerts sent in the last two days after which the line bought something (a recharge, a
    pass) within 24 hours, not counted yet: marked, and returned once each (commits)."""
    recent = session.scalars(
        select(Alert).where(
            Alert.state == AlertState.SENT, Alert.followed_at.is_(None), Alert.sent_at >= now - 2 * FOLLOW_UP
        )
    )
    found = []
    for alert in recent:
        sent = as_utc(alert.sent_at) if alert.sent_at else now
        bought = session.scalar(
            select(Purchase.id)
            .where(
                Purchase.line_id == alert.line_id,
                Purchase.status == PurchaseStatus.SUCCEEDED,
                Purchase.created_at >= sent,
                Purchase.created_at < sent + FOLLOW_UP,
            )
            .limit(1)
        )
        if bought is not None:
            alert.followed_at = now
            found.append(alert)
    session.commit()
    return found
