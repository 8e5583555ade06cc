"""The texts the webhook sends itself, and the renderers' titles, in English for visitors
(`with speaking("en")`), French unchanged outside."""

from __future__ import annotations

from actions import turns
from actions.reply_adapter import rasa_messages
from bot.channel import formatting
from bot.channel.alert_settings import AlertSettingsGate
from bot.channel.handoff_gate import reply_messages
from bot.channel.inbox import ClaimedEvent
from bot.channel.processing import APOLOGY_TEXT, SLOW_TEXT, gave_up_text
from bot.channel.rate_limit import SLOW_DOWN_TEXT
from bot.services.i18n import _, speaking
from bot.services.replies import MENU, QR_HUMAN, Button, Card, Reply


def test_webhook_notices_in_english():
    with speaking("en"):
        assert _(SLOW_TEXT) == "One moment please, I'm working on your request…"
        assert _(APOLOGY_TEXT).startswith("Sorry, I'm having a technical problem.") and "1000" in _(APOLOGY_TEXT)
        assert _(SLOW_DOWN_TEXT).startswith("You're sending a lot of messages")
    assert _(SLOW_TEXT) == "Un instant s'il vous plaît, je traite votre demande…"


def test_gave_up_quotes_the_message_in_both_languages():
    with speaking("en"):
        english = gave_up_text("solde")
    assert english.startswith("Sorry, I couldn't process your message “solde” because of a technical problem.")
    assert gave_up_text("solde").startswith("Désolé, je n'ai pas pu traiter votre message « solde » à cause")
    with speaking("en"):
        assert gave_up_text("/show_balance").startswith("Sorry, I couldn't process your message because")


def test_channel_renderer_translates_shared_chips_and_buttons():
    reply = Reply(text="Hello", quick_replies=list(MENU))
    with speaking("en"):
        messages = reply_messages(reply)
    assert [q["title"] for q in messages[-1]["quick_replies"]] == [
        "My balance",
        "My usage",
        "Buy",
        "Shops",
        "Talk to a person",
    ]
    french = reply_messages(reply)
    assert [q["title"] for q in french[-1]["quick_replies"]] == [
        "Mon solde",
        "Ma conso",
        "Acheter",
        "Agences",
        "Un conseiller",
    ]


def test_channel_default_choice_text_in_english():
    with speaking("en"):
        messages = formatting.messages_from_reply(
            {"text": "", "quick_replies": [{"title": "Aide", "payload": "/help"}]}
        )
    assert messages[0]["text"] == "Choose an option:"
    assert messages[0]["quick_replies"][0]["title"] == "Aide"  # the formatter itself translates nothing


def test_action_renderer_translates_titles_and_default_text():
    reply = Reply(
        text="",
        buttons=[Button(QR_HUMAN.title, payload="/human")],
        cards=[Card("Agences", "", (Button("Aide", payload="/help"),))],
        quick_replies=[QR_HUMAN],
    )
    with speaking("en"):
        messages = rasa_messages(reply)
    template = messages[0]["json_message"]["attachment"]["payload"]
    assert template["text"] == "Choose an option:" and template["buttons"][0]["title"] == "Talk to a person"
    cards = messages[1]["json_message"]
    assert cards["attachment"]["payload"]["elements"][0]["title"] == "Shops"
    assert cards["quick_replies"][0]["title"] == "Talk to a person"
    assert rasa_messages(reply)[0]["json_message"]["attachment"]["payload"]["text"] == "Choisissez une option :"


def test_turn_replies_in_english():
    with speaking("en"):
        apology = turns.apology_reply("/show_balance")
        linking = turns.not_linked_reply("/show_balance")
        unclear = turns.unclear(Reply(text="Confirm?"))
    assert apology.text.startswith("Sorry, I can't handle your request right now.")
    assert apology.quick_replies[0].title == "Try again"
    assert linking.text.startswith("To see your balance, I first need to check your line")
    assert unclear.text == "I didn't quite understand your answer. Confirm?"
    assert turns.not_linked_reply("/show_balance").text.startswith("Pour voir votre solde, je dois d'abord vérifier")


def test_alert_settings_failure_in_english():
    def broken():
        raise RuntimeError("database down")

    event = ClaimedEvent(id=1, sender_id="u1", kind="text", text="mes alertes", attempts=0)
    with speaking("en"):
        reply = AlertSettingsGate(broken).reply_for(event)
    assert reply is not None and reply.text.startswith("Sorry, I can't change your alerts right now.")
    assert reply.quick_replies[0].title == "Try again"
    french = AlertSettingsGate(broken).reply_for(event)
    assert french is not None and french.text.startswith("Désolé, je n'arrive pas à modifier vos alertes")


def test_meaning_chips_are_translated_when_sent():
    from bot.services.dialogue.meanings import likely_meanings
    from bot.services.replies import QuickReply

    parse = {"intent_ranking": [{"name": "bot_challenge", "confidence": 0.4}, {"name": "help", "confidence": 0.3}]}
    meanings = likely_meanings(parse, {})
    assert [m.title for m in meanings] == ["Qui êtes-vous ?", "Ce que je sais faire"]  # French kept in the question
    reply = Reply(text="?", quick_replies=[QuickReply(m.title, m.payload) for m in meanings])
    with speaking("en"):
        chips = reply_messages(reply)[-1]["quick_replies"]
    assert [c["title"] for c in chips] == ["Who are you?", "What I can do"]
