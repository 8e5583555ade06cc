"""Threshold crossings on a line, read through the operator port, recorded once each.

A scan turns what the operator says (credit, data used, validity, out-of-plan charges) into
readings: for one kind and one balance or period (`scope`), each level with whether it is crossed.
Of the levels crossed in one scope only the most urgent is sent (data jumping from 60 % to 95 %
between two scans says 90 %, not 75 % then 90 %); the others are recorded as superseded so they
are not sent later. A level no longer crossed (a recharge) re-arms its alert: the next crossing is
a new one. Recording is idempotent by key, so two scanners, or a scan repeated after a crash
between detection and sending, never create the same alert twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import as_utc
from bot.db.account import BucketKind, Line, LineStatus
from bot.db.alerts import Alert, AlertKind, AlertState, AlertSubscription
from bot.db.purchasing import PaymentSource, Purchase, PurchaseQuote, PurchaseStatus
from bot.services.alerts.subscriptions import DATA_STEPS, EXPIRY_DAYS
from bot.services.fr_format import data_volume, date_fr, local_date
from bot.services.i18n import N_
from bot.services.identity.linking import get_linked_line
from bot.services.operator import charging
from bot.services.operator.port import Bucket, OperatorError, OperatorPort

log = logging.getLogger(__name__)

SUPERSEDED = "superseded"
# The label of a forfait's own data allowance (marked: the alert translates it when shown).
PLAN_DATA_LABEL = N_("Internet du forfait")
Params = dict[str, str | int]


@dataclass(frozen=True)
class Reading:
    kind: AlertKind
    scope: str
    threshold: int
    crossed: bool
    urgency: int  # among the levels of one scope, the highest crossed one is sent
    params: Params = field(default_factory=dict)


def readings(
    session: Session, operator: OperatorPort, line: Line, subscription: AlertSubscription, now: datetime
) -> list[Reading]:
    """What the operator says now about the one thing this subscription watches."""
    kind = subscription.kind
    if kind == AlertKind.LOW_CREDIT:
        return _low_credit(operator.buckets(line, live=True), subscription.threshold or 0, now)
    if kind == AlertKind.EXPIRY:
        return _expiry(operator.buckets(line, live=True), line, now)
    if kind == AlertKind.DATA_USAGE:
        return _data_usage(operator, line, now)
    if kind == AlertKind.OUT_OF_PLAN:
        return _out_of_plan(operator, line, subscription.threshold or 0, now)
    return _card_purchases(session, operator, line, max(as_utc(subscription.created_at), now - PURCHASES_BACK), now)


PURCHASES_BACK = timedelta(days=2)


def _card_purchases(
    session: Session, operator: OperatorPort, line: Line, since: datetime, now: datetime
) -> list[Reading]:
    """Purchases paid by card that went through since the user asked (two days at most), except
    those made in this chat (the chat already answered them)."""
    done = [
        p
        for p in operator.purchase_history(line, since, now + timedelta(seconds=1))  # up to now, included
        if p.payment_source == PaymentSource.CARD and p.status == PurchaseStatus.SUCCEEDED and p.reference
    ]
    in_chat = set(
        session.scalars(
            select(Purchase.reference)
            .join(PurchaseQuote, PurchaseQuote.purchase_id == Purchase.id)
            .where(Purchase.reference.in_([p.reference for p in done]))
        )
    )
    return [
        Reading(
            AlertKind.CARD_PURCHASE,
            f"purchase:{p.reference}",
            0,
            True,
            1,
            {"label": p.product_name, "amount": p.price_xpf},
        )
        for p in done
        if p.reference not in in_chat
    ]


def _low_credit(buckets: list[Bucket], threshold: int, now: datetime) -> list[Reading]:
    """All the credit the line can still use (a forfait bloqué's own and what was recharged)."""
    credit = [b for b in buckets if b.kind == BucketKind.CREDIT and b.alive(now)]
    if not credit:
        return []
    amount = sum(b.remaining for b in credit)
    params: Params = {"amount": amount, "threshold": threshold}
    return [Reading(AlertKind.LOW_CREDIT, "credit", threshold, amount < threshold, 1, params)]


def _expiry(buckets: list[Bucket], line: Line, now: datetime) -> list[Reading]:
    """The line's credit and each data pass, EXPIRY_DAYS before the end of their validity."""
    alive = [b for b in buckets if b.alive(now) and b.valid_until is not None]
    credit = charging.credit_bucket(alive, line.plan_family)
    watched = ([credit] if credit is not None else []) + [b for b in alive if b.kind == BucketKind.DATA]
    found = []
    for bucket in watched:
        assert bucket.valid_until is not None
        days = (local_date(bucket.valid_until) - local_date(now)).days
        scope = f"bucket:{bucket.ref}:{local_date(bucket.valid_until).isoformat()}"
        until = local_date(bucket.valid_until)
        params: Params = {"label": bucket.label, "until": date_fr(until), "until_date": until.isoformat()}
        params["days"] = max(days, 0)
        for urgency, stage in enumerate(sorted(EXPIRY_DAYS, reverse=True)):
            found.append(Reading(AlertKind.EXPIRY, scope, stage, days <= stage, urgency, params))
    return found


def _steps(scope: str, used_percent: int, params: Params) -> list[Reading]:
    return [
        Reading(AlertKind.DATA_USAGE, scope, step, used_percent >= step, urgency, {**params, "percent": step})
        for urgency, step in enumerate(DATA_STEPS)
    ]


def _data_usage(operator: OperatorPort, line: Line, now: datetime) -> list[Reading]:
    """A forfait's data allowance in the current period, and each pass or TOP UP with a size."""
    found = []
    period = operator.billing_period(line, now)
    if period is not None and period.data_mb_allowance:
        used = operator.usage_totals(line, period.starts_at, now).data_mb
        left = max(period.data_mb_allowance - used, 0)
        params: Params = {"label": PLAN_DATA_LABEL, "remaining": data_volume(left), "remaining_mb": left}
        found += _steps(
            f"period:{local_date(period.starts_at).isoformat()}", used * 100 // period.data_mb_allowance, params
        )
    for bucket in operator.buckets(line, live=True):
        if bucket.kind == BucketKind.DATA and bucket.initial > 0 and bucket.alive(now) and bucket.valid_until:
            used_percent = (bucket.initial - bucket.remaining) * 100 // bucket.initial
            params = {
                "label": bucket.label,
                "remaining": data_volume(bucket.remaining),
                "remaining_mb": bucket.remaining,
            }
            found += _steps(f"bucket:{bucket.ref}", used_percent, params)
    return found


def _out_of_plan(operator: OperatorPort, line: Line, threshold: int, now: datetime) -> list[Reading]:
    period = operator.billing_period(line, now)
    if period is None:
        return []
    amount = operator.usage_totals(line, period.starts_at, now, in_plan=False).amount_xpf
    params: Params = {"amount": amount, "threshold": threshold}
    scope = f"period:{local_date(period.starts_at).isoformat()}"
    return [Reading(AlertKind.OUT_OF_PLAN, scope, threshold, amount >= threshold, 1, params)]


# ------------------------------------------------------------------------------ recording


def record(session: Session, psid: str, line: Line, found: list[Reading], now: datetime) -> list[Alert]:
    """The new alerts these readings make (flushed, not committed)."""
    created: list[Alert] = []
    scopes: dict[tuple[AlertKind, str], list[Reading]] = {}
    for reading in found:
        scopes.setdefault((reading.kind, reading.scope), []).append(reading)
    for levels in scopes.values():
        crossed = [r for r in levels if r.crossed]
        most_urgent = max(crossed, key=lambda r: r.urgency) if crossed else None
        for reading in levels:
            live = _live_alert(session, psid, line, reading)
            if not reading.crossed:
                if live is not None:  # back above the level: the next crossing is a new one
                    live.rearmed_at = now
                continue
            if live is not None:
                continue
            superseded = reading is not most_urgent
            alert = _insert(session, psid, line, reading, now, superseded)
            if alert is not None and not superseded:
                created.append(alert)
    session.flush()
    return created


def _same_level(psid: str, line: Line, reading: Reading) -> list[ColumnElement[bool]]:
    return [
        Alert.psid == psid,
        Alert.line_id == line.id,
        Alert.kind == reading.kind,
        Alert.scope == reading.scope,
        Alert.threshold == reading.threshold,
    ]


def _live_alert(session: Session, psid: str, line: Line, reading: Reading) -> Alert | None:
    """The alert for this level that has not been re-armed since, if any."""
    return session.scalar(select(Alert).where(*_same_level(psid, line, reading), Alert.rearmed_at.is_(None)))


def _insert(session: Session, psid: str, line: Line, reading: Reading, now: datetime, superseded: bool) -> Alert | None:
    # Counted from re-armed crossings only: two scanners racing on one crossing compute the same key.
    rearmed = (
        select(func.count()).select_from(Alert).where(*_same_level(psid, line, reading), Alert.rearmed_at.is_not(None))
    )
    generation = 1 + (session.scalar(rearmed) or 0)
    key = f"{psid}:{line.id}:{reading.kind.value}:{reading.scope}:{reading.threshold}:{generation}"
    alert = Alert(
        key=key,
        psid=psid,
        line_id=line.id,
        kind=reading.kind,
        scope=reading.scope,
        threshold=reading.threshold,
        generation=generation,
        params=json.dumps(reading.params, ensure_ascii=False),
        state=AlertState.SUPPRESSED if superseded else AlertState.PENDING,
        reason=SUPERSEDED if superseded else None,
        detected_at=now,
        send_after=now,
    )
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:  # another scanner recorded this crossing first
        log.info("alert %s already recorded", key)
        return None
    return alert


def scan(session: Session, operator: OperatorPort, now: datetime, only: Collection[str] | None = None) -> list[Alert]:
    """Every subscription whose user still holds the line (only the lines numbered in `only`,
    when given), read and recorded (commits per user)."""
    created: list[Alert] = []
    psids = list(session.scalars(select(AlertSubscription.psid).distinct().order_by(AlertSubscription.psid)))
    for psid in psids:
        line = get_linked_line(session, psid, now)
        if only is not None and (line is None or line.msisdn not in only):
            session.rollback()
            continue
        wanted = session.scalars(
            select(AlertSubscription).where(AlertSubscription.psid == psid).order_by(AlertSubscription.kind)
        ).all()
        if line is None or line.status != LineStatus.ACTIVE:
            session.rollback()
            continue
        try:
            found = [r for s in wanted if s.line_id == line.id for r in readings(session, operator, line, s, now)]
        except OperatorError as exc:  # this line cannot be read now: the next scan tries again
            log.warning("alerts of a line not scanned: %s", exc)
            session.rollback()
            continue
        created += record(session, psid, line, found, now)
        session.commit()
    return created
