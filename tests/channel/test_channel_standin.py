"""The stand-in Graph API refuses what Facebook would refuse and records the rest."""

from __future__ import annotations

import pytest
from channel_helpers import PAGE_TOKEN

from bot.devtools.graph_standin import StandinStore, create_standin_app, validate_send


@pytest.fixture
def client():
    app = create_standin_app(StandinStore(expected_token=PAGE_TOKEN))
    return app.test_client(), app.extensions["graph_standin"]


def post(client, body, token=PAGE_TOKEN):
    return client.post("/v26.0/me/messages", json=body, query_string={"access_token": token} if token else {})


def ok(message, psid="u1"):
    return {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message}


def test_valid_message_is_recorded_and_answered_like_facebook(client):
    http, store = client
    response = post(http, ok({"text": "Bonjour"}))
    assert response.status_code == 200
    assert response.get_json() == {"recipient_id": "u1", "message_id": store.sends[0]["message_id"]}
    assert store.messages("u1")[0]["message"] == {"text": "Bonjour"}


@pytest.mark.parametrize(
    "body",
    [
        {"messaging_type": "RESPONSE", "message": {"text": "x"}},  # no recipient
        {"recipient": {"id": "u1"}, "message": {"text": "x"}},  # no messaging_type
        ok({"text": "x" * 2001}),
        ok({"text": "x", "quick_replies": [{"content_type": "text", "title": "t", "payload": "p"}] * 14}),
        ok({"text": "x", "quick_replies": [{"content_type": "text", "title": "t" * 21, "payload": "p"}]}),
        ok(
            {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "button",
                        "text": "x" * 641,
                        "buttons": [{"type": "postback", "title": "a", "payload": "p"}],
                    },
                }
            }
        ),
        ok(
            {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "button",
                        "text": "x",
                        "buttons": [{"type": "postback", "title": "a", "payload": "p"}] * 4,
                    },
                }
            }
        ),
        ok(
            {
                "attachment": {
                    "type": "template",
                    "payload": {"template_type": "generic", "elements": [{"title": "t"}] * 11},
                }
            }
        ),
        {"recipient": {"id": "u1"}, "sender_action": "dancing"},
    ],
)
def test_invalid_requests_get_graph_error_100(client, body):
    http, store = client
    response = post(http, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == 100
    assert store.sends == []


def test_missing_or_wrong_token_gets_190(client):
    http, _store = client
    assert post(http, ok({"text": "x"}), token=None).get_json()["error"]["code"] == 190
    assert post(http, ok({"text": "x"}), token="other").get_json()["error"]["code"] == 190


def test_fail_next_is_consumed_in_order(client):
    http, store = client
    store.fail_next(code=613, count=1)
    assert post(http, ok({"text": "x"})).get_json()["error"]["code"] == 613
    assert post(http, ok({"text": "x"})).status_code == 200


def test_thread_control_and_profile_calls_are_recorded(client):
    http, store = client
    q = {"access_token": PAGE_TOKEN}
    assert (
        http.post(
            "/v26.0/me/messenger_profile", json={"get_started": {"payload": "/get_started"}}, query_string=q
        ).status_code
        == 200
    )
    assert http.post(
        "/v26.0/42/pass_thread_control", json={"recipient": {"id": "u1"}, "target_app_id": 1}, query_string=q
    ).get_json() == {"success": True}
    assert http.post("/v26.0/42/take_thread_control", json={}, query_string=q).status_code == 400
    assert [c["path"] for c in store.calls] == ["me/messenger_profile", "42/pass_thread_control"]


def test_sent_to_cursor_and_reset(client):
    http, store = client
    post(http, ok({"text": "un"}))
    post(http, ok({"text": "deux"}, psid="u2"))
    post(http, ok({"text": "trois"}))
    first = store.sent_to("u1")
    assert [r["message"]["text"] for r in first] == ["un", "trois"]
    assert store.sent_to("u1", after=first[0]["seq"]) == [first[1]]
    assert store.reset("u1") == 2 and store.sent_to("u1") == [] and len(store.sent_to("u2")) == 1


def test_sender_action_with_message_is_refused():
    assert validate_send({"recipient": {"id": "u"}, "sender_action": "typing_on", "message": {"text": "x"}})
