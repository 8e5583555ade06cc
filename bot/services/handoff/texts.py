"""What the hand-off says: replies for users (in the turn's language) and the summary agents see
(metadata, always French: the agents read French; it names the conversation's language when it is
not French).

Kept apart from bot/services/handoff/escalations.py so the wording can be reviewed without reading the logic.
Hours come from bot/services/assistance/contact.py (the 1000 and the agents share them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.db import handoff as h
from bot.services.assistance.contact import (
    DAY_NAMES,
    EMAIL_1000,
    OPENS,
    PAYLOAD_CONTACT_1000,
    PAYLOAD_HELP,
    hhmm,
    hours_1000,
    next_1000_opening,
)
from bot.services.fr_format import datetime_fr, to_noumea
from bot.services.i18n import FRENCH, N_, _
from bot.services.language.preference import NAMES as LANGUAGE_NAMES
from bot.services.replies import QuickReply, Reply

METADATA_LIMIT = 1000  # Messenger's limit for thread-control metadata
INTENTS_KEPT = 5
REASON_LABELS = {
    h.USER_REQUEST: "demande à parler à un conseiller",
    h.MISUNDERSTANDING: "incompréhensions répétées",
    h.ACTION_FAILURE: "opération impossible à terminer",
    h.LOST_PHONE: "téléphone perdu ou volé",
    h.FRUSTRATION: "client mécontent de l'assistant",
    h.REPEATED: "même demande répétée 3 fois",
}
# Said first, so the user knows why they are being passed on (marked: translated in `_why`).
_WHY = {
    h.MISUNDERSTANDING: N_("Je n'arrive pas à bien comprendre votre demande, désolé."),
    h.ACTION_FAILURE: N_("Je n'ai pas pu terminer cette opération, désolé."),
    h.FRUSTRATION: N_("Désolé de ne pas avoir su vous aider."),
    h.REPEATED: N_("Je vois que je ne réponds pas à votre demande, désolé."),
}
CHIPS = [QuickReply(N_("Autre question"), PAYLOAD_HELP), QuickReply(N_("Appeler le 1000"), PAYLOAD_CONTACT_1000)]


def _why(reason: str) -> str:
    why = _WHY.get(reason)
    return _(why) + " " if why else ""


def _hours() -> str:
    """ "du lundi au vendredi de 7h30 à 15h45 (heure de Nouméa)"."""
    return _("{hours} (heure de Nouméa)").format(hours=hours_1000())


def _chips(count: int = len(CHIPS)) -> list[QuickReply]:
    return [QuickReply(_(q.title), q.payload) for q in CHIPS[:count]]


def reopening(now: datetime) -> str:
    """When agents answer next, said the French way: "aujourd'hui à 7h30", "lundi à 7h30"."""
    local = to_noumea(now)
    opening = next_1000_opening(now)
    day = _(DAY_NAMES[opening.weekday()])
    if opening.date() == local.date():
        return _("aujourd'hui à {time}").format(time=hhmm(OPENS))
    if opening.date() == local.date() + timedelta(days=1):
        return _("demain {day} à {time}").format(day=day, time=hhmm(OPENS))
    return _("{day} à {time}").format(day=day, time=hhmm(OPENS))


def clean_intents(intents: Iterable[str] | None) -> list[str]:
    names = [str(i).strip().lstrip("/")[:40] for i in intents or () if str(i or "").strip()]
    return names[-INTENTS_KEPT:]


def summary(escalation: h.Escalation, language: str = FRENCH) -> str:
    """The note passed with the thread (metadata): enough for the agent not to ask again. In
    French (the agents read French); "Langue : anglais" when the user does not speak French."""
    label = REASON_LABELS.get(escalation.reason, escalation.reason)
    lines = [
        f"Assistant Mobilis – escalade n°{escalation.id}",
        f"Motif : {label} ({escalation.reason})",
        f"Ligne : {escalation.line_masked or 'non liée'}",
        f"Derniers sujets : {escalation.last_intents or '—'}",
    ]
    if language != FRENCH:
        lines.insert(1, f"Langue : {LANGUAGE_NAMES.get(language, language)}")
    if escalation.user_message:
        lines.append(f"Message laissé par l'utilisateur (non vérifié) : {quoted(escalation.user_message)}")
    text = "\n".join(lines)
    return text if len(text) <= METADATA_LIMIT else text[: METADATA_LIMIT - 1] + "…"


def quoted(user_text: str) -> str:
    """A user's free text as agents read it: on one line, inside « », so that it can never look
    like one of the summary's own fields ("…\nLigne : 79 12 34 (vérifiée par SMS)")."""
    flat = " ⏎ ".join(part.strip() for part in re.split(r"[\r\n\u2028\u2029\x0b\x0c\x85]+", user_text) if part.strip())
    flat = "".join(c for c in flat if c.isprintable())
    return "« " + flat.replace("«", '"').replace("»", '"') + " »"


