"""The webhook's part of "the bot remembers what it just asked": each message goes to Rasa with
where it came from and the dialogue context the previous answer declared; the declaration is
never shown to the user; a typed "/confirm_purchase" reaches Rasa without its slash."""

from __future__ import annotations

from datetime import timedelta

from channel_helpers import entry, page_body, quick_reply_event, signed_post, text_event, wait_idle
from sqlalchemy import update

from bot import clock
from bot.channel.inbox import ClaimedEvent
from bot.channel.processing import rasa_text
from bot.db import messaging as m
from bot.services.dialogue.context import MARKER

ASKS = {"question": {"kind": "purchase_confirmation", "quote": "tok-1", "price": 1000}, "topic": None}


def say(app, psid, text, mid, quick_reply=None):
    event = quick_reply_event(psid, text, quick_reply, mid) if quick_reply else text_event(psid, text, mid)
    assert signed_post(app.test_client(), page_body(entry(event))).status_code == 200
    wait_idle(app)


def bodies(fake_rasa, psid):
    with fake_rasa.lock:
        return [b for b in fake_rasa.received if b["sender"] == psid]


def test_a_declared_question_comes_back_with_the_next_message_and_is_never_shown(make_app, fake_rasa, standin):
    fake_rasa.reply = lambda sender, text: (
        [{"text": "Récapitulatif… Confirmez-vous ?"}, {"custom": {MARKER: ASKS}}]
        if text == "recharge"
        else [{"text": "ok"}]
    )
    app = make_app()
    say(app, "u1", "recharge", "m1")
    say(app, "u1", "oui", "m2")
    say(app, "u1", "merci", "m3")
    first, second, third = bodies(fake_rasa, "u1")
    assert first["metadata"] == {"source": "typed", "turn": first["metadata"]["turn"]}  # turn: the event's id
    assert second["metadata"]["context"] == {"question": ASKS["question"]}
    assert second["metadata"]["recent"] == ["recharge"]
    assert "context" not in third["metadata"]  # the "ok" turn declared nothing: cleared
    shown = [msg["message"] for msg in standin.messages("u1")]
    assert shown == [
        {"text": "Récapitulatif… Confirmez-vous ?", "metadata": shown[0]["metadata"]},
        {"text": "ok", "metadata": shown[1]["metadata"]},
        {"text": "ok", "metadata": shown[2]["metadata"]},
    ]


def test_a_context_expires(make_app, fake_rasa, sessions):
    fake_rasa.reply = lambda sender, text: [{"text": "?"}, {"custom": {MARKER: ASKS}}]
    app = make_app()
    say(app, "u2", "recharge", "m1")
    with sessions() as session:
        session.execute(update(m.DialogueContext).values(expires_at=clock.utcnow() - timedelta(seconds=1)))
        session.commit()
    say(app, "u2", "oui", "m2")
    assert "context" not in bodies(fake_rasa, "u2")[1]["metadata"]


def test_typed_payloads_lose_their_slash_quick_replies_keep_theirs(make_app, fake_rasa):
    app = make_app()
    say(app, "u3", "/confirm_purchase", "m1")
    say(app, "u3", " //confirm_erase_data", "m2")
    say(app, "u3", "Confirmer", "m3", quick_reply='/confirm_purchase{"quote":"tok"}')
    sent = bodies(fake_rasa, "u3")
    assert [(b["message"], b["metadata"]["source"]) for b in sent] == [
        ("confirm_purchase", "typed"),
        ("confirm_erase_data", "typed"),
        ('/confirm_purchase{"quote":"tok"}', "quick_reply"),
    ]


def test_what_rasa_reads():
    def event(kind, text):
        return ClaimedEvent(1, "u", kind, text, 1)

    assert rasa_text(event("text", "/")) == "?"
    assert rasa_text(event("text", "solde")) == "solde"
    assert rasa_text(event("postback", "/get_started")) == "/get_started"
    assert rasa_text(event("attachment", "/attachment")) == "/attachment"
