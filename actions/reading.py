"""Reading the latest message of a rasa-sdk tracker safely: text, payload or typed words, the
metadata the webhook added (source, dialogue context), entities, and whether it confirms a question.

Entities, slots and payloads only ever carry filters, numbers to send a code to, or quote tokens the
services re-check: the line is always the one linked to `tracker.sender_id`.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.services.dialogue.context import BUTTON_SOURCES, Context, Question, context_from_metadata, source_from_metadata
from bot.services.dialogue.judge import Verdict
from bot.services.dialogue.resolver import confirmation_verdict

MAX_ENTITY_LEN = 120  # longer "entities" are not ours (a token is 24 chars, a query a few words)
MAX_TEXT_LEN = 1000


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
