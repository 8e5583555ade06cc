"""Reply → Rasa messages: text, quick replies, URL/postback/tel buttons, cards."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.reply_adapter import rasa_messages, send_reply
from bot.services.replies import Button, Card, QuickReply, Reply

QR = [QuickReply("Mon solde", "/show_balance"), QuickReply("Aide", "/help")]


def test_text_with_quick_replies_becomes_rasa_buttons():
    assert rasa_messages(Reply("Bonjour", quick_replies=QR)) == [
        {
            "text": "Bonjour",
            "buttons": [{"title": "Mon solde", "payload": "/show_balance"}, {"title": "Aide", "payload": "/help"}],
        }
    ]


def test_plain_text_has_no_buttons():
    assert rasa_messages(Reply("Bonjour")) == [{"text": "Bonjour"}]


def test_url_postback_and_tel_buttons_become_a_button_template():
    reply = Reply(
        "Les documents :",
        buttons=[
            Button("CGV", url="https://example.nc/cgv.pdf"),
            Button("Mon offre", payload="/show_offer"),
            Button("Appeler le 1000", url="tel:+687 1000"),
        ],
    )
    [message] = rasa_messages(reply)
    payload = message["json_message"]["attachment"]["payload"]
    assert message["json_message"]["attachment"]["type"] == "template"
    assert payload["template_type"] == "button"
    assert payload["text"] == "Les documents :"
    assert payload["buttons"] == [
        {"type": "web_url", "title": "CGV", "url": "https://example.nc/cgv.pdf"},
        {"type": "postback", "title": "Mon offre", "payload": "/show_offer"},
        {"type": "phone_number", "title": "Appeler le 1000", "payload": "+6871000"},
    ]
    assert "text" not in message  # the text travels inside the template, not twice


def test_quick_replies_hang_on_the_last_custom_message():
    reply = Reply("Documents", buttons=[Button("CGU", url="https://example.nc/cgu")], quick_replies=QR)
    [message] = rasa_messages(reply)
    assert message["json_message"]["quick_replies"] == [
        {"content_type": "text", "title": "Mon solde", "payload": "/show_balance"},
        {"content_type": "text", "title": "Aide", "payload": "/help"},
    ]
    assert "buttons" not in message


def test_cards_follow_the_text_as_a_generic_template_with_the_quick_replies():
    reply = Reply(
        "Vos achats : 2.",
        quick_replies=QR,
        cards=[
            Card("Recharge Liberté 1 000 F", "01/03/2026 · 1 000 F"),
            Card("Pass 1 Go", "", (Button("Détails", url="https://example.nc/imd"),)),
        ],
    )
    first, second = rasa_messages(reply)
    assert first == {"text": "Vos achats : 2."}  # no chips here: they would vanish under the cards
    payload = second["json_message"]["attachment"]["payload"]
    assert payload["template_type"] == "generic"
    assert payload["elements"] == [
        {"title": "Recharge Liberté 1 000 F", "subtitle": "01/03/2026 · 1 000 F"},
        {"title": "Pass 1 Go", "buttons": [{"type": "web_url", "title": "Détails", "url": "https://example.nc/imd"}]},
    ]
    assert [q["payload"] for q in second["json_message"]["quick_replies"]] == ["/show_balance", "/help"]


def test_button_without_target_is_dropped():
    [message] = rasa_messages(Reply("Texte", buttons=[Button("Rien")]))
    assert message == {"text": "Texte"}


def test_send_reply_produces_rasa_rest_shapes():
    dispatcher = CollectingDispatcher()
    send_reply(
        dispatcher,
        Reply("Documents", buttons=[Button("CGU", url="https://example.nc/cgu")], cards=[Card("A")], quick_replies=QR),
    )
    assert len(dispatcher.messages) == 2
    assert dispatcher.messages[0]["custom"]["attachment"]["payload"]["template_type"] == "button"
    assert dispatcher.messages[1]["custom"]["attachment"]["payload"]["template_type"] == "generic"
    assert dispatcher.messages[1]["custom"]["quick_replies"][0]["payload"] == "/show_balance"