def passed_reply(reason: str) -> Reply:
    return Reply(
        text=_why(reason)
        + _(
            "Je vous mets en relation avec un conseiller Mobilis : il vous répondra ici, "
            "dans cette conversation, dès que possible (les conseillers répondent {hours}). Je lui transmets "
            "le résumé de notre échange, inutile de tout répéter. En attendant, je me mets en retrait. "
            "Par téléphone : le 1000, gratuit depuis une ligne Mobilis."
        ).format(hours=_hours())
    )


def out_of_hours_reply(reason: str, now: datetime) -> Reply:
    return Reply(
        text=_why(reason)
        + _(
            "Nos conseillers et le 1000 répondent {hours} : ils reprennent "
            "{when}.\nÉcrivez-moi votre message ici, en un seul envoi : je le transmets et "
            "un conseiller vous répondra dans cette conversation dès la réouverture."
        ).format(hours=_hours(), when=reopening(now)),
        quick_replies=_chips(1),
    )


def message_left_reply(now: datetime) -> Reply:
    return Reply(
        text=_(
            "Merci, votre message est enregistré pour nos conseillers. Ils reprennent "
            "{when} : un conseiller vous répondra ici, dans cette conversation."
        ).format(when=reopening(now)),
        quick_replies=_chips(1),
    )


def already_with_agent_reply() -> Reply:
    return Reply(text=_("Votre demande est déjà transmise à un conseiller : il vous répondra ici dès que possible."))


def already_waiting_reply(now: datetime) -> Reply:
    return Reply(
        text=_(
            "Votre demande est bien enregistrée. Nos conseillers reprennent {when} : "
            "un conseiller vous répondra ici. Vous pouvez m'écrire votre message maintenant."
        ).format(when=reopening(now)),
        quick_replies=_chips(1),
    )


def pass_failed_reply() -> Reply:
    return Reply(
        text=_(
            "Désolé, je n'ai pas réussi à transmettre votre demande à un conseiller. Pour être aidé, "
            "appelez le 1000 (gratuit depuis une ligne Mobilis), {hours}, ou écrivez à {email}."
        ).format(hours=_hours(), email=EMAIL_1000),
        quick_replies=_chips(1),
    )


def welcome_back_reply() -> Reply:
    return Reply(
        text=_(
            "Re-bonjour, c'est l'assistant Mobilis : je reprends la conversation. Puis-je vous aider pour autre chose ?"
        ),
        quick_replies=_chips(),
    )


def welcome_back_after_timeout_reply() -> Reply:
    return Reply(
        text=_(
            "C'est de nouveau l'assistant Mobilis. Aucun conseiller n'a pu vous répondre ici, "
            "désolé. Pour parler à quelqu'un, appelez le 1000 (gratuit depuis une ligne Mobilis), {hours}, "
            "ou écrivez à {email}. Je peux aussi répondre à vos questions."
        ).format(hours=_hours(), email=EMAIL_1000),
        quick_replies=_chips(),
    )


# Shown to the agent (agents' panel) when their reply could not reach the user.
AGENT_SEND_FAILURES = {
    "window": (
        "plus de 7 jours depuis le dernier message de l'utilisateur : Messenger n'autorise plus "
        "de réponse. Il faudra qu'il vous réécrive, ou le contacter par le 1000"
    ),
    "unavailable": "l'utilisateur n'est plus joignable sur Messenger (compte supprimé ou page bloquée)",
    "transient": "Messenger est momentanément indisponible : réessayez dans quelques minutes",
    "token": "le jeton d'accès de la page est refusé : prévenez l'exploitation",
    "refused": "Messenger a refusé l'envoi",
}


def agent_send_failed(reason: str, now: datetime) -> str:
    return (
        f"Réponse non remise ({datetime_fr(now)}) : {AGENT_SEND_FAILURES.get(reason, AGENT_SEND_FAILURES['refused'])}."
    )
