"""What every custom action shares: the consent gate, `pending_request`, the consent intro shown
once by public actions, safe reading of the latest message, and one way to run a turn.

Rules kept here so no action can forget them:
- the line is only ever `linking.get_linked_line(session, tracker.sender_id)`; entities, slots and
  payloads only carry filters, numbers to send a code to, or quote tokens the services re-check;
- database work runs in the default thread pool (rasa-sdk awaits `run` on its event loop);
- a failing service never kills the turn: the user gets an apology with "Réessayer" and a way to
  reach a human (`/human`).

Consultation actions (actions/consultation.py) use `run_line_action` as their `run`.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.reply_adapter import send_reply
from bot.db.base import session_scope
from bot.db.models import Line
from bot.services.consent import consent_intro_reply, needs_consent
from bot import config
from bot.services.dialogue.context import (BUTTON_SOURCES, FORGET_MARKER, MARKER, Context, Question,
                                           context_from_metadata, source_from_metadata)
from bot.services.dialogue.judge import Verdict
from bot.services.dialogue.payloads import parse_payload, payload  # noqa: F401  (used by the actions)
from bot.services.dialogue.resolver import confirmation_verdict
from bot.services.linking import ask_number_reply, get_linked_line, link_problem, revalidate_after
from bot.services.phone import format_number
from bot.services.phone import EXAMPLE
from bot.services.purchases import open_quote_question
from bot.services.replies import QuickReply, Reply

log = logging.getLogger(__name__)

PENDING = "pending_request"
INTRO = "intro_shown"
MAX_QUICK_REPLIES = 13  # Messenger
MAX_ENTITY_LEN = 120  # longer "entities" are not ours (a token is 24 chars, a query a few words)
MAX_TEXT_LEN = 1000
MAX_PENDING_LEN = 300

# "Parler à un conseiller" has 22 characters: Messenger cuts quick-reply titles after 20.
HUMAN = QuickReply("Un conseiller", "/human")
HELP = QuickReply("Aide", "/help")
MENU = [QuickReply("Mon solde", "/show_balance"), QuickReply("Ma conso", "/show_usage"),
        QuickReply("Acheter", "/buy"), QuickReply("Agences", "/find_agency"), HUMAN]
APOLOGY_TEXT = ("Désolé, je n'arrive pas à traiter votre demande pour le moment. Réessayez dans quelques "
                "minutes, demandez à parler à un conseiller ou appelez le 1000 (service client Mobilis).")
UNCLEAR_TEXT = "Je n'ai pas bien compris votre réponse."
REPROMPT = "Je n'ai pas bien compris… 🤔 Pouvez-vous reformuler en quelques mots, ou choisir ci-dessous ?"
DEV_HINT = "(Simulateur : choisissez une « Ligne de démo » dans le panneau pour essayer.)"

# What the user wanted, said back when the line must be verified first.
TOPICS = {"show_offer": "voir votre offre", "show_balance": "voir votre solde",
          "show_usage": "voir votre consommation", "show_purchases": "voir vos achats",
          "show_notifications": "voir vos notifications", "buy": "acheter depuis le chat",
          "confirm_suspend": "suspendre votre ligne"}


def utcnow() -> datetime:
    """The actions' clock (tests replace it: the demo data live around one fixed day)."""
    return datetime.now(timezone.utc)


def dev_mode() -> bool:
    return config.dev_mode()


# ------------------------------------------------------------------ reading the latest message

def latest_text(tracker: Tracker) -> str:
    text = (tracker.latest_message or {}).get("text")
    return text.strip()[:MAX_TEXT_LEN] if isinstance(text, str) else ""


def is_payload(text: str) -> bool:
    return text.startswith("/")


def message_metadata(tracker: Tracker) -> dict:
    """What the webhook sent with the message (source, dialogue context; docs/contracts.md)."""
    metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def came_from_button(tracker: Tracker) -> bool:
    """A real quick reply or postback. The webhook says which; a typed "/confirm_purchase" reaches
    Rasa without its slash, so without metadata (rasa shell, tests) the payload shape decides."""
    source = source_from_metadata(message_metadata(tracker))
    if source is not None:
        return source in BUTTON_SOURCES and is_payload(latest_text(tracker))
    return is_payload(latest_text(tracker))


def dialogue_context(tracker: Tracker) -> Context:
    """The question the assistant asked last and the topic it showed (as the webhook kept them)."""
    return context_from_metadata(message_metadata(tracker))


