"""The webhook records what the assistant did with each message (the NLU's reading comes back
with Rasa's answer and is never shown), asks « Cette réponse vous a aidé ? » under FAQ answers
and answers the 👍 / 👎 chips itself."""

from __future__ import annotations

from channel_helpers import entry, page_body, quick_reply_event, signed_post, text_event, wait_idle
from sqlalchemy import select

from bot.db.insights import TurnRecord
from bot.services.dialogue.context import READING_MARKER

PUK = {"intent": "faq", "confidence": 0.93, "faq_key": "faq/code_puk", "resolved": False}
LOST = {"intent": "nlu_fallback", "confidence": 0.31, "faq_key": None, "resolved": False}
MENU_CHIP = {"title": "Mon solde", "payload": "/show_balance"}


def say(app, psid, text, mid, quick_reply=None):
    event = quick_reply_event(psid, text, quick_reply, mid) if quick_reply else text_event(psid, text, mid)
    assert signed_post(app.test_client(), page_body(entry(event))).status_code == 200
    wait_idle(app)


def reply(sender, text):
    if "puk" in text:
        return [
            {"text": "Le code PUK est sur le support de la SIM.", "quick_replies": [MENU_CHIP]},
            {"custom": {READING_MARKER: PUK}},
        ]
    if "zorglub" in text:
        return [{"text": "Je n'ai pas bien compris"}, {"custom": {READING_MARKER: LOST}}]
    return [{"text": "ok"}]


def rows(sessions, psid):
    with sessions() as session:
        return list(session.scalars(select(TurnRecord).where(TurnRecord.psid == psid).order_by(TurnRecord.id)))


def test_a_faq_answer_is_recorded_and_followed_by_the_rating_question(make_app, fake_rasa, standin, sessions):
    fake_rasa.reply = reply
    app = make_app()
    say(app, "u1", "code puk", "m1")
    shown = [message["message"] for message in standin.messages("u1")]
    assert [m.get("text") for m in shown] == [
        "Le code PUK est sur le support de la SIM.",
        "Cette réponse vous a aidé ?",
    ]
    assert "quick_replies" not in shown[0]  # the answer's chips moved under the question
    assert [q["title"] for q in shown[1]["quick_replies"]] == ["👍 Oui", "👎 Non", "Mon solde"]
    assert all(READING_MARKER not in str(m) for m in shown)
    (row,) = rows(sessions, "u1")
    assert (row.outcome, row.intent, row.faq_key, row.feedback_topic) == ("faq", "faq", "code_puk", "faq/code_puk")
    assert row.confidence == 0.93 and row.answer_ms is not None and row.review_status is None

    thumbs_down = shown[1]["quick_replies"][1]
    say(app, "u1", "👎 Non", "m2", quick_reply=thumbs_down["payload"])
    assert len(fake_rasa.received) == 1  # the rating never reached Rasa
    assert "Nos équipes vont revoir cette réponse" in standin.messages("u1")[-1]["message"]["text"]
    rated = rows(sessions, "u1")[0]
    assert (rated.rating, rated.review_reason, rated.review_status) == ("down", "thumbs_down", "open")
    assert rated.text_masked == "code puk"

    say(app, "u1", "code puk encore", "m3")  # same entry, same conversation: not asked again
    assert standin.messages("u1")[-1]["message"]["text"] == "Le code PUK est sur le support de la SIM."


def test_a_misunderstood_message_enters_the_review_queue_masked(make_app, fake_rasa, sessions):
    fake_rasa.reply = reply
    app = make_app()
    say(app, "u2", "zorglub mon num 79 12 34", "m1")
    (row,) = rows(sessions, "u2")
    assert (row.outcome, row.review_reason, row.review_status) == ("fallback", "fallback", "open")
    assert row.text_masked == "zorglub mon num 79****" and row.did == "Je n'ai pas bien compris"


def test_a_typed_thumbs_up_is_not_a_rating(make_app, fake_rasa, sessions):
    fake_rasa.reply = reply
    app = make_app()
    say(app, "u3", "👍", "m1")
    assert [b["message"] for b in fake_rasa.received if b["sender"] == "u3"] == ["👍"]
    (row,) = rows(sessions, "u3")
    assert row.rating is None and row.outcome == "answered"


def test_a_forged_rating_of_someone_elses_answer_changes_nothing(make_app, fake_rasa, sessions):
    fake_rasa.reply = reply
    app = make_app()
    say(app, "u4", "code puk", "m1")
    victim = rows(sessions, "u4")[0]
    say(app, "u5", "👎", "m2", quick_reply=f'/answer_feedback{{"turn":{victim.id},"rating":"down"}}')
    assert rows(sessions, "u4")[0].rating is None


def test_no_rating_question_under_the_apology_when_rasa_answered_nothing(make_app, fake_rasa, standin, sessions):
    fake_rasa.reply = lambda sender, text: [{"custom": {READING_MARKER: PUK}}]  # the FAQ action failed
    app = make_app()
    say(app, "u6", "code puk", "m1")
    shown = [message["message"].get("text") for message in standin.messages("u6")]
    assert len(shown) == 1 and "Cette réponse vous a aidé ?" not in shown
    (row,) = rows(sessions, "u6")
    assert row.outcome == "failed" and row.feedback_topic is None
