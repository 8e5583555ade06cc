"""Simulator control (development only): make the linked demo line cross an alert's threshold, then
run the alerts' detection and sending at once, so anyone can see each alert arrive.

    POST /dev/api/alerts/trigger {"psid": "...", "kind": "low_credit|expiry|data_usage|out_of_plan|card_purchase"}

It changes the demo line's own rows (the embedded operator's tables, which the local TM Forum stub
serves too): credit down to 100 F, the credit or a pass expiring in 2 days, a pass 95 % used (or
the forfait's data), an out-of-plan call above the threshold, a recharge paid by card on the OPT
site (not in the chat). The user is opted in to that alert if
they were not. Between 21:00 and 07:00 the alert waits for 07:00, as it would for real, unless
the user chose "Aussi la nuit".
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import clock
from bot.clock import as_utc
from bot.db.account import Balance, BillingPeriod, BucketKind, Line, UsageKind, UsageRecord
from bot.db.alerts import Alert, AlertKind, AlertState, AlertSubscription
from bot.db.purchasing import PaymentSource, Product, ProductType, Purchase, PurchaseStatus
from bot.services.alerts.subscriptions import Choice, kinds_for, subscribe, thresholds_for
from bot.services.fr_format import to_noumea
from bot.services.identity.linking import get_linked_line


def _buckets(session: Session, line: Line, kind: BucketKind) -> list[Balance]:
    query = select(Balance).where(Balance.line_id == line.id, Balance.kind == kind).order_by(Balance.id)
    return list(session.scalars(query))


def _period(session: Session, line: Line, now: datetime) -> BillingPeriod | None:
    return session.scalar(
        select(BillingPeriod).where(
            BillingPeriod.line_id == line.id, BillingPeriod.starts_at <= now, BillingPeriod.ends_at > now
        )
    )


def cross(session: Session, line: Line, kind: AlertKind, threshold: int | None, now: datetime) -> str:
    """Change the demo line so that `kind` is crossed; what was changed, in French."""
    if kind == AlertKind.LOW_CREDIT:
        for index, row in enumerate(_buckets(session, line, BucketKind.CREDIT)):
            row.remaining = 100 if index == 0 else 0
        return "crédit ramené à 100 F"
    if kind == AlertKind.EXPIRY:
        target = next(iter(_buckets(session, line, BucketKind.CREDIT) + _buckets(session, line, BucketKind.DATA)), None)
        if target is None:
            return "aucun solde à faire expirer sur cette ligne"
        target.valid_until = now + timedelta(days=2)
        return f"« {target.label} » expire dans 2 jours"
    if kind == AlertKind.DATA_USAGE:
        passes = [b for b in _buckets(session, line, BucketKind.DATA) if b.initial > 0 and b.valid_until]
        if passes:
            passes[0].remaining = passes[0].initial // 20
            return f"« {passes[0].label} » utilisé à 95 %"
        period = _period(session, line, now)
        if period is None or not period.data_mb_allowance:
            return "pas d'internet à consommer sur cette ligne"
        session.add(_usage(line, UsageKind.DATA, period.data_mb_allowance, True, 0, now))
        return "tout l'internet du forfait consommé"
    if kind == AlertKind.CARD_PURCHASE:
        recharge = session.scalar(select(Product).where(Product.type == ProductType.RL).order_by(Product.price_xpf))
        if recharge is None:
            return "aucune recharge au catalogue"
        session.add(
            Purchase(
                line_id=line.id,
                product_id=recharge.id,
                product_type=ProductType.RL,
                price_xpf=recharge.price_xpf,
                payment_source=PaymentSource.CARD,
                status=PurchaseStatus.SUCCEEDED,
                reference=f"WEB-{secrets.token_hex(4).upper()}",
                created_at=now,
                completed_at=now,
            )
        )
        return f"« {recharge.name} » payée par carte sur le site de l'OPT"
    amount = (threshold or 0) + 100
    session.add(_usage(line, UsageKind.VOICE, 600, False, amount, now))
    return f"un appel hors forfait de {amount} F"


def _usage(line: Line, kind: UsageKind, quantity: int, in_plan: bool, amount: int, now: datetime) -> UsageRecord:
    return UsageRecord(
        line_id=line.id,
        occurred_at=now - timedelta(minutes=1),
        kind=kind,
        quantity=quantity,
        in_plan=in_plan,
        amount_xpf=amount,
        description="Démo : alerte",
    )


def make_alert_demo_blueprint(sessions: Callable[[], Session], sender: Any) -> Blueprint:
    """`sender`: the webhook's AlertSender (its scan and send_due are run at once)."""
    bp = Blueprint("alert_demo", __name__)

    @bp.post("/api/alerts/trigger")
    def trigger() -> ResponseReturnValue:
        body = request.get_json(silent=True) or {}
        psid = str(body.get("psid") or "")
        kind = next((k for k in AlertKind if k.value == body.get("kind")), None)
        now = clock.utcnow()
        with sessions() as session:
            line = get_linked_line(session, psid)
            if line is None or kind is None:
                return jsonify({"ok": False, "error": "liez d'abord une ligne, et choisissez une alerte"}), 400
            if kind not in kinds_for(line):
                return jsonify({"ok": False, "error": "cette alerte n'existe pas pour cette offre"}), 400
            chosen = session.get(AlertSubscription, (psid, kind))
            if chosen is None:
                levels = thresholds_for(kind)
                chosen = subscribe(session, psid, line, Choice(kind, levels[0] if levels else None), now)
            changed = cross(session, line, kind, chosen.threshold, now)
            if kind != AlertKind.CARD_PURCHASE:  # a threshold already crossed: as if it had gone back first
                session.execute(update(Alert).where(Alert.psid == psid, Alert.kind == kind).values(rearmed_at=now))
            session.commit()
        detected = sender.scan(now)
        sent = sender.send_due(now)
        with sessions() as session:
            latest = session.scalar(select(Alert).where(Alert.psid == psid).order_by(Alert.id.desc()))
            state = "" if latest is None else latest.state.value + (f" ({latest.reason})" if latest.reason else "")
            shown = _status(latest, now)
        answer = {"ok": True, "changed": changed, "detected": detected, "sent": sent, "state": state, "status": shown}
        return jsonify(answer)

    return bp


def _status(alert: Alert | None, now: datetime) -> str:
    """What became of the alert, for the simulator's panel (French)."""
    if alert is None:
        return "aucune alerte détectée"
    if alert.state == AlertState.SENT:
        return "alerte envoyée"
    if alert.state == AlertState.PENDING and as_utc(alert.send_after) > now:
        return (
            f"alerte en attente jusqu'à {to_noumea(as_utc(alert.send_after)):%H:%M} (heures calmes 21 h – 7 h ; "
            "« Aussi la nuit » dans Mes alertes pour la recevoir tout de suite)"
        )
    return f"alerte non envoyée ({alert.reason or alert.state.value})"