def confirmed(tracker: Tracker, kind: str, *, asked: bool = True) -> bool:
    """A consequential yes to the question `kind`: its own button, or a typed reply that the
    judge finds unambiguous while that very question is the one the user last saw (`asked`;
    False: said on the user's own initiative, "j'accepte les conditions"). The NLU's reading
    never confirms on its own."""
    if came_from_button(tracker):
        return True
    question = dialogue_context(tracker).question
    if question is None or question.kind != kind:
        if asked:
            return False
        question = Question(kind)
    return confirmation_verdict(typed_text(tracker), question) == Verdict.YES


def typed_text(tracker: Tracker) -> str:
    """What the user typed; "" for a quick-reply / postback payload (`/buy{...}` is not words)."""
    text = latest_text(tracker)
    return "" if is_payload(text) else text


def latest_intent(tracker: Tracker) -> str:
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return name if isinstance(name, str) else ""


def entity_values(tracker: Tracker, name: str) -> list[str]:
    """Values of one entity in the latest message, as short stripped strings (numbers from JSON
    payloads included; lists, dicts and oversized values dropped)."""
    values = []
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if not isinstance(entity, dict) or entity.get("entity") != name:
            continue
        value = entity.get("value")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            continue
        value = str(value).strip()
        if value and len(value) <= MAX_ENTITY_LEN:
            values.append(value)
    return values


def entity(tracker: Tracker, name: str) -> str | None:
    values = entity_values(tracker, name)
    return values[0] if values else None


def payload_entity(tracker: Tracker, name: str) -> str | None:
    """An entity only when the message is a payload we built (`/intent{"name": ...}`): typed text
    can never supply it, whatever the NLU extracts."""
    return entity(tracker, name) if is_payload(latest_text(tracker)) else None


def user_intents(tracker: Tracker) -> list[str]:
    """Intent names of the user messages of the conversation, oldest first (current one last)."""
    names = []
    for event in tracker.events or []:
        if isinstance(event, dict) and event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            names.append(intent if isinstance(intent, str) else "")
    return names


# ------------------------------------------------------------------ replies

def unclear(question: Reply) -> Reply:
    """A consequential question asked again after a reply that was not a clear yes or no."""
    return replace(question, text=f"{UNCLEAR_TEXT} {question.text}")


def apology_reply(retry_payload: str | None) -> Reply:
    quick = [QuickReply("Réessayer", retry_payload)] if retry_payload else []
    return Reply(text=APOLOGY_TEXT, quick_replies=quick + [HUMAN])


def retry_payload(tracker: Tracker) -> str | None:
    """"Réessayer" replays the payload that was tapped, or the bare intent of a typed message."""
    text = latest_text(tracker)
    if is_payload(text) and parse_payload(text) is not None:
        return text
    intent = latest_intent(tracker)
    return f"/{intent}" if intent and intent != "nlu_fallback" else None


def not_linked_reply(pending: str | None, problem: tuple[str, Line] | None = None) -> Reply:
    """Account question without a (still valid) linked line: why, then the first linking step."""
    parsed = parse_payload(pending)
    topic = TOPICS.get(parsed[0]) if parsed else None
    asking = ask_number_reply()
    if problem is not None and problem[0] == "stale":
        text = (f"Par sécurité, la liaison de votre ligne {format_number(problem[1].msisdn)} doit être vérifiée à "
                f"nouveau (tous les {revalidate_after().days} jours) : indiquez votre numéro Mobilis, je vous "
                "envoie un code par SMS.")
    elif problem is not None:
        text = (f"Le titulaire de la ligne {format_number(problem[1].msisdn)} a retiré l'accès de ce compte "
                "Messenger. Pour la consulter à nouveau, indiquez votre numéro Mobilis : il faudra le code "
                "envoyé par SMS sur cette ligne.")
    elif topic:
        text = (f"Pour {topic}, je dois d'abord vérifier votre ligne : indiquez votre numéro Mobilis (6 chiffres, "
                f"par exemple {EXAMPLE}). Je vous enverrai un code par SMS pour vérifier qu'il s'agit bien de vous.")
    else:
        text = asking.text
    text += f"\n{DEV_HINT}" if dev_mode() else ""
    return Reply(text=text, quick_replies=[HELP], asks=asking.asks)


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
    return out + [replace(replies[-1], quick_replies=chips[:MAX_QUICK_REPLIES])]


# ------------------------------------------------------------------ running a turn

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
    except Exception:  # noqa: BLE001 - logged, the answer itself is what matters
        log.warning("consent check failed, public answer sent without the intro", exc_info=True)
        return False


