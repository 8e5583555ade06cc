"""The webhook decides each turn's language: typed English goes to the English model (with a one-line
notice the first time), "Français" / "English please" are answered at once and kept, buttons never
change it, and without an English model everyone stays in French."""

from __future__ import annotations

import pytest
from channel_helpers import (
    FakeRasa,
    LocalServer,
    entry,
    page_body,
    quick_reply_event,
    signed_post,
    text_event,
    wait_idle,
)

from bot.db.base import Base
from bot.db.language import ConversationLanguage


@pytest.fixture
def english_rasa():
    rasa = FakeRasa()
    rasa.reply = lambda sender, text: [{"text": f"echo: {text}"}]
    server = LocalServer(rasa.app)
    rasa.url = server.url
    yield rasa
    server.close()


@pytest.fixture
def sessions(sessions):
    """The channel tables, plus where each user's language is kept."""
    Base.metadata.create_all(sessions.kw["bind"], tables=[ConversationLanguage.__table__])
    return sessions


def say(app, psid, text, mid, quick_reply=None):
    event = quick_reply_event(psid, text, quick_reply, mid) if quick_reply else text_event(psid, text, mid)
    assert signed_post(app.test_client(), page_body(entry(event))).status_code == 200
    wait_idle(app)


def shown(standin, psid) -> list[str]:
    return [m["message"].get("text", "") for m in standin.messages(psid)]


def test_a_visitor_is_answered_by_the_english_model(make_app, fake_rasa, english_rasa, standin, sessions):
    app = make_app(RASA_URL_EN=english_rasa.url)
    say(app, "v1", "bonjour", "m1")
    say(app, "v1", "how much data do i have left", "m2")
    say(app, "v1", "Top up", "m3", quick_reply="/buy")
    assert fake_rasa.texts("v1") == ["bonjour"]
    assert english_rasa.texts("v1") == ["how much data do i have left", "/buy"]
    with english_rasa.lock:
        assert english_rasa.received[0]["metadata"]["language"] == "en"
    assert shown(standin, "v1") == [
        "écho : bonjour",
        "(I'll reply in English. Pour le français, écrivez « Français ».)",
        "echo: how much data do i have left",
        "echo: /buy",
    ]
    with sessions() as session:
        assert session.get(ConversationLanguage, "v1").language == "en"


def test_asking_for_a_language_is_answered_at_once_and_kept(make_app, fake_rasa, english_rasa, standin):
    app = make_app(RASA_URL_EN=english_rasa.url)
    say(app, "v2", "how much credit left", "m1")
    say(app, "v2", "Français svp", "m2")
    say(app, "v2", "what plan am i on", "m3")  # chosen: English sentences no longer switch
    say(app, "v2", "English please", "m4")
    assert english_rasa.texts("v2") == ["how much credit left"]
    assert fake_rasa.texts("v2") == ["what plan am i on"]
    messages = standin.messages("v2")
    assert messages[2]["message"]["text"].startswith("C'est noté, je vous réponds en français.")
    assert [q["title"] for q in messages[2]["message"]["quick_replies"]][:2] == ["Mon solde", "Ma conso"]
    assert messages[-1]["message"]["text"].startswith("Sure, I'll reply in English from now on.")


def test_without_an_english_model_everyone_stays_in_french(make_app, fake_rasa, standin, sessions):
    app = make_app()
    say(app, "v3", "how much data do i have left", "m1")
    say(app, "v3", "English please", "m2")
    assert fake_rasa.texts("v3") == ["how much data do i have left", "English please"]
    with fake_rasa.lock:
        assert all("language" not in b["metadata"] for b in fake_rasa.received)
    with sessions() as session:
        assert session.get(ConversationLanguage, "v3") is None


def test_erasing_reaches_the_english_model_s_conversation_too():
    from bot.channel.tracker_eraser import TrackerEraser
    from bot.config import Settings

    both = Settings.from_env({"RASA_URL": "http://127.0.0.1:5005", "RASA_URL_EN": "http://127.0.0.1:5006/"})
    assert TrackerEraser.from_settings(both).urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    french = Settings.from_env({"RASA_URL": "http://127.0.0.1:5005"})
    assert TrackerEraser.from_settings(french).urls == ["http://127.0.0.1:5005"]


def test_the_rasa_domain_s_own_french_answers_are_translated_for_an_english_turn(
    make_app, fake_rasa, english_rasa, standin
):
    english_rasa.reply = lambda sender, text: [
        {"text": "Avec plaisir ! 😊 Autre chose ?", "buttons": [{"title": "Mon solde", "payload": "/show_balance"}]}
    ]
    app = make_app(RASA_URL_EN=english_rasa.url)
    say(app, "v4", "English please", "m1")
    say(app, "v4", "thanks heaps", "m2")
    last = standin.messages("v4")[-1]["message"]
    assert last["text"] == "My pleasure! 😊 Anything else?"
    assert [q["title"] for q in last["quick_replies"]] == ["My balance"]


def test_the_menu_entry_switches_to_the_other_language(make_app, fake_rasa, english_rasa, standin):
    from channel_helpers import postback_event

    app = make_app(RASA_URL_EN=english_rasa.url)
    for ts, _ in enumerate(range(2)):
        signed_post(
            app.test_client(), page_body(entry(postback_event("v5", "/switch_language", ts=1700000000100 + ts)))
        )
        wait_idle(app)
    texts = shown(standin, "v5")
    assert texts[0].startswith("Sure, I'll reply in English") and texts[1].startswith(
        "C'est noté, je vous réponds en français"
    )
    assert fake_rasa.texts("v5") == [] and english_rasa.texts("v5") == []


def test_without_english_the_menu_entry_says_so(make_app, fake_rasa, standin):
    from channel_helpers import postback_event

    app = make_app()
    signed_post(app.test_client(), page_body(entry(postback_event("v6", "/switch_language"))))
    wait_idle(app)
    assert shown(standin, "v6")[0].startswith("Je ne peux vous répondre qu'en français pour le moment.")
    assert fake_rasa.texts("v6") == []
