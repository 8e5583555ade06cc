"""Consultation actions: offer, balance, usage, purchases, notifications, documents.

Security rule: the line is ALWAYS the one linked to the Messenger sender
(`bot.services.linking.get_linked_line(session, tracker.sender_id)`). Nothing from the message
or the slots (a typed number, a forged `/show_balance{"msisdn": ...}` payload) can choose it;
entities only filter what is shown (product_type, month, page).

rasa-sdk awaits `run` on its event loop, so database work runs in the default thread pool:
one slow query never blocks the other conversations.
"""
from __future__ import annotations

import abc
import asyncio
import json
import logging
import os
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.reply_adapter import send_reply
from bot.db.base import session_scope
from bot.services import consultation
from bot.services.linking import get_linked_line
from bot.services.replies import QuickReply, Reply

log = logging.getLogger(__name__)

LINK_PAYLOAD = "/link_line"
HELP = QuickReply("Aide", "/help")

NOT_LINKED_TEXT = (
    "Aucune ligne Mobilis n'est encore reliée à ce compte Messenger, je ne peux donc pas afficher "
    "ces informations. Pour relier votre ligne, indiquez votre numéro Mobilis : je vous enverrai un "
    "code par SMS pour vérifier qu'il s'agit bien de vous."
)
DEV_NOT_LINKED_HINT = "(Simulateur : choisissez une « Ligne de démo » dans le panneau pour essayer.)"
APOLOGY_TEXT = (
    "Désolé, je n'arrive pas à consulter votre compte pour le moment. Réessayez dans quelques "
    "minutes ; si le problème continue, le service client répond au 1000."
)

PRODUCT_TYPES = {"RL", "IMD", "TOPUP"}


def _dev_mode() -> bool:
    # Read directly: bot.config.get_settings() refuses to load without the Facebook secrets
    # outside dev mode, and this hint must never break an answer.
    return os.environ.get("MOBILIS_DEV_MODE", "").strip().lower() in {"1", "true", "yes", "on"}


def not_linked_reply() -> Reply:
    text = NOT_LINKED_TEXT + ("\n" + DEV_NOT_LINKED_HINT if _dev_mode() else "")
    return Reply(text=text, quick_replies=[QuickReply("Relier ma ligne", LINK_PAYLOAD), HELP])


def apology_reply(retry_payload: str) -> Reply:
    return Reply(text=APOLOGY_TEXT, quick_replies=[QuickReply("Réessayer", retry_payload), HELP])


def entity_values(tracker: Tracker, name: str) -> list[Any]:
    """Values of one entity in the latest user message, in extraction order (duplicates from
    the regex extractor and DIET included)."""
    entities = (tracker.latest_message or {}).get("entities") or []
    return [e.get("value") for e in entities if e.get("entity") == name and e.get("value") not in (None, "")]


def _first_valid(values: list[Any], valid: Callable[[Any], bool]) -> Any:
    """The first usable value; else the first one, so the service can say it did not understand."""
    for value in values:
        if valid(value):
            return value
    return values[0] if values else None


def _is_product_type(value: Any) -> bool:
    return str(value).strip().upper() in PRODUCT_TYPES


def _is_month(value: Any) -> bool:
    text = str(value).strip()
    return text.isdigit() and 1 <= int(text) <= 12


class LinkedLineAction(Action, metaclass=abc.ABCMeta):
    """Answer about the sender's linked line, or explain how to link one.

    Abstract (rasa-sdk registers every concrete Action subclass it finds)."""

    action_name = ""
    intent = ""  # payload replayed by the "Réessayer" quick reply

    def name(self) -> str:
        return self.action_name

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        """Filters read from the latest message (never a line identity)."""
        return {}

    @abc.abstractmethod
    def answer(self, session, line, **params: Any) -> Reply:
        """The service reply for this line (runs in a worker thread, inside a session)."""

    def retry_payload(self, params: dict[str, Any]) -> str:
        return self.intent

    def _answer_for(self, psid: str, params: dict[str, Any]) -> Reply:
        with session_scope() as session:
            line = get_linked_line(session, psid)
            if line is None:
                return not_linked_reply()
            return self.answer(session, line, **params)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        params = self.parameters(tracker)
        try:
            reply = await asyncio.get_running_loop().run_in_executor(
                None, self._answer_for, tracker.sender_id, params
            )
        except Exception:  # never let a service error kill the turn or the action server
            log.exception("%s failed", self.name())
            reply = apology_reply(self.retry_payload(params))
        send_reply(dispatcher, reply)
        return []


class ActionShowOffer(LinkedLineAction):
    action_name = "action_show_offer"
    intent = "/show_offer"

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.offer_reply(session, line)


class ActionShowBalance(LinkedLineAction):
    action_name = "action_show_balance"
    intent = "/show_balance"

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.balance_reply(session, line)


class ActionShowUsage(LinkedLineAction):
    action_name = "action_show_usage"
    intent = "/show_usage"

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.usage_reply(session, line)


class ActionShowPurchases(LinkedLineAction):
    action_name = "action_show_purchases"
    intent = "/show_purchases"

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        product_type = _first_valid(entity_values(tracker, "product_type"), _is_product_type)
        month = _first_valid(entity_values(tracker, "month"), _is_month)
        pages = entity_values(tracker, "page")
        return {
            "product_type": str(product_type).strip().upper() if _is_product_type(product_type) else product_type,
            "month": month,
            "page": pages[0] if pages else 0,
        }

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.purchases_reply(session, line, product_type=params.get("product_type"),
                                            month=params.get("month"), page=params.get("page") or 0)

    def retry_payload(self, params: dict[str, Any]) -> str:
        filters = {k: params[k] for k in ("product_type", "month", "page") if params.get(k)}
        return self.intent + (json.dumps(filters, ensure_ascii=False) if filters else "")


class ActionShowNotifications(LinkedLineAction):
    action_name = "action_show_notifications"
    intent = "/show_notifications"

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.notifications_reply(session, line)


class ActionShowDocuments(LinkedLineAction):
    """Contractual documents are public: no linked line needed."""

    action_name = "action_show_documents"
    intent = "/show_documents"

    def _answer_for(self, psid: str, params: dict[str, Any]) -> Reply:
        return self.answer(None, None)

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.documents_reply()  # reads data/catalogue.yml, not the database
