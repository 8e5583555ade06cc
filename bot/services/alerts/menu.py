""" "Mes alertes": what a subscriber reads and taps to choose their alerts (in the turn's language).

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
from bot.services.alerts.texts import KIND_LABELS, QR_MY_ALERTS, QR_STOP_ALERTS, chip, line_ending
from bot.services.dialogue.payloads import payload
from bot.services.fr_format import xpf
from bot.services.i18n import N_, _
from bot.services.identity.linking import ask_number_reply, get_linked_line
from bot.services.privacy.consent import consent_intro_reply, needs_consent
from bot.services.replies import MENU, QR_HELP, QuickReply, Reply

# The payloads of the alert settings (menu, chips, persistent menu): buttons only, never NLU.
SETTINGS_INTENTS = frozenset({"manage_alerts", "alert_on", "alert_off", "alerts_night", "stop_alerts"})
NOT_LINKED_TEXT = N_(
    "Pour choisir vos alertes, je dois d'abord vérifier votre ligne : indiquez votre numéro Mobilis "
    "(6 chiffres, par exemple 79 12 34). Je vous enverrai un code par SMS pour vérifier qu'il s'agit "
    "bien de vous. Une fois la ligne vérifiée, touchez « Mes alertes »."
)

SHORT = {  # chip labels, marked: translate where used
    AlertKind.LOW_CREDIT: N_("Crédit bas"),
    AlertKind.EXPIRY: N_("Fin de validité"),
    AlertKind.DATA_USAGE: N_("Internet"),
    AlertKind.OUT_OF_PLAN: N_("Hors forfait"),
    AlertKind.CARD_PURCHASE: N_("Achats carte"),
}
RULES = N_(
    "Je vous écris ici, sur Messenger : jamais entre 21 h et 7 h (sauf si vous le demandez), "
    "3 alertes par jour au plus. « Stop alertes » arrête tout."
)


def describe(kind: AlertKind, threshold: int | None) -> str:
    amount = xpf(threshold) if threshold is not None else ""
    if kind == AlertKind.LOW_CREDIT:
        return _("quand votre crédit passe sous {amount}").format(amount=amount)
    if kind == AlertKind.EXPIRY:
        return _("3 jours avant la fin de validité de votre crédit ou d'un pass, puis le jour même")
    if kind == AlertKind.DATA_USAGE:
        return _("quand 75 %, 90 % puis 100 % de votre internet (forfait ou pass) est utilisé")
    if kind == AlertKind.OUT_OF_PLAN:
        return _("quand vos hors forfait du mois dépassent {amount}").format(amount=amount)
    return _("quand un achat payé par carte ailleurs (site, boutique, application) est confirmé")


def menu_reply(session: Session, psid: str, line: Line, intro: str | None = None) -> Reply:
    chosen = subs.subscriptions(session, psid)
    lines = [intro] if intro else []
    lines.append(_("Vos alertes pour la ligne {line} :").format(line=line_ending(line.msisdn)))
    chips = []
    for kind in subs.kinds_for(line):
        row = chosen.get(kind)
        label = _(KIND_LABELS[kind])
        if row is not None:
            lines.append(_("✅ {label} : {description}").format(label=label, description=describe(kind, row.threshold)))
            chips.append(QuickReply(f"− {_(SHORT[kind])}", payload("alert_off", {"alert_kind": kind.value})))
        else:
            lines.append(_("▫️ {label} : non").format(label=label))
            chips.append(QuickReply(f"+ {_(SHORT[kind])}", payload("alert_on", {"alert_kind": kind.value})))
    night = subs.night_ok(session, psid)
    lines.append(
        _("La nuit (21 h – 7 h) : oui") if night else _("La nuit (21 h – 7 h) : non, les alertes attendent 7 h")
    )
    lines.append(_(RULES))
    chips.append(
        QuickReply(
            _("Pas la nuit") if night else _("Aussi la nuit"),
            payload("alerts_night", {"alert_night": "off" if night else "on"}),
        )
    )
    if chosen:
        chips.append(chip(QR_STOP_ALERTS))
    return Reply(text="\n".join(lines), quick_replies=chips)


def turn_on(
    session: Session, psid: str, line: Line, kind_value: str | None, threshold: str | None, now: datetime
) -> Reply:
    kind = next((k for k in AlertKind if k.value == kind_value), None)
    if kind is None or kind not in subs.kinds_for(line):
        return menu_reply(
            session, psid, line, _("Cette alerte n'existe pas pour votre offre. Voici celles que je propose :")
        )
    levels = subs.thresholds_for(kind)
    amount = int(threshold) if threshold and threshold.isdigit() else None
    if levels and amount not in levels:
        chips = [
            QuickReply(xpf(level), payload("alert_on", {"alert_kind": kind.value, "alert_threshold": str(level)}))
            for level in levels
        ]
        if kind == AlertKind.LOW_CREDIT:
            question = _("{label} : À partir de quel montant ?")
        else:
            question = _("{label} : Au-delà de quel montant ?")
        return Reply(text=question.format(label=_(KIND_LABELS[kind])), quick_replies=chips)
    row = subs.subscribe(session, psid, line, Choice(kind, amount), now)
    session.commit()
    said = _("C'est noté : je vous préviens {description}.").format(description=describe(kind, row.threshold))
    return menu_reply(session, psid, line, said)


def turn_off(session: Session, psid: str, line: Line, kind_value: str | None) -> Reply:
    kind = next((k for k in AlertKind if k.value == kind_value), None)
    if kind is not None and subs.unsubscribe(session, psid, kind):
        session.commit()
        said = _("C'est fait : plus d'alerte « {label} ».").format(label=_(KIND_LABELS[kind]))
        return menu_reply(session, psid, line, said)
    return menu_reply(session, psid, line)


def set_night(session: Session, psid: str, line: Line, value: str | None, now: datetime) -> Reply:
    allowed = value == "on"
    subs.set_night_ok(session, psid, allowed, now)
    session.commit()
    said = (
        _("Entendu : les alertes peuvent aussi arriver la nuit.")
        if allowed
        else _("Entendu : pas d'alerte entre 21 h et 7 h.")
    )
    return menu_reply(session, psid, line, said)


def stop_reply(session: Session, psid: str) -> Reply:
    stopped = subs.stop_all(session, psid)
    session.commit()
    if stopped:
        text = _("C'est fait : je ne vous enverrai plus aucune alerte. Vous pouvez les rétablir dans « Mes alertes ».")
    else:
        text = _("Vous n'aviez aucune alerte : je ne vous écris que lorsque vous me posez une question.")
    return Reply(text=text, quick_replies=[chip(q) for q in (QR_MY_ALERTS, *MENU[:3])])


def settings_reply(session: Session, psid: str, intent: str, entities: dict[str, str], now: datetime) -> Reply:
    """The answer to one alert-settings payload. "Stop alertes" always works (it only removes);
    everything else needs the CGU accepted and the sender's own, still valid, linked line."""
    if intent == "stop_alerts":
        return stop_reply(session, psid)
    if needs_consent(session, psid):
        return consent_intro_reply()
    line = get_linked_line(session, psid, now)
    if line is None:
        return Reply(text=_(NOT_LINKED_TEXT), quick_replies=[chip(QR_HELP)], asks=ask_number_reply().asks)
    if intent == "alert_on":
        return turn_on(session, psid, line, entities.get("alert_kind"), entities.get("alert_threshold"), now)
    if intent == "alert_off":
        return turn_off(session, psid, line, entities.get("alert_kind"))
    if intent == "alerts_night":
        return set_night(session, psid, line, entities.get("alert_night"), now)
    return menu_reply(session, psid, line)
