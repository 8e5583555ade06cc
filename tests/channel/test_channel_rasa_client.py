"""Rasa REST client: body sent, retries on connection errors only, timeouts."""

from __future__ import annotations

import time

import pytest
import requests
from channel_helpers import LocalServer, fast_rasa
from flask import Flask, jsonify

from bot.channel.rasa_client import RasaUnavailable
from bot.internal_auth import RASA_CHANNEL_PATH


def test_sends_sender_and_message_and_returns_replies(fake_rasa):
    fake_rasa.reply = lambda sender, text: [{"recipient_id": sender, "text": "Bonjour"}, "junk"]
    replies = fast_rasa(fake_rasa.url).send("psid-1", "/greet")
    assert fake_rasa.received == [{"sender": "psid-1", "message": "/greet"}]
    assert replies == [{"recipient_id": "psid-1", "text": "Bonjour"}]


def test_connection_error_is_retried_then_raises(closed_port_url):
    attempts = []

    class CountingSession(requests.Session):
        def request(self, *args, **kwargs):
            attempts.append(kwargs.get("timeout"))
            return super().request(*args, **kwargs)

    client = fast_rasa(closed_port_url, session=CountingSession(), attempts=3, timeout=(0.5, 2.0))
    with pytest.raises(RasaUnavailable):
        client.send("u", "bonjour")
    assert attempts == [(0.5, 2.0)] * 3


def serve(status_sequence):
    """A Rasa that answers with the given statuses in turn, then 200."""
    app, calls = Flask("flaky_rasa"), []

    @app.post(RASA_CHANNEL_PATH)
    def webhook():
        calls.append(1)
        status = status_sequence[len(calls) - 1] if len(calls) <= len(status_sequence) else 200
        return (jsonify([{"text": "ok"}]), 200) if status == 200 else ("busy", status)

    return LocalServer(app), calls


def test_gateway_errors_are_retried():
    server, calls = serve([503, 502])
    try:
        assert fast_rasa(server.url).send("u", "x") == [{"text": "ok"}]
        assert len(calls) == 3
    finally:
        server.close()


def test_internal_error_is_not_retried():
    server, calls = serve([500])
    try:
        with pytest.raises(RasaUnavailable, match="HTTP 500"):
            fast_rasa(server.url).send("u", "x")
        assert len(calls) == 1  # Rasa may have run the turn: replaying it would duplicate effects
    finally:
        server.close()


def test_read_timeout_is_not_retried():
    app, calls = Flask("slow_rasa"), []

    @app.post(RASA_CHANNEL_PATH)
    def webhook():
        calls.append(1)
        time.sleep(0.8)
        return jsonify([])

    server = LocalServer(app)
    try:
        with pytest.raises(RasaUnavailable, match="read timeout"):
            fast_rasa(server.url, timeout=(1.0, 0.2)).send("u", "x")
        assert len(calls) == 1
    finally:
        server.close()
