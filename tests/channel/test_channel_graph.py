"""Send API client: retries, permanent errors, timeouts, token hygiene (against the stand-in)."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from channel_helpers import APP_SECRET, PAGE_TOKEN, LocalServer, fast_graph
from flask import Flask, jsonify
from pymessenger.bot import Bot

from bot import logmask
from bot.channel.graph import (
    GraphClient,
    GraphError,
    OutsideWindow,
    RecipientUnavailable,
    TokenError,
    TransientGraphError,
)


def send(client, text="Bonjour"):
    return client.send_message("u1", {"text": text})


@pytest.mark.parametrize(
    "failure",
    [
        dict(code=4),
        dict(code=17),
        dict(code=32),
        dict(code=613),
        dict(code=1),
        dict(code=2),
        dict(code=9000, is_transient=True),
        dict(code=1, http_status=500),
        dict(code=0, http_status=503, raw_body="<html>Bad gateway</html>"),
        dict(code=0, http_status=429, raw_body="Too Many Requests"),
        dict(code=100, http_status=502),  # a Graph-side 5xx is retried whatever its code
    ],
)
def test_transient_errors_are_retried(standin, failure):
    standin.fail_next(count=2, **failure)
    result = send(fast_graph(standin.url))
    assert result.message_id.startswith("m_standin_")
    assert standin.request_count == 3 and len(standin.messages("u1")) == 1


def test_retries_stop_after_the_attempt_limit(standin):
    standin.fail_next(code=613, count=10)
    with pytest.raises(TransientGraphError) as caught:
        send(fast_graph(standin.url, attempts=3))
    assert caught.value.code == 613 and standin.request_count == 3


@pytest.mark.parametrize("code", [1, 2, 4, 17, 32, 613])
def test_backoff_is_exponential_then_gives_up_as_transient(standin, caplog, code):
    waits = []
    standin.fail_next(code=code, count=10)
    client = GraphClient(
        PAGE_TOKEN, APP_SECRET, standin.url, "v26.0", attempts=5, backoff=0.5, backoff_max=3.0, sleep=waits.append
    )
    with caplog.at_level(logging.WARNING, logger="bot.channel.graph"), pytest.raises(TransientGraphError) as caught:
        send(client)
    assert waits == [0.5, 1.0, 2.0, 3.0]  # doubles each time, capped at backoff_max
    assert caught.value.code == code and standin.request_count == 5 and standin.sends == []
    assert len([r for r in caplog.records if "retry" in r.getMessage()]) == 4  # each retry is logged
    assert any("given up after 5 attempt(s)" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_backoff_then_success_sends_once(standin):
    waits = []
    standin.fail_next(code=4, count=2)
    client = GraphClient(PAGE_TOKEN, APP_SECRET, standin.url, "v26.0", sleep=waits.append)  # default policy
    assert send(client).message_id
    assert waits == [1.0, 2.0] and standin.request_count == 3 and len(standin.messages("u1")) == 1


def test_other_graph_calls_share_the_retry_policy(standin):
    waits = []
    standin.fail_next(code=2, count=2, endpoint="messenger_profile")
    client = GraphClient(PAGE_TOKEN, APP_SECRET, standin.url, "v26.0", sleep=waits.append)
    assert client.get("me/messenger_profile", {"fields": "greeting"}) == {"data": []}
    assert waits == [1.0, 2.0]


@pytest.mark.parametrize(
    "failure, error_class",
    [
        (dict(code=100), GraphError),
        (dict(code=551), RecipientUnavailable),
        (dict(code=200, subcode=1545041), RecipientUnavailable),
        (dict(code=10, subcode=2018278), OutsideWindow),
        (dict(code=10), GraphError),  # permission, not the window
        (dict(code=200), GraphError),
        (dict(code=190, http_status=401), TokenError),
        (dict(code=190, subcode=463), TokenError),  # expired token
    ],
)
def test_permanent_errors_are_not_retried(standin, failure, error_class, caplog):
    standin.fail_next(count=5, **failure)
    with caplog.at_level(logging.WARNING, logger="bot.channel.graph"), pytest.raises(error_class) as caught:
        send(fast_graph(standin.url))
    assert type(caught.value) is error_class
    assert standin.request_count == 1 and standin.sends == []
    # Logged once, with the Graph code (the alert for a token, a warning otherwise).
    [record] = [r for r in caplog.records if f"code={failure['code']}" in r.getMessage() or "ALERT" in r.getMessage()]
    assert record.levelno >= logging.WARNING


def test_token_error_logs_an_alert(standin, caplog):
    standin.fail_next(code=190, http_status=401)
    with caplog.at_level(logging.CRITICAL, logger="bot.channel.graph"), pytest.raises(TokenError):
        send(fast_graph(standin.url))
    assert any("ALERT" in r.getMessage() for r in caplog.records)


def test_wrong_token_is_refused_by_the_standin(standin):
    client = GraphClient("wrong-token", APP_SECRET, standin.url, "v26.0", backoff=0)
    with pytest.raises(TokenError):
        send(client)


def test_sender_action_is_its_own_request_without_messaging_type(standin):
    fast_graph(standin.url).send_action("u1", "typing_on")
    [record] = standin.sends
    assert record["kind"] == "sender_action" and record["message"] is None and record["messaging_type"] is None


def test_message_carries_messaging_type_response(standin):
    send(fast_graph(standin.url))
    assert standin.sends[0]["messaging_type"] == "RESPONSE"


def test_explicit_timeout_is_passed_on_every_request(standin):
    seen = []

    class SpySession(requests.Session):
        def request(self, method, url, **kwargs):
            seen.append(kwargs.get("timeout"))
            return super().request(method, url, **kwargs)

    client = fast_graph(standin.url, session=SpySession(), timeout=(1.5, 4.0))
    send(client)
    client.send_action("u1", "mark_seen")
    client.post("me/messenger_profile", {"get_started": {"payload": "/get_started"}})
    assert seen == [(1.5, 4.0)] * 3


def test_read_timeout_is_enforced_and_not_retried():
    calls = []
    slow = Flask("slow_graph")

    @slow.post("/v26.0/me/messages")
    def messages():
        calls.append(1)
        time.sleep(1.0)
        return jsonify({"recipient_id": "u1", "message_id": "m"})

    server = LocalServer(slow)
    try:
        client = fast_graph(server.url, timeout=(1.0, 0.2))
        started = time.monotonic()
        with pytest.raises(GraphError, match="read timeout"):
            send(client)
        assert time.monotonic() - started < 0.9
        assert len(calls) == 1  # a read timeout may mean "delivered": never sent twice
    finally:
        server.close()


def test_connection_errors_are_retried_then_raised(closed_port_url):
    with pytest.raises(TransientGraphError):
        send(fast_graph(closed_port_url, attempts=3))


@pytest.fixture
def masked_logs():
    """bot.logmask as every process installs it: the one redaction point of the logs."""
    logmask.install_filters(secrets=(PAGE_TOKEN, APP_SECRET))
    yield
    logmask.uninstall()


def test_token_never_appears_in_logs_or_errors(standin, closed_port_url, caplog, masked_logs):
    caplog.set_level(logging.DEBUG)  # includes urllib3's request lines, which hold the query string
    secrets = (PAGE_TOKEN, Bot(PAGE_TOKEN, app_secret=APP_SECRET).auth_args["appsecret_proof"])
    errors = []
    send(fast_graph(standin.url))
    standin.fail_next(code=1, http_status=500)
    send(fast_graph(standin.url))
    for url in (closed_port_url,):
        try:
            send(fast_graph(url, attempts=2))
        except GraphError as exc:
            errors.append(exc)
    assert any("urllib3" in r.name for r in caplog.records), "urllib3 debug lines were not captured"
    assert "access_token=***" in caplog.text  # the lines are there, redacted
    assert errors and all(s not in caplog.text for s in secrets)
    for exc in errors:
        text = f"{exc} {exc!r} {exc.__cause__!r}"
        assert PAGE_TOKEN not in text and "access_token" not in text
        assert exc.__suppress_context__


def test_post_reaches_other_graph_endpoints(standin):
    client = fast_graph(standin.url)
    client.post("me/messenger_profile", {"get_started": {"payload": "/get_started"}})
    client.post("1234/pass_thread_control", {"recipient": {"id": "u1"}, "target_app_id": 263902037430900})
    assert [c["path"] for c in standin.calls] == ["me/messenger_profile", "1234/pass_thread_control"]


def test_messenger_profile_sets_get_started_and_a_greeting(standin):
    from bot.channel.profile import GET_STARTED_PAYLOAD, push_profile

    push_profile(fast_graph(standin.url))
    [call] = standin.calls
    assert call["body"]["get_started"] == {"payload": GET_STARTED_PAYLOAD} == {"payload": "/get_started"}
    assert all(len(g["text"]) <= 160 for g in call["body"]["greeting"])  # Messenger's greeting limit


def test_api_version_is_a_string_and_graph_url_points_at_the_configured_host(standin):
    assert fast_graph(standin.url).graph_url == f"{standin.url}/v26.0"
    assert GraphClient(PAGE_TOKEN, None, standin.url, "2.10").graph_url.endswith("/v2.10")


def test_pymessenger_is_used_unpatched_through_our_session_and_timeouts():
    import pymessenger.bot
    import requests

    assert pymessenger.bot.requests is requests  # its module is left as it ships

    class RecordingSession(requests.Session):
        def post(self, url, **kwargs):
            self.seen = (url, kwargs)
            response = requests.Response()
            response.status_code, response._content = 200, b'{"recipient_id": "u1", "message_id": "m1"}'
            return response

    session = RecordingSession()
    client = GraphClient(PAGE_TOKEN, APP_SECRET, "https://graph.example", "v26.0", session=session, timeout=(1.0, 2.0))
    assert client.send_raw({"recipient": {"id": "u1"}, "message": {"text": "x"}}).message_id == "m1"
    url, kwargs = session.seen
    assert url == "https://graph.example/v26.0/me/messages" and kwargs["timeout"] == (1.0, 2.0)
    assert kwargs["params"]["access_token"] == PAGE_TOKEN and "appsecret_proof" in kwargs["params"]


# ---- the same refusals seen from the webhook's worker (bot/channel/processing.py) ----


def _events(sessions):
    from bot.db import messaging as m

    with sessions() as session:
        return session.query(m.InboundEvent).all(), session.query(m.OutboundMessage).all()


def test_window_refusal_ends_the_turn_without_retry(make_app, standin, fake_rasa, sessions):
    from channel_helpers import entry, page_body, signed_post, text_event, wait_idle

    fake_rasa.reply = lambda s, t: [{"text": "un"}, {"text": "deux"}]
    standin.fail_next(code=10, subcode=2018278, count=3)  # typing_on, then every reply
    app = make_app()
    signed_post(app.test_client(), page_body(entry(text_event("u1", "x", "mid.window"))))
    wait_idle(app)
    [row], outbound = _events(sessions)
    assert standin.messages("u1") == [] and standin.request_count == 2  # asked once, not retried
    assert row.status == "done"
    assert [o.status for o in outbound if o.kind == "message"] == ["dropped"]
