"""What an alert says (French), and the values a utility template is filled with. Each alert ends
with its next step: Recharger, Acheter un pass, Mes alertes. A line is named by its last two digits
only ("…34"): an alert may be read on a locked screen."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from bot.db.alerts import Alert, AlertKind
from bot.services.alerts.subscriptions import subscriptions
from bot.services.fr_format import xpf
from bot.services.replies import QR_BALANCE, QR_RECHARGE, QuickReply, Reply

QR_BUY_PASS = QuickReply("Acheter un pass", '/buy{"product_type":"data"}')
QR_MY_ALERTS = QuickReply("Mes alertes", "/manage_alerts")
QR_STOP_ALERTS = QuickReply("Stop alertes", "/stop_alerts")


def line_ending(msisdn: str) -> str:
    return "…" + msisdn[-2:]


def values(alert: Alert, msisdn: str) -> dict[str, str]:
    """The alert's facts as text, by name (the message and the template parameters use them)."""
    raw = json.loads(alert.params)
    found = {name: str(value) for name, value in raw.items()}
    for money in ("amount", "threshold"):
        if money in raw and alert.kind in (AlertKind.LOW_CREDIT, AlertKind.OUT_OF_PLAN, AlertKind.CARD_PURCHASE):
            found[money] = xpf(int(raw[money]))
    found["line"] = line_ending(msisdn)
    return found


def alert_reply(alert: Alert, msisdn: str) -> Reply:
    v = values(alert, msisdn)
    kind = alert.kind
    if kind == AlertKind.LOW_CREDIT:
        text = f"Alerte crédit : il reste {v['amount']} sur votre ligne {v['line']} (votre seuil : {v['threshold']})."
        steps = [QR_RECHARGE, QR_MY_ALERTS]
    elif kind == AlertKind.EXPIRY:
        when = "aujourd'hui" if v["days"] == "0" else f"le {v['until']}"
        text = f"Rappel : « {v['label']} » de votre ligne {v['line']} expire {when}."
        steps = [QR_RECHARGE if v["label"].lower().startswith("crédit") else QR_BUY_PASS, QR_MY_ALERTS]
    elif kind == AlertKind.DATA_USAGE:
        used = "entièrement utilisé" if v["percent"] == "100" else f"utilisé à {v['percent']} %"
        text = f"Internet : « {v['label']} » de votre ligne {v['line']} est {used} (reste : {v['remaining']})."
        steps = [QR_BUY_PASS, QR_MY_ALERTS]
    elif kind == AlertKind.CARD_PURCHASE:
        text = f"Achat confirmé : « {v['label']} » ({v['amount']}), payé par carte, sur votre ligne {v['line']}."
        steps = [QR_BALANCE, QR_MY_ALERTS]
    else:  # AlertKind.OUT_OF_PLAN
        text = (
            f"Hors forfait : {v['amount']} ce mois-ci sur votre ligne {v['line']} "
            f"(au-delà de votre seuil de {v['threshold']})."
        )
        steps = [QuickReply("Voir le détail", '/show_usage{"facet":"out_of_plan"}'), QR_MY_ALERTS]
    return Reply(text=text, quick_replies=[*steps, QR_STOP_ALERTS])


KIND_LABELS = {
    AlertKind.LOW_CREDIT: "Crédit bas",
    AlertKind.EXPIRY: "Fin de validité",
    AlertKind.DATA_USAGE: "Internet 75/90/100 %",
    AlertKind.OUT_OF_PLAN: "Hors forfait",
    AlertKind.CARD_PURCHASE: "Achat par carte",
}


def alert_summary(session: Session, psid: str) -> str:
    """The alerts a user asked for, in a line ("" for none)."""
    chosen = subscriptions(session, psid)
    parts = []
    for kind, row in sorted(chosen.items(), key=lambda item: list(AlertKind).index(item[0])):
        label = KIND_LABELS[kind].lower()
        parts.append(f"{label} (seuil {xpf(row.threshold)})" if row.threshold is not None else label)
    return ", ".join(parts)