async def run_turn(name: str, dispatcher, tracker: Tracker, work: Callable[[Any], Reply | Turn], *,
                   gated: bool = False, pending: str | None = None, uses_db: bool = True,
                   intro_once: bool = False, retry: str | None = None,
                   on_error: Callable[[], Reply] | None = None) -> list[dict]:
    """Run `work(session)` in a worker thread and send what it returns.

    gated: account action — without consent to the current CGU, answer the intro and keep
      `pending` (the payload to replay once consent and linking are done).
    intro_once: public action — append the consent intro if needed and not shown yet.
    uses_db: False when `work` needs no database (it then receives None).
    """
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
        turn = await asyncio.get_running_loop().run_in_executor(None, job)
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


# ------------------------------------------------------------------ consultations and replays

async def run_line_action(action, dispatcher, tracker: Tracker) -> list[dict]:
    """`run` of a consultation action (actions.consultation.LinkedLineAction): consent gate,
    pending_request when no line is linked, the answer for the linked line, then a reminder of
    an open purchase. Actions with `public = True` (documents) skip the gate."""
    params = action.parameters(tracker)
    request = action.retry_payload(params)
    psid = tracker.sender_id
    if _is_public(action):
        return await run_turn(action.name(), dispatcher, tracker, lambda _s: action.answer(None, None, **params),
                              uses_db=False, intro_once=True, retry=request)

    def work(session) -> Turn:
        line = get_linked_line(session, psid)
        if line is None:
            return Turn([not_linked_reply(request, link_problem(session, psid))],
                        [SlotSet(PENDING, request[:MAX_PENDING_LEN])])
        answer = replace(action.answer(session, line, **params), topic=action.topic(params))
        return Turn([answer, *_reminder(session, psid)])

    return await run_turn(action.name(), dispatcher, tracker, work, gated=True, pending=request, retry=request)


def _is_public(action) -> bool:
    """`public = True` on the class; failing that, a class that replaced `_answer_for` (documents
    today) answers without any line, so it must not be gated either."""
    public = getattr(action, "public", None)
    if public is not None:
        return bool(public)
    from actions.consultation import LinkedLineAction

    base = getattr(LinkedLineAction, "_answer_for", None)
    return base is not None and getattr(type(action), "_answer_for", None) is not base


def _reminder(session, psid: str) -> list[Reply]:
    reminder = open_quote_question(session, psid, utcnow())
    return [reminder] if reminder else []


def _consultation_actions() -> dict[str, Any]:
    """Consultation actions by intent name, found by subclassing (new ones replay for free)."""
    from actions.consultation import LinkedLineAction  # late: consultation imports this module

    found, stack = {}, [LinkedLineAction]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if getattr(sub, "intent", ""):
                found[sub.intent.lstrip("/")] = sub
    return found


def replay_pending(session, psid: str, line, pending: str | None) -> Reply | None:
    """Answer the question kept in `pending_request` for the line just linked (or consented).

    Only questions are replayed (consultations, the product list or summary of /buy, the
    suspension the user asked for before accepting the CGU); a purchase is never confirmed
    from a slot. Entities only carry filters: the line is the one passed in, from the link.
    """
    parsed = parse_payload(pending)
    if parsed is None:
        return None
    intent, entities = parsed
    now = utcnow()
    if intent == "buy":
        from bot.services import purchases

        return purchases.buy(session, psid, text=entities.get("text"), product_type=entities.get("product_type"),
                             now=now).reply
    if intent == "confirm_suspend":
        from bot.services.line_suspension import suspend_linked_line

        return suspend_linked_line(session, psid, now=now)
    action_class = _consultation_actions().get(intent)
    if action_class is None:
        return None
    action = action_class()
    latest = {"intent": {"name": intent, "confidence": 1.0}, "text": pending,
              "entities": [{"entity": k, "value": v} for k, v in entities.items()]}
    params = action.parameters(Tracker(psid, {}, latest, [], False, None, {}, "action_listen"))
    return action.answer(session, line, **params)


def answer_pending(psid: str, pending: str | None) -> Reply | None:
    """`replay_pending` in its own transaction, once the consent or the link is committed: a
    failing answer must not undo them. A failure gives the apology with the question to retry."""
    if not pending:
        return None
    try:
        with session_scope() as session:
            line = get_linked_line(session, psid)
            return replay_pending(session, psid, line, pending) if line is not None else None
    except Exception:  # noqa: BLE001 - logged; the link or consent stays, the question can be retried
        log.exception("answering the pending request failed")
        return apology_reply(pending[:MAX_PENDING_LEN])
