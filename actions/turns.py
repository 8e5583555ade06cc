"""One way to run an action's turn, and the replies every action shares.

Rules kept here so no action can forget them:
- database work runs in the default thread pool (rasa-sdk awaits `run` on its event loop);
- an account action without consent to the current CGU answers the consent intro and keeps the
  question in `pending_request` (answered by actions.replay once consent and link are done);
- a failing service never kills the turn: the user gets an apology with "Réessayer" and a way to
  reach a human (`/human`);
- Messenger shows only the last message's quick replies: every reply's chips are gathered there.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.reading import is_payload, latest_intent, latest_text
from actions.reply_adapter import send_reply
from bot import config
from bot.db.account import Line
from bot.db.base import session_scope
from bot.services.dialogue.context import FORGET_MARKER, MARKER, Context, language_from_metadata
from bot.services.dialogue.payloads import parse_payload
from bot.services.i18n import N_, _, speaking
from bot.services.identity.linking import ask_number_reply, revalidate_after
from bot.services.identity.phone import EXAMPLE, format_number
from bot.services.operator.port import OperatorError
from bot.services.privacy.consent import consent_intro_reply, needs_consent
from bot.services.replies import QR_HELP, QR_HUMAN, QUICK_REPLY_LIMIT, QuickReply, Reply

log = logging.getLogger(__name__)

PENDING = "pending_request"
INTRO = "intro_shown"
MAX_PENDING_LEN = 300

APOLOGY_TEXT = N_(
    "Désolé, je n'arrive pas à traiter votre demande pour le moment. Réessayez dans quelques "
    "minutes, demandez à parler à un conseiller ou appelez le 1000 (service client Mobilis)."
)
OPERATOR_DOWN_TEXT = N_(
    "Le système de Mobilis ne répond pas pour l'instant : je ne peux pas vous répondre sur votre ligne. "
    "Rien n'a été acheté ni débité. Réessayez dans quelques minutes, ou appelez le 1000 (gratuit depuis "
    "une ligne Mobilis)."
)
UNCLEAR_TEXT = N_("Je n'ai pas bien compris votre réponse.")
REPROMPT = N_("Je n'ai pas bien compris… 🤔 Pouvez-vous reformuler en quelques mots, ou choisir ci-dessous ?")
DEV_HINT = N_("(Simulateur : choisissez une « Ligne de démo » dans le panneau pour essayer.)")

# What the user wanted, said back when the line must be verified first.
TOPICS = {
    "show_offer": N_("voir votre offre"),
    "show_balance": N_("voir votre solde"),
    "show_usage": N_("voir votre consommation"),
    "show_purchases": N_("voir vos achats"),
    "show_notifications": N_("voir vos notifications"),
    "buy": N_("acheter depuis le chat"),
    "confirm_suspend": N_("suspendre votre ligne"),
}


def unclear(question: Reply) -> Reply:
    """A consequential question asked again after a reply that was not a clear yes or no."""
    return replace(question, text=f"{_(UNCLEAR_TEXT)} {question.text}")


def apology_reply(retry_payload: str | None) -> Reply:
    quick = [QuickReply(_("Réessayer"), retry_payload)] if retry_payload else []
    return Reply(text=_(APOLOGY_TEXT), quick_replies=quick + [QR_HUMAN])


def retry_payload(tracker: Tracker) -> str | None:
    """ "Réessayer" replays the payload that was tapped, or the bare intent of a typed message."""
    text = latest_text(tracker)
    if is_payload(text) and parse_payload(text) is not None:
        return text
    intent = latest_intent(tracker)
    return f"/{intent}" if intent and intent != "nlu_fallback" else None


def not_linked_reply(pending: str | None, problem: tuple[str, Line] | None = None) -> Reply:
    """Account question without a (still valid) linked line: why, then the first linking step."""
    parsed = parse_payload(pending)
    topic = _(TOPICS[parsed[0]]) if parsed and parsed[0] in TOPICS else None
    asking = ask_number_reply()
    if problem is not None and problem[0] == "stale":
        text = _(
            "Par sécurité, la liaison de votre ligne {number} doit être vérifiée à "
            "nouveau (tous les {days} jours) : indiquez votre numéro Mobilis, je vous "
            "envoie un code par SMS."
        ).format(number=format_number(problem[1].msisdn), days=revalidate_after().days)
    elif problem is not None:
        text = _(
            "Le titulaire de la ligne {number} a retiré l'accès de ce compte "
            "Messenger. Pour la consulter à nouveau, indiquez votre numéro Mobilis : il faudra le code "
            "envoyé par SMS sur cette ligne."
        ).format(number=format_number(problem[1].msisdn))
    elif topic:
        text = _(
            "Pour {topic}, je dois d'abord vérifier votre ligne : indiquez votre numéro Mobilis (6 chiffres, "
            "par exemple {example}). Je vous enverrai un code par SMS pour vérifier qu'il s'agit bien de vous."
        ).format(topic=topic, example=EXAMPLE)
    else:
        text = asking.text
    text += f"\n{_(DEV_HINT)}" if config.dev_mode() else ""
    return Reply(text=text, quick_replies=[QR_HELP], asks=asking.asks)


def combine(replies: list[Reply]) -> list[Reply]:
    """Messenger only shows the quick replies of the last message: gather every reply's chips
    there (the last reply's first, no duplicate payloads, at most 13)."""
    replies = [r for r in replies if r is not None]
    if len(replies) < 2:
        return replies
    chips: list[QuickReply] = []
    for reply in [replies[-1], *replies[:-1]]:
        for chip in reply.quick_replies:
            if chip.payload not in {c.payload for c in chips}:
                chips.append(chip)
    out = [replace(r, quick_replies=[]) for r in replies[:-1]]
    return out + [replace(replies[-1], quick_replies=chips[:QUICK_REPLY_LIMIT])]


@dataclass
class Turn:
    """What an action says (in order) and the events it returns to Rasa."""

    replies: list[Reply]
    events: list[dict] = field(default_factory=list)
    # The user's data were erased: the webhook then erases Rasa's tracker of this conversation.
    forget: bool = False


def as_turn(result: Reply | Turn) -> Turn:
    return result if isinstance(result, Turn) else Turn([result])


def consent_turn(pending: str | None) -> Turn:
    """The consent intro instead of the answer; the question is kept to be answered after."""
    events = [SlotSet(PENDING, pending[:MAX_PENDING_LEN])] if pending else []
    return Turn([consent_intro_reply()], events + [SlotSet(INTRO, True)])


def _needs_intro(psid: str) -> bool:
    """Public answers must not fail because the database does: no intro then."""
    try:
        with session_scope() as session:
            return needs_consent(session, psid)
    except Exception:  # logged, the answer itself is what matters
        log.warning("consent check failed, public answer sent without the intro", exc_info=True)
        return False


async def run_turn(
    name: str,
    dispatcher,
    tracker: Tracker,
    work: Callable[[Any], Reply | Turn],
    *,
    gated: bool = False,
    pending: str | None = None,
    uses_db: bool = True,
    intro_once: bool = False,
    retry: str | None = None,
    on_error: Callable[[], Reply] | None = None,
) -> list[dict]:
    """Run `work(session)` in a worker thread and send what it returns, in the conversation's
    language (the webhook's metadata; French by default).

    gated: account action — without consent to the current CGU, answer the intro and keep
      `pending` (the payload to replay once consent and linking are done).
    intro_once: public action — append the consent intro if needed and not shown yet.
    uses_db: False when `work` needs no database (it then receives None).
    """
    with speaking(language_from_metadata((tracker.latest_message or {}).get("metadata"))):
        return await _run_turn(name, dispatcher, tracker, work, gated, pending, uses_db, intro_once, retry, on_error)


async def _run_turn(
    name: str,
    dispatcher,
    tracker: Tracker,
    work: Callable[[Any], Reply | Turn],
    gated: bool,
    pending: str | None,
    uses_db: bool,
    intro_once: bool,
    retry: str | None,
    on_error: Callable[[], Reply] | None,
) -> list[dict]:
    psid = tracker.sender_id
    want_intro = intro_once and not tracker.get_slot(INTRO)

    def job() -> Turn:
        if uses_db or gated:
            with session_scope() as session:
                if gated and needs_consent(session, psid):
                    return consent_turn(pending)
                turn = as_turn(work(session))
        else:
            turn = as_turn(work(None))
        if want_intro and _needs_intro(psid):
            turn = Turn(turn.replies + [consent_intro_reply()], turn.events + [SlotSet(INTRO, True)], turn.forget)
        return turn

    try:
        # The worker thread gets this turn's context: its language above all.
        turn = await asyncio.get_running_loop().run_in_executor(None, contextvars.copy_context().run, job)
    except OperatorError as exc:  # the operator's systems are down or refused a read: say so plainly
        log.warning("%s: operator unavailable: %s", name, exc)
        again = retry or retry_payload(tracker)
        turn = Turn(
            [
                Reply(
                    _(OPERATOR_DOWN_TEXT),
                    quick_replies=([QuickReply(_("Réessayer"), again)] if again else []) + [QR_HUMAN],
                )
            ]
        )
    except Exception:  # never let a service error kill the turn or the action server
        log.exception("%s failed", name)
        turn = Turn([on_error() if on_error else apology_reply(retry or retry_payload(tracker))])
    replies = combine(turn.replies)
    for reply in replies:
        send_reply(dispatcher, reply)
    declare_context(dispatcher, replies)
    if turn.forget:  # only when the work and its commit succeeded
        dispatcher.utter_message(json_message={FORGET_MARKER: True})
    return turn.events


def declare_context(dispatcher, replies: list[Reply]) -> None:
    """Tell the webhook what this turn asks and shows (it hands it back with the next message).
    The last question asked wins; the topic is the first answer's."""
    question = next((r.asks for r in reversed(replies) if r.asks is not None), None)
    topic = next((r.topic for r in replies if r.topic is not None), None)
    context = Context(question, topic)
    if not context.empty:
        dispatcher.utter_message(json_message={MARKER: context.as_json()})
