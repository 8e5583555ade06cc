"""Consent, linking a line by SMS code, switching or unlinking it, personal data.

The code proves the user holds the line; until then nothing about any line is shown. A question
asked before consent or linking is kept in the slot `pending_request` and answered in the turn
that completes them (actions.replay.replay_pending).

Removing data never waits for consent: unlinking, seeing and erasing what is kept about you work
for everyone (right of access and erasure), unlike the account actions.
"""

from __future__ import annotations

from dataclasses import replace

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import reading, replay, turns
from bot import clock
from bot.db.account import PlanFamily
from bot.services.alerts.texts import QR_MY_ALERTS
from bot.services.dialogue.context import QuestionKind
from bot.services.dialogue.quantities import find_code
from bot.services.i18n import N_, _
from bot.services.identity import linked_accounts, linking
from bot.services.identity.link_results import LinkOutcome
from bot.services.identity.linking import get_linked_line
from bot.services.identity.phone import InvalidNumber, find_number_in_text, parse_mobilis_number
from bot.services.language import preference as languages
from bot.services.privacy import erasure as privacy
from bot.services.privacy.consent import (
    consent_accepted_reply,
    consent_declined_reply,
    consent_intro_reply,
    consent_question,
    needs_consent,
    record_consent,
)
from bot.services.replies import (
    QR_AGENCIES,
    QR_BALANCE,
    QR_BUY,
    QR_HELP,
    QR_HUMAN,
    QR_OFFER,
    QR_PURCHASES,
    QR_USAGE,
    QuickReply,
    Reply,
)

GREETING = N_("Bonjour ! 👋 Je suis l'assistant virtuel de Mobilis. Que puis-je faire pour vous ?")
GREETING_MENU = [QR_OFFER, QR_BALANCE, QR_USAGE, QR_PURCHASES, QR_BUY, QR_HELP]
LINKED_MENU = [*GREETING_MENU[:5], QR_MY_ALERTS, QR_HELP]  # alerts are offered once the line is linked
VISITOR_ENGLISH = N_("Vous êtes de passage ? Touchez « English » pour continuer en anglais.")
THANKS = N_("Merci, c'est noté !")
PUBLIC_HELP = [QR_HELP, QR_AGENCIES, QR_HUMAN]


def greeting_reply() -> Reply:
    return Reply(text=_(GREETING), quick_replies=[*GREETING_MENU, *languages.english_offer()])


def _with_thanks(reply: Reply) -> Reply:
    return replace(reply, text=f"{_(THANKS)}\n{reply.text}")


class ActionWelcome(Action):
    """get_started / greet: the consent intro until the CGU are accepted, else the menu."""

    def name(self) -> str:
        return "action_welcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        def work(session):
            if needs_consent(session, tracker.sender_id):
                return turns.Turn([consent_intro_reply()], [SlotSet(turns.INTRO, True)])
            return greeting_reply()

        # The intro needs no database and says it is a bot: the right answer when in doubt.
        return await turns.run_turn(self.name(), dispatcher, tracker, work, on_error=consent_intro_reply)


class ActionAcceptTerms(Action):
    def name(self) -> str:
        return "action_accept_terms"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid, pending = tracker.sender_id, tracker.get_slot(turns.PENDING)
        if not reading.confirmed(tracker, QuestionKind.CONSENT, asked=False):
            # "j'accepte pas", "j'accepte si…": consent must be unambiguous; ask again.
            return await turns.run_turn(
                self.name(), dispatcher, tracker, lambda _s: turns.unclear(consent_question()), uses_db=False
            )

        def work(session):
            record_consent(session, psid, now=clock.utcnow())
            session.commit()  # the consent stands even if answering the pending question fails
            if get_linked_line(session, psid) is None:
                # The question stays pending until the line is verified.
                first = turns.not_linked_reply(pending) if pending else linking.ask_number_reply()
                return _with_thanks(first)
            answer = replay.answer_pending(psid, pending)
            if answer is None:
                return turns.Turn(
                    [replace(consent_accepted_reply(), quick_replies=list(GREETING_MENU))],
                    [SlotSet(turns.PENDING, None)] if pending else [],
                )
            return turns.Turn([Reply(text=THANKS), answer], [SlotSet(turns.PENDING, None)])

        return await turns.run_turn(self.name(), dispatcher, tracker, work)


