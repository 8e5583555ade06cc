"""Consultation actions: offer, balance, usage, purchases, notifications, documents.

Security rule: the line is ALWAYS the one linked to the Messenger sender
(`bot.services.linking.get_linked_line(session, tracker.sender_id)`, in actions.gate). Nothing
from the message or the slots (a typed number, a forged `/show_balance{"msisdn": ...}` payload)
can choose it; entities only filter what is shown (product_type, month, page).

`run` is actions.gate.run_line_action: consent gate (the question is kept in `pending_request`
and answered once the CGU are accepted and the line verified), the answer computed in the
default thread pool (one slow query never blocks the other conversations), a reminder of an
open purchase, and an apology with "Réessayer" / "Un conseiller" when a service fails.
"""
from __future__ import annotations

import abc
import json
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.gate import run_line_action
from bot.services import consultation
from bot.services.replies import Reply

PRODUCT_TYPES = {"RL", "IMD", "TOPUP"}


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
    """Answer about the sender's linked line (see actions.gate.run_line_action).

    Abstract (rasa-sdk registers every concrete Action subclass it finds)."""

    action_name = ""
    intent = ""  # payload replayed by "Réessayer" and kept in pending_request
    public = False  # True: answered without consent nor line (no account data)

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

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await run_line_action(self, dispatcher, tracker)


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
    """Contractual documents are public: no consent nor linked line needed."""

    action_name = "action_show_documents"
    intent = "/show_documents"
    public = True

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.documents_reply()  # reads data/catalogue.yml, not the database
