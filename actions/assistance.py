"""Assistance: FAQ, lost or stolen phone, agencies, the 1000, appointments, a human, fallback.

Public answers need neither consent nor a linked line (anyone may ask where an agency is or
reach a human); they append the consent intro once when it was never shown. Suspending a line
is an account action: consent gate, and only the line linked to the sender.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import reading, turns
from bot import clock
from bot.db import handoff as h
from bot.services.account import line_suspension
from bot.services.assistance import agencies, contact, faq
from bot.services.dialogue.context import QuestionKind
from bot.services.dialogue.meanings import (
    OTHER_PAYLOAD,
    Meaning,
    faq_is_clear,
    faq_meanings,
    likely_meanings,
    meanings_question,
)
from bot.services.handoff import escalations as handoff
from bot.services.handoff import texts as handoff_texts
from bot.services.i18n import N_, _
from bot.services.replies import MENU, QR_HUMAN, QuickReply, Reply

UNSURE = N_("Je ne suis pas sûr d'avoir bien compris 🤔 Vous voulez parler de :")
REPHRASE = N_(
    "D'accord. Dites-moi en quelques mots ce que vous cherchez, ou choisissez ci-dessous. "
    "Un conseiller peut aussi vous aider."
)
MISUNDERSTOOD = frozenset({"nlu_fallback", "none_of_these"})
LAST_INTENTS = 5


def faq_key(tracker: Tracker) -> str | None:
    """The entry the ResponseSelector picked (`faq/code_puk`), or None."""
    try:
        key = tracker.latest_message["response_selector"]["faq"]["response"]["intent_response_key"]
    except (KeyError, TypeError):
        return None
    return key if isinstance(key, str) and key.strip() else None


class ActionAnswerFaq(Action):
    """The FAQ entry picked by the response selector, or the one a chip / typed choice named
    (`faq_key`). When two entries are close, ask which one instead of guessing."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        chosen = reading.entity(tracker, "faq_key")
        key = chosen or faq_key(tracker)
        parse = tracker.latest_message

        def work(_session):
            # Read from faq/*.yml at each call: editors' fixes are live without retraining.
            if not chosen and not faq_is_clear(parse):
                options = faq_meanings(parse, faq.titles())
                if len(options) >= 2:
                    return meanings_reply(options)
            return faq.answer_reply(key) if key else faq.unknown_reply()

        return await turns.run_turn(self.name(), dispatcher, tracker, work, uses_db=False, intro_once=True)


class ActionLostPhone(Action):
    def name(self) -> str:
        return "action_lost_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        def work(session):
            return line_suspension.lost_phone_reply(session, tracker.sender_id)

        # Someone who lost a phone must get the steps even when the database is down.
        return await turns.run_turn(
            self.name(), dispatcher, tracker, work, intro_once=True, on_error=line_suspension.not_linked_reply
        )


class ActionSuspendLine(Action):
    """confirm_suspend: the "Suspendre la ligne" chip of the lost-phone answer, or a typed
    unambiguous yes to that question; suspends the sender's linked line."""

    def name(self) -> str:
        return "action_suspend_line"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if not reading.confirmed(tracker, QuestionKind.SUSPEND_CONFIRMATION):
            return await turns.run_turn(
                self.name(),
                dispatcher,
                tracker,
                lambda session: turns.unclear(line_suspension.suspend_question(session, tracker.sender_id)),
            )

        def work(session):
            return line_suspension.suspend_linked_line(session, tracker.sender_id, now=clock.utcnow())

        return await turns.run_turn(
            self.name(),
            dispatcher,
            tracker,
            work,
            gated=True,
            pending=line_suspension.CONFIRM_PAYLOAD,
            retry=line_suspension.CONFIRM_PAYLOAD,
        )


class ActionCancelSuspend(Action):
    def name(self) -> str:
        return "action_cancel_suspend"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(), dispatcher, tracker, lambda _s: line_suspension.cancel_reply(), uses_db=False
        )