class ActionDeclineTerms(Action):
    def name(self) -> str:
        return "action_decline_terms"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        def declined() -> Reply:
            reply = consent_declined_reply()
            return replace(reply, quick_replies=reply.quick_replies + PUBLIC_HELP)

        def work(session):
            if not needs_consent(session, tracker.sender_id):
                return Reply(
                    text=_(
                        "C'est noté. Vous aviez déjà accepté les conditions d'utilisation : pour "
                        "retirer votre accord, demandez « effacer mes données »."
                    ),
                    quick_replies=[QuickReply(_("Mes données"), "/my_data"), QR_HELP],
                )
            # Declining drops the kept question; public help (FAQ, agencies, a human) stays open.
            return turns.Turn([declined()], [SlotSet(turns.PENDING, None), SlotSet(turns.INTRO, True)])

        return await turns.run_turn(self.name(), dispatcher, tracker, work, on_error=declined)


def _code_in(text: str, code_entity: str | None) -> str | None:
    """The code typed: 6 digits in one block or as 3 + 3 ("482 913"), or the `otp_code` entity
    (which the context step also fills in "48 29 13" right after a code was sent)."""
    return find_code(text) or find_code(code_entity, code_expected=True)


def _number_in(text: str, number_entity: str | None) -> str | None:
    """The number in the sentence, else in the entity; InvalidNumber says why a number is refused."""
    found = find_number_in_text(text)
    if found is None and number_entity:
        found = parse_mobilis_number(number_entity)
    return found


class ActionLinkStep(Action):
    """link_line and give_code: verify a code, send one to a number, or ask for the number."""

    def name(self) -> str:
        return "action_link_step"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid, pending = tracker.sender_id, tracker.get_slot(turns.PENDING)
        text = reading.typed_text(tracker)
        code = _code_in(text, reading.entity(tracker, "otp_code"))
        number_entity = reading.entity(tracker, "phone_number")

        def work(session):
            now = clock.utcnow()
            if code and linking.has_pending_challenge(session, psid, now):
                return self._verified(session, psid, linking.verify_code(session, psid, code, now), pending)
            try:
                number = _number_in(text, number_entity)
            except InvalidNumber as exc:
                number, refusal = None, Reply(text=exc.message)
            else:
                refusal = None
            if code and reading.latest_intent(tracker) == "give_code":
                # A code after the challenge expired (or before any): say so, unless the digits are
                # really a mobile number, the usual first step.
                result = linking.verify_code(session, psid, code, now)
                if result.outcome != LinkOutcome.NO_CHALLENGE or number is None:
                    return result.reply()
            if number:
                return linking.start_linking(session, psid, number, now).reply()
            return refusal or linking.ask_number_reply()

        return await turns.run_turn(self.name(), dispatcher, tracker, work, gated=True)

    @staticmethod
    def _verified(session, psid: str, result, pending: str | None):
        if result.outcome != LinkOutcome.LINKED:
            return result.reply()
        session.commit()  # the link stands even if answering the pending question fails
        answer = replay.answer_pending(psid, pending)
        events = [SlotSet(turns.PENDING, None)] if pending else []
        linked, chips = result.reply(), list(LINKED_MENU)
        if _visitor_in_french(session, psid):  # a Tourism Card: English is offered
            linked, chips = replace(linked, text=f"{linked.text}\n{_(VISITOR_ENGLISH)}"), [languages.QR_ENGLISH, *chips]
        if answer is None:
            return turns.Turn([replace(linked, quick_replies=chips)], events)
        return turns.Turn([linked, answer], events)


class ActionResendCode(Action):
    def name(self) -> str:
        return "action_resend_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        def work(session):
            return linking.resend_code(session, tracker.sender_id, clock.utcnow()).reply()

        return await turns.run_turn(self.name(), dispatcher, tracker, work, gated=True)


class ActionUnlinkLine(Action):
    """unlink_line: asks first (the user would lose access until a new SMS code)."""

    def name(self) -> str:
        return "action_unlink_line"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(), dispatcher, tracker, lambda session: linking.unlink_question(session, tracker.sender_id)
        )


class ActionLinkedAccounts(Action):
    """The Messenger accounts that can see the line, with a way to remove the others."""

    def name(self) -> str:
        return "action_linked_accounts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(),
            dispatcher,
            tracker,
            lambda session: linked_accounts.accounts_reply(session, tracker.sender_id, clock.utcnow()),
            gated=True,
            pending=linked_accounts.LIST_PAYLOAD,
        )


class ActionRevokeAccountAsk(Action):
    def name(self) -> str:
        return "action_revoke_account_ask"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        link = reading.entity(tracker, "link")
        return await turns.run_turn(
            self.name(),
            dispatcher,
            tracker,
            lambda session: linked_accounts.revoke_question(session, tracker.sender_id, link, clock.utcnow()),
            gated=True,
        )


