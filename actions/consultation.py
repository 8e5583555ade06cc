"""Consultation actions: offer, balance, usage, purchases, notifications, documents.

Security rule: the line is ALWAYS the one linked to the Messenger sender
(`bot.services.identity.linking.get_linked_line(session, tracker.sender_id)`, in `LinkedLineAction.run`). Nothing
from the message or the slots (a typed number, a forged `/show_balance{"msisdn": ...}` payload)
can choose it; entities only filter what is shown (product_type, month, page).

`LinkedLineAction.run` (through actions.turns.run_turn): consent gate (the question is kept in `pending_request`
and answered once the CGU are accepted and the line verified), the answer computed in the
default thread pool (one slow query never blocks the other conversations), a reminder of an
open purchase, and an apology with "Réessayer" / "Un conseiller" when a service fails.
"""

from __future__ import annotations

import abc
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import turns
from actions.reading import typed_text
from bot import clock
from bot.services.account import consultation, history
from bot.services.dialogue.context import Topic
from bot.services.dialogue.payloads import payload
from bot.services.dialogue.quantities import HistoryFilter, facet, history_filter
from bot.services.identity.linking import get_linked_line, link_problem
from bot.services.purchasing.purchases import open_quote_question
from bot.services.replies import Reply

# "mon solde" is the whole balance; "il me reste combien d'internet" only its data part.
BALANCE_FACETS = frozenset({"data", "sms", "voice", "credit"})
USAGE_FACETS = frozenset({"data", "sms", "voice", "out_of_plan"})


def entity_values(tracker: Tracker, name: str) -> list[Any]:
    """Values of one entity in the latest user message, in extraction order."""
    entities = (tracker.latest_message or {}).get("entities") or []
    return [e.get("value") for e in entities if e.get("entity") == name and e.get("value") not in (None, "")]


def first_entity(tracker: Tracker, name: str) -> Any:
    values = entity_values(tracker, name)
    return values[0] if values else None


def asked_facet(tracker: Tracker, *, allowed: frozenset[str]) -> str | None:
    """The part of the plan asked: the `facet` entity (a follow-up, from the context step), else
    the words of the message ("il me reste combien d'internet" → data)."""
    value = first_entity(tracker, "facet") or facet(typed_text(tracker))
    return value if value in allowed else None


def _first_valid_month(values: list[Any]) -> str | None:
    """The first month entity that is a month number ("2"); DIET's synonym mapping gives numbers."""
    return next((str(v).strip() for v in values if str(v).strip().isdigit() and 1 <= int(str(v)) <= 12), None)


def history_asked(tracker: Tracker) -> HistoryFilter:
    """Filters of a purchase-history question: what the message says ("mes recharges du mois
    dernier"), completed by entities (a payload, or the filters a follow-up carries over)."""
    said = history_filter(typed_text(tracker))
    given = HistoryFilter.from_entities(
        {
            "product_type": first_entity(tracker, "product_type"),
            "month": _first_valid_month(entity_values(tracker, "month")),
            "period": first_entity(tracker, "period"),
        }
    )
    if given.product_type is None and (raw := first_entity(tracker, "product_type")):
        given = replace(given, product_type=str(raw))  # an unknown type: the service says so
    when_said = any(v is not None for v in (said.month, said.months_back, said.days_back, said.weekday))
    when = said if when_said else given
    return HistoryFilter(
        said.product_type or given.product_type, when.month, when.months_back, when.days_back, when.weekday
    )


class LinkedLineAction(Action, metaclass=abc.ABCMeta):
    """Answer about the sender's linked line: consent gate, `pending_request` when no line is
    linked, the answer for the linked line, then a reminder of an open purchase. Actions with
    `public = True` (documents) skip the gate.

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

    def topic(self, params: dict[str, Any]) -> Topic:
        """What this answer showed, for a follow-up such as "et en internet ?"."""
        return Topic(self.intent.lstrip("/"), {k: v for k, v in params.items() if v not in (None, "", 0)})

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        params = self.parameters(tracker)
        request = self.retry_payload(params)
        psid = tracker.sender_id
        if self.public:
            return await turns.run_turn(
                self.name(),
                dispatcher,
                tracker,
                lambda _s: self.answer(None, None, **params),
                uses_db=False,
                intro_once=True,
                retry=request,
            )

        def work(session) -> turns.Turn:
            line = get_linked_line(session, psid)
            if line is None:
                return turns.Turn(
                    [turns.not_linked_reply(request, link_problem(session, psid))],
                    [SlotSet(turns.PENDING, request[: turns.MAX_PENDING_LEN])],
                )
            answer = replace(self.answer(session, line, **params), topic=self.topic(params))
            reminder = open_quote_question(session, psid, clock.utcnow())
            return turns.Turn([answer, *([reminder] if reminder else [])])

        return await turns.run_turn(self.name(), dispatcher, tracker, work, gated=True, pending=request, retry=request)


class ActionShowOffer(LinkedLineAction):
    action_name = "action_show_offer"
    intent = "/show_offer"

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.offer_reply(session, line)


class ActionShowBalance(LinkedLineAction):
    action_name = "action_show_balance"
    intent = "/show_balance"

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        return {"facet": asked_facet(tracker, allowed=BALANCE_FACETS)}

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.balance_reply(session, line, facet=params.get("facet"))

    def retry_payload(self, params: dict[str, Any]) -> str:
        return payload(self.intent.lstrip("/"), params)


class ActionShowUsage(LinkedLineAction):
    action_name = "action_show_usage"
    intent = "/show_usage"

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        when = history_asked(tracker)
        return {
            "facet": asked_facet(tracker, allowed=USAGE_FACETS),
            "months_back": when.months_back,
            "month": when.month,
        }

    def answer(self, session, line, **params: Any) -> Reply:
        return consultation.usage_reply(
            session, line, facet=params.get("facet"), months_back=params.get("months_back"), month=params.get("month")
        )

    def retry_payload(self, params: dict[str, Any]) -> str:
        back = params.get("months_back")
        return payload(
            self.intent.lstrip("/"),
            {
                "facet": params.get("facet"),
                "month": params.get("month"),
                "period": None if back is None else f"m{back}",
            },
        )


class ActionShowPurchases(LinkedLineAction):
    action_name = "action_show_purchases"
    intent = "/show_purchases"

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        asked = history_asked(tracker)
        pages = entity_values(tracker, "page")
        return {**asked.as_entities(), "product_type": asked.product_type, "page": pages[0] if pages else 0}

    def answer(self, session, line, **params: Any) -> Reply:
        return history.purchases_reply(
            session,
            line,
            product_type=params.get("product_type"),
            month=params.get("month"),
            page=params.get("page") or 0,
            period=params.get("period"),
        )

    def retry_payload(self, params: dict[str, Any]) -> str:
        return payload(
            self.intent.lstrip("/"), {k: params.get(k) or None for k in ("product_type", "month", "period", "page")}
        )

    def topic(self, params: dict[str, Any]) -> Topic:
        return Topic("show_purchases", {k: params[k] for k in ("product_type", "month", "period") if params.get(k)})


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
