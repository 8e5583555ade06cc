"""A turn's outcome and review reason, its record, and « Cette réponse vous a aidé ? »."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db.insights import TurnRecord
from bot.services.dialogue.context import QuestionKind
from bot.services.insights import feedback
from bot.services.insights.turns import OPEN, Outcome, Reading, ReviewReason, TurnFacts, classify, record

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
ANSWER = [{"text": "Le code PUK est imprimé sur le support de votre SIM."}]


def facts(
    text="code puk",
    *,
    intent="faq",
    confidence=0.95,
    faq_key="faq/code_puk",
    source="typed",
    asked=None,
    psid="p1",
    at=NOW,
    messages=None,
    resolved=False,
    local=False,
    language="fr",
    faq_confidence=None,
):
    reading = Reading(intent, confidence, faq_key, resolved, faq_confidence) if source == "typed" else None
    return TurnFacts(
        psid,
        at,
        language,
        source,
        text,
        reading,
        asked,
        ANSWER if messages is None else messages,
        answer_ms=420,
        local=local,
    )


def test_outcomes_and_review_reasons():
    assert classify(facts()) == (Outcome.FAQ, None)
    assert classify(facts(intent="nlu_fallback", confidence=0.3)) == (Outcome.FALLBACK, ReviewReason.FALLBACK)
    assert classify(facts(asked=QuestionKind.DISAMBIGUATION)) == (Outcome.DISAMBIGUATION, ReviewReason.DISAMBIGUATION)
    assert classify(facts(intent="show_balance", confidence=0.58)) == (Outcome.ANSWERED, ReviewReason.LOW_CONFIDENCE)
    assert classify(facts(intent="show_balance", confidence=0.58, resolved=True)) == (Outcome.ANSWERED, None)
    assert classify(facts(intent="human", confidence=0.99)) == (Outcome.HANDOFF, None)
    # A FAQ answer is as sure as its entry: the intent may be certain and the entry not.
    assert classify(facts(confidence=1.0, faq_confidence=0.45)) == (Outcome.FAQ, ReviewReason.LOW_CONFIDENCE)
    assert classify(facts(confidence=1.0, faq_confidence=0.93)) == (Outcome.FAQ, None)
    # A tapped button is what it says: never reviewed, its intent comes from the payload.
    tapped = facts('/faq{"faq_key":"faq/code_pin"}', source="quick_reply")
    assert classify(tapped) == (Outcome.FAQ, None)
    assert classify(facts("/none_of_these", source="quick_reply")) == (Outcome.FALLBACK, None)
    assert classify(facts("English", local=True)) == (Outcome.LOCAL, None)


def test_only_turns_to_review_keep_their_text_masked(session):
    quiet = record(session, facts("code puk mon num 79 12 34"))
    unsure = record(
        session,
        facts(
            "mon bigo capte que dalle 79 12 34",
            intent="nlu_fallback",
            confidence=0.2,
            messages=[
                {
                    "text": "Je n'ai pas bien compris",
                    "quick_replies": [{"title": "Mon solde", "payload": "/show_balance"}],
                }
            ],
        ),
    )
    assert quiet.text_masked is None and quiet.review_status is None and quiet.faq_key == "code_puk"
    assert unsure.review_status == OPEN and unsure.review_reason == ReviewReason.FALLBACK
    assert unsure.text_masked == "mon bigo capte que dalle 79****"
    assert unsure.did == "Je n'ai pas bien compris [Mon solde]"
    assert unsure.answer_ms == 420 and unsure.intent == "nlu_fallback"


def test_the_question_is_asked_once_per_topic_and_conversation(session):
    first = record(session, facts())
    assert feedback.ask(session, first, facts()) is not None
    again = record(session, facts(at=NOW + timedelta(minutes=5)))
    assert feedback.ask(session, again, facts(at=NOW + timedelta(minutes=5))) is None  # same entry, same day
    other = facts("code pin", faq_key="faq/code_pin", at=NOW + timedelta(minutes=6))
    assert feedback.ask(session, record(session, other), other) is not None  # another entry
    someone_else = facts(psid="p2")
    assert feedback.ask(session, record(session, someone_else), someone_else) is not None
    tomorrow = facts(at=NOW + timedelta(hours=25))
    assert feedback.ask(session, record(session, tomorrow), tomorrow) is not None


def test_never_under_an_answer_that_asks_something_nor_after_a_purchase_step(session):
    for turn in (
        facts(asked=QuestionKind.CONSENT),  # the consent intro came with the answer
        facts(asked=QuestionKind.PURCHASE_CONFIRMATION),
        facts("recharge 3000", intent="buy", asked=QuestionKind.PURCHASE_CONFIRMATION),
        facts("solde", intent="show_balance"),  # an account answer, not a help answer
        facts(intent="nlu_fallback", confidence=0.2),
    ):
        assert feedback.ask(session, record(session, turn), turn) is None
    help_answer = facts("ou est l agence de kone", intent="find_agency", faq_key=None)
    assert feedback.ask(session, record(session, help_answer), help_answer) is not None


def test_a_thumbs_down_puts_the_question_in_the_review_queue(session):
    row = record(session, facts("mon tel veut 8 chiffres"))
    question = feedback.ask(session, row, facts("mon tel veut 8 chiffres"))
    assert [q.title for q in question.quick_replies] == ["👍 Oui", "👎 Non"]
    assert row.text_masked == "mon tel veut 8 chiffres" and row.review_status is None
    reply = feedback.rate(session, "p1", row.id, feedback.DOWN, NOW)
    assert "Nos équipes vont revoir cette réponse" in reply.text and reply.quick_replies[0].payload == "/human"
    assert (row.rating, row.review_reason, row.review_status) == ("down", ReviewReason.THUMBS_DOWN, OPEN)
    # The first rating counts; another person's rating of this turn changes nothing.
    assert "noté" in feedback.rate(session, "p1", row.id, feedback.UP, NOW).text
    assert row.rating == "down"


def test_a_thumbs_up_is_counted_and_nobody_can_rate_another_users_answer(session):
    row = record(session, facts())
    feedback.ask(session, row, facts())
    feedback.rate(session, "intruder", row.id, feedback.UP, NOW)
    assert row.rating is None
    feedback.rate(session, "p1", row.id, feedback.UP, NOW)
    assert row.rating == "up" and row.review_status is None
    feedback.rate(session, "p1", 999_999, feedback.UP, NOW)  # unknown turn: thanks, nothing else
    assert session.scalar(select(TurnRecord).where(TurnRecord.id == 999_999)) is None