class ActionConfirmRevoke(Action):
    """confirm_revoke: the "Oui, retirer" chip, or a typed unambiguous yes to that very question."""

    def name(self) -> str:
        return "action_confirm_revoke"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid = tracker.sender_id
        question = reading.dialogue_context(tracker).question
        link = reading.entity(tracker, "link") or (question.data.get("link") if question else None)
        if not reading.confirmed(tracker, QuestionKind.REVOKE_CONFIRMATION):
            return await turns.run_turn(
                self.name(),
                dispatcher,
                tracker,
                lambda session: turns.unclear(linked_accounts.revoke_question(session, psid, link, clock.utcnow())),
                gated=True,
            )
        return await turns.run_turn(
            self.name(),
            dispatcher,
            tracker,
            lambda session: linked_accounts.revoke(session, psid, link, clock.utcnow()),
            gated=True,
        )


class ActionCancelRevoke(Action):
    def name(self) -> str:
        return "action_cancel_revoke"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(), dispatcher, tracker, lambda _s: linked_accounts.cancelled_reply(), uses_db=False
        )


class ActionConfirmUnlink(Action):
    """confirm_unlink: the "Oui, délier" chip, or a typed unambiguous yes to that question."""

    def name(self) -> str:
        return "action_confirm_unlink"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid = tracker.sender_id
        if not reading.confirmed(tracker, QuestionKind.UNLINK_CONFIRMATION):
            return await turns.run_turn(
                self.name(), dispatcher, tracker, lambda session: turns.unclear(linking.unlink_question(session, psid))
            )

        def work(session):
            return turns.Turn([linking.unlink(session, psid).reply()], [SlotSet(turns.PENDING, None)])

        return await turns.run_turn(self.name(), dispatcher, tracker, work)


class ActionCancelUnlink(Action):
    def name(self) -> str:
        return "action_cancel_unlink"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(),
            dispatcher,
            tracker,
            lambda session: replace(
                linking.unlink_cancelled_reply(session, tracker.sender_id), quick_replies=list(GREETING_MENU)
            ),
        )


class ActionSwitchLine(Action):
    """Another line of the SAME subscriber (the service refuses any other number)."""

    def name(self) -> str:
        return "action_switch_line"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        psid = tracker.sender_id
        wanted = reading.entity(tracker, "msisdn") or reading.entity(tracker, "phone_number")
        if wanted is None:
            try:
                wanted = find_number_in_text(reading.typed_text(tracker))
            except InvalidNumber:
                wanted = None  # not one of theirs anyway: show the lines they can choose

        def work(session):
            if wanted is None:
                return linking.lines_reply(session, psid)
            return linking.switch_line(session, psid, wanted, clock.utcnow()).reply()

        return await turns.run_turn(self.name(), dispatcher, tracker, work, gated=True)


class ActionMyData(Action):
    def name(self) -> str:
        return "action_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(), dispatcher, tracker, lambda session: privacy.personal_data_summary(session, tracker.sender_id)
        )


class ActionEraseDataAsk(Action):
    def name(self) -> str:
        return "action_erase_data_ask"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(), dispatcher, tracker, lambda _s: privacy.erase_confirmation_reply(), uses_db=False
        )


class ActionEraseData(Action):
    """confirm_erase_data: the "Oui, effacer" chip, or a typed unambiguous yes to that question."""

    def name(self) -> str:
        return "action_erase_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if not reading.confirmed(tracker, QuestionKind.ERASE_CONFIRMATION):
            return await turns.run_turn(
                self.name(),
                dispatcher,
                tracker,
                lambda _s: turns.unclear(privacy.erase_confirmation_reply()),
                uses_db=False,
            )

        def work(session):
            result = privacy.erase_personal_data(session, tracker.sender_id)
            # Forget the conversation's own memory too (slots now, Rasa's tracker once the turn is
            # saved: the webhook erases it); no Restarted(): the channel keeps going.
            return turns.Turn([result.reply()], [SlotSet(turns.PENDING, None), SlotSet(turns.INTRO, None)], forget=True)

        return await turns.run_turn(self.name(), dispatcher, tracker, work, retry=privacy.ERASE_PAYLOAD)


class ActionEraseDataCancel(Action):
    def name(self) -> str:
        return "action_erase_data_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        reply = Reply(
            text=_("D'accord, je n'efface rien. Que puis-je faire pour vous ?"), quick_replies=list(GREETING_MENU)
        )
        return await turns.run_turn(self.name(), dispatcher, tracker, lambda _s: reply, uses_db=False)


def _visitor_in_french(session, psid: str) -> bool:
    """A Tourism Card line (visitors) just linked in a French conversation."""
    line = get_linked_line(session, psid)
    return line is not None and line.plan_family == PlanFamily.TOURISM_CARD and languages.current(session, psid) == "fr"
