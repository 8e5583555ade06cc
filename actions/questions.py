"""unclear_answer: the reply to a consequential question was neither a clear yes nor a clear no
("je sais pas", "c'est combien ?", "ok mais pas maintenant"): ask the same question again, with
its buttons. Nothing is bought, erased, suspended or unlinked on such a reply.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import reading, turns
from actions.purchases import nothing_pending
from bot import clock
from bot.services.account import line_suspension
from bot.services.dialogue.context import QuestionKind
from bot.services.i18n import _
from bot.services.identity import linked_accounts, linking
from bot.services.privacy import erasure as privacy
from bot.services.privacy.consent import consent_question
from bot.services.purchasing import purchases
from bot.services.replies import MENU, Reply


class ActionReask(Action):
    def name(self) -> str:
        return "action_reask"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid = tracker.sender_id
        question = reading.dialogue_context(tracker).question
        kind = question.kind if question is not None else None

        def work(session) -> Reply:
            if kind == QuestionKind.PURCHASE_CONFIRMATION:
                return purchases.open_quote_question(session, psid, clock.utcnow(), unclear=True) or nothing_pending(
                    cancel=False
                )
            if kind == QuestionKind.ERASE_CONFIRMATION:
                return turns.unclear(privacy.erase_confirmation_reply())
            if kind == QuestionKind.SUSPEND_CONFIRMATION:
                return turns.unclear(line_suspension.suspend_question(session, psid))
            if kind == QuestionKind.UNLINK_CONFIRMATION:
                return turns.unclear(linking.unlink_question(session, psid))
            if kind == QuestionKind.REVOKE_CONFIRMATION:
                return turns.unclear(
                    linked_accounts.revoke_question(session, psid, question.data.get("link"), clock.utcnow())
                )
            if kind == QuestionKind.CONSENT:
                return turns.unclear(consent_question())
            return Reply(text=_(turns.REPROMPT), quick_replies=list(MENU))

        return await turns.run_turn(self.name(), dispatcher, tracker, work)
