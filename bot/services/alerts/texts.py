"""What an alert says (in the turn's language), and the values a utility template is filled with. Each alert ends
with its next step: Recharger, Acheter un pass, Mes alertes. A line is named by its last two digits
only ("…34"): an alert may be read on a locked screen."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy.orm import Session

from bot.db.alerts import Alert, AlertKind
from bot.services.alerts.subscriptions import subscriptions
from bot.services.fr_format import data_volume, date_fr, xpf
from bot.services.i18n import N_, _
from bot.services.replies import QR_BALANCE, QR_RECHARGE, QuickReply, Reply

QR_BUY_PASS = QuickReply(N_("Acheter un pass"), '/buy{"product_type":"data"}')
QR_MY_ALERTS = QuickReply(N_("Mes alertes"), "/manage_alerts")
QR_STOP_ALERTS = QuickReply(N_("Stop alertes"), "/stop_alerts")


def chip(quick_reply: QuickReply) -> QuickReply:
    """A module-level chip with its title in the turn's language."""
    return QuickReply(_(quick_reply.title), quick_reply.payload)


def line_ending(msisdn: str) -> str:
    return "…" + msisdn[-2:]


def values(alert: Alert, msisdn: str) -> dict[str, str]:
    """The alert's facts as text, by name (the message and the template parameters use them)."""
    raw = json.loads(alert.params)
    found = {name: str(value) for name, value in raw.items()}
    for money in ("amount", "threshold"):
        if money in raw and alert.kind in (AlertKind.LOW_CREDIT, AlertKind.OUT_OF_PLAN, AlertKind.CARD_PURCHASE):
            found[money] = xpf(int(raw[money]))
    # Alerts detected since the formats follow the language keep the raw values too.
    if "remaining_mb" in raw:
        found["remaining"] = data_volume(int(raw["remaining_mb"]))
    if "until_date" in raw:
        found["until"] = date_fr(date.fromisoformat(str(raw["until_date"])))
    found["line"] = line_ending(msisdn)
    return found


def alert_reply(alert: Alert, msisdn: str) -> Reply:
    v = values(alert, msisdn)
    label = _(v["label"]) if "label" in v else ""  # "Internet du forfait" is ours; products keep their name
    kind = alert.kind
    if kind == AlertKind.LOW_CREDIT:
        text = _("Alerte crédit : il reste {amount} sur votre ligne {line} (votre seuil : {threshold}).").format(**v)
        steps = [QR_RECHARGE, QR_MY_ALERTS]
    elif kind == AlertKind.EXPIRY:
        if v["days"] == "0":
            text = _("Rappel : « {label} » de votre ligne {line} expire aujourd'hui.").format(
                label=label, line=v["line"]
            )
        else:
            text = _("Rappel : « {label} » de votre ligne {line} expire le {until}.").format(
                label=label, line=v["line"], until=v["until"]
            )
        steps = [QR_RECHARGE if v["label"].lower().startswith("crédit") else QR_BUY_PASS, QR_MY_ALERTS]
    elif kind == AlertKind.DATA_USAGE:
        if v["percent"] == "100":
            text = _("Internet : « {label} » de votre ligne {line} est entièrement utilisé (reste : {remaining}).")
        else:
            text = _("Internet : « {label} » de votre ligne {line} est utilisé à {percent} % (reste : {remaining}).")
        text = text.format(label=label, line=v["line"], percent=v["percent"], remaining=v["remaining"])
        steps = [QR_BUY_PASS, QR_MY_ALERTS]
    elif kind == AlertKind.CARD_PURCHASE:
        text = _("Achat confirmé : « {label} » ({amount}), payé par carte, sur votre ligne {line}.").format(
            label=label, amount=v["amount"], line=v["line"]
        )
        steps = [QR_BALANCE, QR_MY_ALERTS]
    else:  # AlertKind.OUT_OF_PLAN
        text = _(
            "Hors forfait : {amount} ce mois-ci sur votre ligne {line} (au-delà de votre seuil de {threshold})."
        ).format(amount=v["amount"], line=v["line"], threshold=v["threshold"])
        steps = [QuickReply(N_("Voir le détail"), '/show_usage{"facet":"out_of_plan"}'), QR_MY_ALERTS]
    return Reply(text=text, quick_replies=[chip(q) for q in (*steps, QR_STOP_ALERTS)])


KIND_LABELS = {  # marked: translate where used, _(KIND_LABELS[kind])
    AlertKind.LOW_CREDIT: N_("Crédit bas"),
    AlertKind.EXPIRY: N_("Fin de validité"),
    AlertKind.DATA_USAGE: N_("Internet 75/90/100 %"),
    AlertKind.OUT_OF_PLAN: N_("Hors forfait"),
    AlertKind.CARD_PURCHASE: N_("Achat par carte"),
}


def alert_summary(session: Session, psid: str) -> str:
    """The alerts a user asked for, in a line ("" for none)."""
    chosen = subscriptions(session, psid)
    parts = []
    for kind, row in sorted(chosen.items(), key=lambda item: list(AlertKind).index(item[0])):
        label = _(KIND_LABELS[kind]).lower()
        if row.threshold is not None:
            parts.append(_("{label} (seuil {amount})").format(label=label, amount=xpf(row.threshold)))
        else:
            parts.append(label)
    return ", ".join(parts)
