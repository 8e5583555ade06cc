""" "Mes alertes": what a subscriber reads and taps to choose their alerts (French).

Every change is made from a chip whose payload names the alert (`/alert_on{"alert_kind": …}`);
a typed message never picks an alert or a threshold. These payloads are answered by the webhook
before Rasa (bot/channel/alert_settings.py), through `settings_reply`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.db.account import Line
from bot.db.alerts import AlertKind
from bot.services.alerts import subscriptions as subs
from bot.services.alerts.subscriptions import Choice
from bot.services.alerts.texts import KIND_LABELS, QR_MY_ALERTS, QR_STOP_ALERTS, line_ending
from bot.services.dialogue.payloads import payload
from bot.services.fr_format import xpf
from bot.services.identity.linking import ask_number_reply, get_linked_line
from bot.services.privacy.consent import consent_intro_reply, needs_consent
from bot.services.replies import MENU, QR_HELP, QuickReply, Reply

# The payloads of the alert settings (menu, chips, persistent menu): buttons only, never NLU.
SETTINGS_INTENTS = frozenset({"manage_alerts", "alert_on", "alert_off", "alerts_night", "stop_alerts"})
NOT_LINKED_TEXT = (
    "Pour choisir vos alertes, je dois d'abord vérifier votre ligne : indiquez votre numéro Mobilis "
    "(6 chiffres, par exemple 79 12 34). Je vous enverrai un code par SMS pour vérifier qu'il s'agit "
    "bien de vous. Une fois la ligne vérifiée, touchez « Mes alertes »."
)

SHORT = {
    AlertKind.LOW_CREDIT: "Crédit bas",
    AlertKind.EXPIRY: "Fin de validité",
    AlertKind.DATA_USAGE: "Internet",
    AlertKind.OUT_OF_PLAN: "Hors forfait",
    AlertKind.CARD_PURCHASE: "Achats carte",
}
RULES = (
    "Je vous écris ici, sur Messenger : jamais entre 21 h et 7 h (sauf si vous le demandez), "
    "3 alertes par jour au plus. « Stop alertes » arrête tout."
)


def describe(kind: AlertKind, threshold: int | None) -> str:
    amount = xpf(threshold) if threshold is not None else ""
    return {
        AlertKind.LOW_CREDIT: f"quand votre crédit passe sous {amount}",
        AlertKind.EXPIRY: "3 jours avant la fin de validité de votre crédit ou d'un pass, puis le jour même",
        AlertKind.DATA_USAGE: "quand 75 %, 90 % puis 100 % de votre internet (forfait ou pass) est utilisé",
        AlertKind.OUT_OF_PLAN: f"quand vos hors forfait du mois dépassent {amount}",
        AlertKind.CARD_PURCHASE: "quand un achat payé par carte ailleurs (site, boutique, application) est confirmé",
    }[kind]


def menu_reply(session: Session, psid: str, line: Line, intro: str | None = None) -> Reply:
    chosen = subs.subscriptions(session, psid)
    lines = [intro] if intro else []
    lines.append(f"Vos alertes pour la ligne {line_ending(line.msisdn)} :")
    chips = []
    for kind in subs.kinds_for(line):
        row = chosen.get(kind)
        if row is not None:
            lines.append(f"✅ {KIND_LABELS[kind]} : {describe(kind, row.threshold)}")
            chips.append(QuickReply(f"− {SHORT[kind]}", payload("alert_off", {"alert_kind": kind.value})))
        else:
            lines.append(f"▫️ {KIND_LABELS[kind]} : non")
            chips.append(QuickReply(f"+ {SHORT[kind]}", payload("alert_on", {"alert_kind": kind.value})))
    night = subs.night_ok(session, psid)
    lines.append("La nuit (21 h – 7 h) : " + ("oui" if night else "non, les alertes attendent 7 h"))
    lines.append(RULES)
    chips.append(
        QuickReply(
            "Pas la nuit" if night else "Aussi la nuit",
            payload("alerts_night", {"alert_night": "off" if night else "on"}),
        )
    )
    if chosen:
        chips.append(QR_STOP_ALERTS)
    return Reply(text="\n".join(lines), quick_replies=chips)


def turn_on(
    session: Session, psid: str, line: Line, kind_value: str | None, threshold: str | None, now: datetime
) -> Reply:
    kind = next((k for k in AlertKind if k.value == kind_value), None)
    if kind is None or kind not in subs.kinds_for(line):
        return menu_reply(
            session, psid, line, "Cette alerte n'existe pas pour votre offre. Voici celles que je propose :"
        )
    levels = subs.thresholds_for(kind)
    amount = int(threshold) if threshold and threshold.isdigit() else None
    if levels and amount not in levels:
        chips = [
            QuickReply(xpf(level), payload("alert_on", {"alert_kind": kind.value, "alert_threshold": str(level)}))
            for level in levels
        ]
        question = "À partir de quel montant ?" if kind == AlertKind.LOW_CREDIT else "Au-delà de quel montant ?"
        return Reply(text=f"{KIND_LABELS[kind]} : {question}", quick_replies=chips)
    row = subs.subscribe(session, psid, line, Choice(kind, amount), now)
    session.commit()
    return menu_reply(session, psid, line, f"C'est noté : je vous préviens {describe(kind, row.threshold)}.")


def turn_off(session: Session, psid: str, line: Line, kind_value: str | None) -> Reply:
    kind = next((k for k in AlertKind if k.value == kind_value), None)
    if kind is not None and subs.unsubscribe(session, psid, kind):
        session.commit()
        return menu_reply(session, psid, line, f"C'est fait : plus d'alerte « {KIND_LABELS[kind]} ».")
    return menu_reply(session, psid, line)


def set_night(session: Session, psid: str, line: Line, value: str | None, now: datetime) -> Reply:
    allowed = value == "on"
    subs.set_night_ok(session, psid, allowed, now)
    session.commit()
    said = (
        "Entendu : les alertes peuvent aussi arriver la nuit."
        if allowed
        else "Entendu : pas d'alerte entre 21 h et 7 h."
    )
    return menu_reply(session, psid, line, said)


def stop_reply(session: Session, psid: str) -> Reply:
    stopped = subs.stop_all(session, psid)
    session.commit()
    text = (
        "C'est fait : je ne vous enverrai plus aucune alerte. Vous pouvez les rétablir dans « Mes alertes »."
        if stopped
        else "Vous n'aviez aucune alerte : je ne vous écris que lorsque vous me posez une question."
    )
    return Reply(text=text, quick_replies=[QR_MY_ALERTS, *MENU[:3]])


def settings_reply(session: Session, psid: str, intent: str, entities: dict[str, str], now: datetime) -> Reply:
    """The answer to one alert-settings payload. "Stop alertes" always works (it only removes);
    everything else needs the CGU accepted and the sender's own, still valid, linked line."""
    if intent == "stop_alerts":
        return stop_reply(session, psid)
    if needs_consent(session, psid):
        return consent_intro_reply()
    line = get_linked_line(session, psid, now)
    if line is None:
        return Reply(text=NOT_LINKED_TEXT, quick_replies=[QR_HELP], asks=ask_number_reply().asks)
    if intent == "alert_on":
        return turn_on(session, psid, line, entities.get("alert_kind"), entities.get("alert_threshold"), now)
    if intent == "alert_off":
        return turn_off(session, psid, line, entities.get("alert_kind"))
    if intent == "alerts_night":
        return set_night(session, psid, line, entities.get("alert_night"), now)
    return menu_reply(session, psid, line)
