"""Last step of the NLU pipeline: read a typed message in the context of the conversation.

The webhook sends each message with metadata (docs/contracts.md): `source` (typed, quick_reply,
postback, attachment), `context` (the question the assistant just asked and the topic it just
showed, kept per PSID server-side with an expiry) and `recent` (the user's previous typed
messages). bot.services.dialogue.resolver decides whether that context gives the message another
meaning than the model's reading ("79 12 34" after "votre numéro ?", "le deuxième" after a product
list, "je ne confirme pas" after a purchase summary, "et en internet ?" after the balance).

Without metadata (`rasa test nlu`, `rasa shell`) only the context-free rules apply (frustration),
so the held-out evaluations measure the model itself. Quick replies and postbacks never reach
this component: Rasa reads their `/intent{...}` payload directly.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.services.dialogue.context import (
    TYPED,
    context_from_metadata,
    recent_from_metadata,
    source_from_metadata,
    turn_from_metadata,
)
from bot.services.dialogue.resolver import resolve

FALLBACK_INTENT = "nlu_fallback"

logger = logging.getLogger(__name__)
RESOLUTION_KEY = "context_resolution"
RESPONSE_SELECTOR_KEY = "response_selector"

# The final reading of each message, by the webhook's turn id, until our channel
# (nlu/channels/internal_rest.py) hands it back with the answer: the webhook records what the
# assistant understood (bot/services/insights) without one more tracker read per message.
_readings: OrderedDict[str, dict[str, Any]] = OrderedDict()
_readings_lock = threading.Lock()
_READINGS_MAX = 2000  # turns whose answer never reached the channel (errors) must not pile up


def take_reading(turn: str | None) -> dict[str, Any] | None:
    """The reading of the message sent with this turn id (once), or None."""
    if not turn:
        return None
    with _readings_lock:
        return _readings.pop(turn, None)


def _keep_reading(message: Message) -> None:
    turn = turn_from_metadata(message.get("metadata"))
    if turn is None:
        return
    intent = message.get(INTENT) or {}
    try:
        selected = message.get(RESPONSE_SELECTOR_KEY)["faq"]["response"]
    except (KeyError, TypeError):
        selected = {}
    reading = {
        "intent": intent.get(INTENT_NAME_KEY),
        "confidence": intent.get(PREDICTED_CONFIDENCE_KEY),
        "faq_key": selected.get("intent_response_key"),
        "faq_confidence": selected.get(PREDICTED_CONFIDENCE_KEY),
        "resolved": message.get(RESOLUTION_KEY) is not None,
    }
    with _readings_lock:
        _readings[turn] = reading
        while len(_readings) > _READINGS_MAX:
            _readings.popitem(last=False)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ContextResolver(GraphComponent):
    """Overrides the intent (and adds entities) when the conversation's context decides it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ContextResolver:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            try:
                self._resolve(message)
            except Exception:  # the model's own reading is always a usable answer
                logger.exception("context resolution failed; keeping the NLU's reading")
            _keep_reading(message)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data

    @staticmethod
    def _resolve(message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str):
            return
        metadata = message.get("metadata")
        source = source_from_metadata(metadata)
        if source is not None and source != TYPED:
            return
        parse = {INTENT: message.get(INTENT) or {}}
        resolution = resolve(text, parse, context_from_metadata(metadata), recent_from_metadata(metadata))
        if resolution is None:
            return
        chosen = {INTENT_NAME_KEY: resolution.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != resolution.intent]
        if resolution.intent == FALLBACK_INTENT:
            ranking = []  # "zzzz": the model's guesses are not meanings worth offering
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
        entities = [e for e in message.get(ENTITIES) or [] if e.get(ENTITY_ATTRIBUTE_TYPE) not in resolution.entities]
        for name, value in resolution.entities.items():
            entities.append(
                {
                    ENTITY_ATTRIBUTE_TYPE: name,
                    ENTITY_ATTRIBUTE_VALUE: value,
                    ENTITY_ATTRIBUTE_START: 0,
                    ENTITY_ATTRIBUTE_END: len(text),
                    EXTRACTOR: "ContextResolver",
                }
            )
        message.set(ENTITIES, entities, add_to_output=True)
        message.set(RESOLUTION_KEY, resolution.reason, add_to_output=True)
        logger.debug("context resolution: %s", resolution.reason)