class ActionFindAgency(Action):
    def name(self) -> str:
        return "action_find_agency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        # The entity when the NLU (or a payload) gives one; else the whole sentence: the agency
        # search ignores "agence", "où", "est"… and tolerates typos.
        query = reading.entity(tracker, "agency_query") or reading.typed_text(tracker)
        return await turns.run_turn(
            self.name(),
            dispatcher,
            tracker,
            lambda _s: agencies.agencies_reply(query, clock.utcnow()),
            uses_db=False,
            intro_once=True,
        )


class ActionContact1000(Action):
    def name(self) -> str:
        return "action_contact_1000"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(),
            dispatcher,
            tracker,
            lambda _s: contact.contact_1000_reply(clock.utcnow()),
            uses_db=False,
            intro_once=True,
        )


class ActionAppointment(Action):
    def name(self) -> str:
        return "action_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(), dispatcher, tracker, lambda _s: contact.appointment_reply(), uses_db=False, intro_once=True
        )


async def _hand_off(action: Action, dispatcher, tracker: Tracker, reason: str) -> list:
    last_intents = reading.user_intents(tracker)[-LAST_INTENTS:]

    def work(session):
        return handoff.request_handoff(session, tracker.sender_id, reason, last_intents, now=clock.utcnow())

    # No consent intro here: the thread may pass to the human inbox right after this reply.
    # If the hand-off itself fails, point to the 1000 rather than to another "/human" chip.
    return await turns.run_turn(action.name(), dispatcher, tracker, work, on_error=handoff_texts.pass_failed_reply)


# handoff_reason entity (set by the context step, bot.services.dialogue.resolver) → escalation reason.
HANDOFF_REASONS = {"frustration": h.FRUSTRATION, "repeated": h.REPEATED, "request": h.USER_REQUEST}


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        intents = reading.user_intents(tracker)
        reason = HANDOFF_REASONS.get(reading.entity(tracker, "handoff_reason") or "", h.USER_REQUEST)
        # "Un conseiller" tapped under the lost-phone steps: the agent should know why at once.
        if reason == h.USER_REQUEST and len(intents) >= 2 and intents[-2] == "lost_phone":
            reason = h.LOST_PHONE
        return await _hand_off(self, dispatcher, tracker, reason)


def meanings_reply(meanings: list[Meaning]) -> Reply:
    """ "Vous voulez parler de :" with the likely meanings, "Autre chose" and a way to a human."""
    chips = [QuickReply(_(m.title), m.payload) for m in meanings] + [QuickReply(_("Autre chose"), OTHER_PAYLOAD)]
    if all(m.payload != QR_HUMAN.payload for m in meanings):
        chips.append(QuickReply(_(QR_HUMAN.title), QR_HUMAN.payload))
    return Reply(text=_(UNSURE), quick_replies=chips, asks=meanings_question(meanings))


class ActionFallback(Action):
    """nlu_fallback (unsure or torn between readings): offer the likely meanings; "Autre chose"
    (none_of_these): ask to rephrase; the second misunderstanding in a row → a human."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        intents = reading.user_intents(tracker)  # the current message is the last user event
        if intents and intents[-1] == "none_of_these":
            # Built inside the turn: its language is only known there.
            def rephrase(_session) -> Reply:
                return Reply(text=_(REPHRASE), quick_replies=[QuickReply(_(q.title), q.payload) for q in MENU])

            return await turns.run_turn(self.name(), dispatcher, tracker, rephrase, uses_db=False)
        if len(intents) >= 2 and intents[-2] in MISUNDERSTOOD:
            return await _hand_off(self, dispatcher, tracker, h.MISUNDERSTANDING)
        parse = tracker.latest_message

        def work(_session):
            meanings = likely_meanings(parse, faq.titles())
            return meanings_reply(meanings) if meanings else Reply(text=_(turns.REPROMPT), quick_replies=list(MENU))

        return await turns.run_turn(self.name(), dispatcher, tracker, work, uses_db=False)
