"""Purchase actions: products and summary (buy, choose_product), confirm, cancel.

Thin adapters over bot.services.purchasing.purchases, which finds the line by the PSID, re-checks the quote
against that PSID and line, and commits its own transaction. The quote token comes only from
the payload of a Confirmer / Annuler chip (entity `quote`) or from the summary the user last saw
(the dialogue context, re-checked by the service); a token typed in a sentence is ignored.
"""

from __future__ import annotations

import abc

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import reading, turns
from bot import clock
from bot.services.dialogue.context import QuestionKind
from bot.services.dialogue.payloads import payload
from bot.services.i18n import _
from bot.services.identity.linking import get_linked_line, link_problem
from bot.services.purchasing import purchases
from bot.services.purchasing import quotes as purchase_quotes
from bot.services.purchasing.texts import QR_BUY_AGAIN
from bot.services.replies import QR_HELP, Reply

MAX_TEXT_KEPT = 200  # the typed request kept in pending_request ("recharge 3000")


def nothing_pending(cancel: bool) -> Reply:
    if cancel:
        return Reply(
            text=_("Il n'y a aucun achat en attente : rien à annuler. Rien n'a été acheté ni débité."),
            quick_replies=[QR_BUY_AGAIN, QR_HELP],
        )
    return Reply(
        text=_("Je n'ai aucun achat en attente de confirmation. Voulez-vous voir les achats possibles ?"),
        quick_replies=[QR_BUY_AGAIN, QR_HELP],
    )


class ActionBuy(Action):
    def name(self) -> str:
        return "action_buy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid = tracker.sender_id
        text = reading.typed_text(tracker)  # "recharge 3000"; "" for the /buy payload
        product_type = reading.entity(tracker, "product_type")
        request = payload("buy", {"product_type": product_type, "text": text[:MAX_TEXT_KEPT] or None})

        def work(session):
            if get_linked_line(session, psid) is None:
                return turns.Turn(
                    [turns.not_linked_reply(request, link_problem(session, psid))], [SlotSet(turns.PENDING, request)]
                )
            return purchases.buy(session, psid, text=text or None, product_type=product_type, now=clock.utcnow()).reply

        return await turns.run_turn(
            self.name(),
            dispatcher,
            tracker,
            work,
            gated=True,
            pending=request,
            retry=payload("buy", {"product_type": product_type}),
        )


class ActionChooseProduct(Action):
    def name(self) -> str:
        return "action_choose_product"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid = tracker.sender_id
        code = reading.entity(tracker, "product")  # a catalogue code; the service re-checks eligibility

        def work(session):
            return purchases.choose_product(session, psid, code, now=clock.utcnow()).reply

        return await turns.run_turn(self.name(), dispatcher, tracker, work, gated=True, pending=payload("buy"))


class _DecideQuote(Action, metaclass=abc.ABCMeta):
    """Confirm or cancel a purchase.

    A Confirmer / Annuler chip carries its quote's token. Typed, "annule" cancels the PSID's
    latest open quote (always harmless), but money only moves on a typed reply that the judge
    finds unambiguous while the summary is the question the user last saw (reading.confirmed);
    anything else asks again with the buttons. Abstract (rasa-sdk registers every concrete
    Action subclass it finds)."""

    cancel = False

    @abc.abstractmethod
    def name(self) -> str:
        """The action name."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid = tracker.sender_id
        button = reading.came_from_button(tracker)
        token = reading.payload_entity(tracker, "quote") if button else None
        yes = self.cancel or reading.confirmed(tracker, QuestionKind.PURCHASE_CONFIRMATION)
        if not button and yes and not self.cancel:
            token = reading.dialogue_context(tracker).question.data.get("quote")

        def work(session):
            now = clock.utcnow()
            if not yes:
                return purchases.open_quote_question(session, psid, now, unclear=True) or nothing_pending(False)
            chosen = token if isinstance(token, str) else None
            if chosen is None:
                chosen = purchase_quotes.latest_open_token(session, psid, now)
                if chosen is None and get_linked_line(session, psid) is not None:
                    return nothing_pending(self.cancel)
            decide = purchases.cancel_purchase if self.cancel else purchases.confirm_purchase
            return decide(session, psid, chosen, now=now).reply

        # Cancelling never charges: no consent gate in the way of stopping a purchase.
        return await turns.run_turn(self.name(), dispatcher, tracker, work, gated=not self.cancel)


class ActionConfirmPurchase(_DecideQuote):
    def name(self) -> str:
        return "action_confirm_purchase"


class ActionCancelPurchase(_DecideQuote):
    cancel = True

    def name(self) -> str:
        return "action_cancel_purchase"
