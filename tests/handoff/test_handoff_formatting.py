"""A `tel:` button (agency cards) becomes Messenger's call button; thread-control adapter details."""

from __future__ import annotations

import pytest
from channel_helpers import fast_graph

from bot.channel import formatting as f
from bot.channel.handoff_gate import reply_messages
from bot.channel.thread_control import GraphThreadControl
from bot.devtools.graph_standin import validate_message
from bot.services.handoff.escalations import ThreadControlError
from bot.services.replies import Button, Card, QuickReply, Reply


def test_tel_url_becomes_phone_number_button():
    button = f.template_button({"title": "Appeler l'agence", "url": "tel:+687 27 50 00"})
    assert button == {"type": "phone_number", "title": "Appeler l'agence", "payload": "+687275000"}
    assert f.template_button({"title": "Site", "url": "https://www.opt.nc"})["type"] == "web_url"


def test_agency_card_with_call_button_is_valid_for_messenger():
    reply = Reply(
        text="Agences proches :",
        cards=[
            Card(
                "Agence OPT Nouméa",
                "Ouverte jusqu'à 15h30",
                (Button("Appeler", url="tel:+687275000"), Button("Itinéraire", url="https://maps.example/x")),
            )
        ],
    )
    messages = reply_messages(reply)
    assert [validate_message(msg) for msg in messages] == [None] * len(messages)
    buttons = messages[-1]["attachment"]["payload"]["elements"][0]["buttons"]
    assert buttons[0] == {"type": "phone_number", "title": "Appeler", "payload": "+687275000"}
    call = {"title": "Appeler", "url": "tel:+687275000"}
    rasa_style = f.messages_from_rasa([{"text": "Appelez-nous", "buttons": [call]}])
    assert rasa_style[0]["attachment"]["payload"]["buttons"][0]["type"] == "phone_number"


def test_standin_refuses_a_call_button_without_international_number():
    bad = {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": "x",
                "buttons": [{"type": "phone_number", "title": "Appeler", "payload": "1000"}],
            },
        }
    }
    assert "international" in validate_message(bad)


def test_reply_quick_replies_become_chips():
    [message] = reply_messages(Reply(text="Et ensuite ?", quick_replies=[QuickReply("Autre question", "/help")]))
    assert message["quick_replies"] == [{"content_type": "text", "title": "Autre question", "payload": "/help"}]


def test_thread_control_calls_and_metadata_limit(standin):
    port = GraphThreadControl(fast_graph(standin.url), "1234567890")
    port.pass_thread_control("u1", "x" * 1500)
    port.take_thread_control("u1", "reprise")
    port.release_thread_control("u1")
    paths = [c["path"] for c in standin.calls]
    assert paths == [
        "1234567890/pass_thread_control",
        "1234567890/take_thread_control",
        "1234567890/release_thread_control",
    ]
    passed = standin.calls[0]["body"]
    assert passed["target_app_id"] == 263902037430900 and len(passed["metadata"]) == 1000
    assert "target_app_id" not in standin.calls[1]["body"] and "metadata" not in standin.calls[2]["body"]


def test_thread_control_errors_become_service_errors(standin):
    port = GraphThreadControl(fast_graph(standin.url + "/nowhere", attempts=1), "p")  # HTTP 404
    with pytest.raises(ThreadControlError):
        port.pass_thread_control("u1", "x")
