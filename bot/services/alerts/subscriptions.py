"""What a Messenger user asked to be alerted about, on their linked line. Off until asked; one
"Stop alertes" removes everything; a new linked line starts with nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.account import PREPAID_FAMILIES, Line, PlanFamily
from bot.db.alerts import Alert, AlertKind, AlertProfile, AlertState, AlertSubscription
from bot.db.base import changed_rows

WITH_OUT_OF_PLAN = {PlanFamily.FORFAIT_M, PlanFamily.FORFAIT_HORAIRE}

# The amounts a user may pick (XPF); the first is the default.
CREDIT_THRESHOLDS = (500, 200, 1000)
OUT_OF_PLAN_THRESHOLDS = (1000, 500, 2000, 5000)
DATA_STEPS = (75, 90, 100)  # % of a data allowance or pass used
EXPIRY_DAYS = (3, 0)  # days before the end of validity: 3 days before, then on the day


@dataclass(frozen=True)
class Choice:
    kind: AlertKind
    threshold: int | None  # None for the kinds without one


def kinds_for(line: Line) -> list[AlertKind]:
    """The alerts that make sense for the line's plan family, in the order they are offered."""
    kinds = [AlertKind.LOW_CREDIT] if line.plan_family in PREPAID_FAMILIES else []
    kinds += [AlertKind.DATA_USAGE, AlertKind.EXPIRY]
    if line.plan_family in WITH_OUT_OF_PLAN:
        kinds.append(AlertKind.OUT_OF_PLAN)
    if line.plan_family in PREPAID_FAMILIES:  # recharges paid by card
        kinds.append(AlertKind.CARD_PURCHASE)
    return kinds


def thresholds_for(kind: AlertKind) -> tuple[int, ...]:
    return {AlertKind.LOW_CREDIT: CREDIT_THRESHOLDS, AlertKind.OUT_OF_PLAN: OUT_OF_PLAN_THRESHOLDS}.get(kind, ())


def subscriptions(session: Session, psid: str) -> dict[AlertKind, AlertSubscription]:
    rows = session.scalars(select(AlertSubscription).where(AlertSubscription.psid == psid))
    return {row.kind: row for row in rows}


def subscribe(session: Session, psid: str, line: Line, choice: Choice, now: datetime) -> AlertSubscription:
    """Turn one alert on (or change its threshold). Refused (ValueError) for a kind the line's
    plan has not, or a threshold not offered."""
    if choice.kind not in kinds_for(line):
        raise ValueError(f"{choice.kind.value} is not offered for a {line.plan_family.value} line")
    allowed = thresholds_for(choice.kind)
    threshold = choice.threshold if choice.threshold is not None or not allowed else allowed[0]
    if allowed and threshold not in allowed:
        raise ValueError(f"{choice.kind.value}: threshold {threshold} is not one of {allowed}")
    row = session.get(AlertSubscription, (psid, choice.kind))
    if row is None:
        row = AlertSubscription(psid=psid, kind=choice.kind, line_id=line.id, created_at=now)
        session.add(row)
    row.line_id, row.threshold = line.id, threshold if allowed else None
    session.flush()
    return row


def unsubscribe(session: Session, psid: str, kind: AlertKind) -> bool:
    """Turn one alert off; its alerts not sent yet are dropped. False if it was not on."""
    removed = session.execute(
        delete(AlertSubscription).where(AlertSubscription.psid == psid, AlertSubscription.kind == kind)
    )
    _drop_unsent(session, psid, kind)
    return changed_rows(removed) > 0


def stop_all(session: Session, psid: str) -> int:
    """ "Stop alertes": every alert off, nothing left to send. How many were on."""
    removed = session.execute(delete(AlertSubscription).where(AlertSubscription.psid == psid))
    _drop_unsent(session, psid, None)
    return changed_rows(removed)


def _drop_unsent(session: Session, psid: str, kind: AlertKind | None) -> None:
    query = delete(Alert).where(Alert.psid == psid, Alert.state == AlertState.PENDING)
    session.execute(query if kind is None else query.where(Alert.kind == kind))


def night_ok(session: Session, psid: str) -> bool:
    profile = session.get(AlertProfile, psid)
    return profile is not None and profile.night_ok


def set_night_ok(session: Session, psid: str, allowed: bool, now: datetime) -> None:
    profile = session.get(AlertProfile, psid)
    if profile is None:
        session.add(AlertProfile(psid=psid, night_ok=allowed, updated_at=now))
    else:
        profile.night_ok, profile.updated_at = allowed, now
    session.flush()


def forget_line(session: Session, psid: str) -> None:
    """The user unlinked or switched line: alerts were asked for the other line."""
    stop_all(session, psid)
