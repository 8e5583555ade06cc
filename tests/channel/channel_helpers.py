"""Helpers shared by the channel tests (imported by name: conftest modules are not importable)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from bot.channel.graph import GraphClient
from bot.channel.rasa_client import RasaClient
from bot.channel.signature import SIGNATURE_HEADER, sign
from bot.config import Settings
from bot.devtools.graph_standin import StandinStore, create_standin_app
from bot.internal_auth import RASA_CHANNEL_PATH

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PAGE_TOKEN = "EAAtestpagetoken1234567890"
PAGE_ID = "1234567890"


class LocalServer:
    """A WSGI app on 127.0.0.1 with a random port, in a daemon thread."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


class FakeRasa:
    """Rasa REST channel stand-in: records what it receives, answers with `self.reply`.

    `down = True` answers 503 (a proxy in front of a restarting Rasa) without recording;
    `delay` seconds of sleep make it slow."""

    def __init__(self):
        self.received: list[dict] = []
        self.lock = threading.Lock()
        self.reply: Callable[[str, str], list] = lambda sender, text: [{"text": f"écho : {text}"}]
        self.down = False
        self.delay = 0.0
        self.app = Flask("fake_rasa")

        @self.app.post(RASA_CHANNEL_PATH)
        def webhook():
            if self.down:
                return "Service Unavailable", 503
            body = request.get_json()
            with self.lock:
                self.received.append(body)
            time.sleep(self.delay)
            return jsonify(self.reply(body["sender"], body["message"]))

    def texts(self, sender: str | None = None) -> list[str]:
        with self.lock:
            return [b["message"] for b in self.received if sender is None or b["sender"] == sender]


def make_settings(dev: bool = False, **env) -> Settings:
    values = {
        "FB_APP_SECRET": APP_SECRET,
        "FB_VERIFY_TOKEN": VERIFY_TOKEN,
        "FB_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
        "FB_PAGE_ID": PAGE_ID,
        "DATABASE_URL": "sqlite://",
        "GRAPH_API_VERSION": "v26.0",
        "MOBILIS_INTERNAL_TOKEN": "channel-tests-internal-token",
        "RASA_API_TOKEN": "channel-tests-rasa-token",
    }
    if dev:
        values["MOBILIS_DEV_MODE"] = "1"
    values.update(env)
    return Settings.from_env(values)


def fast_graph(url: str, **kwargs) -> GraphClient:
    kwargs.setdefault("backoff", 0)
    return GraphClient(PAGE_TOKEN, APP_SECRET, url, "v26.0", **kwargs)


def fast_rasa(url: str, **kwargs) -> RasaClient:
    kwargs.setdefault("backoff", 0)
    return RasaClient(url, **kwargs)


def signed_post(client, body, secret: str = APP_SECRET, headers: dict | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    all_headers = {SIGNATURE_HEADER: sign(secret, raw), "Content-Type": "application/json"}
    all_headers.update(headers or {})
    return client.post("/webhook", data=raw, headers=all_headers)


def wait_idle(app, timeout: float = 10.0) -> None:
    assert app.extensions["mobilis_channel"].dispatcher.wait_idle(timeout), "events still being processed"


# ---- webhook bodies shaped like Meta's ----


def page_body(*entries: dict) -> dict:
    return {"object": "page", "entry": list(entries)}


def entry(*messaging: dict, standby: list | None = None, page_id: str = PAGE_ID) -> dict:
    item = {"id": page_id, "time": 1700000000000, "messaging": list(messaging)}
    if standby is not None:
        item["standby"] = standby
    return item


def text_event(psid: str, text: str, mid: str, ts: int = 1700000000001) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": ts,
        "message": {"mid": mid, "text": text},
    }


def quick_reply_event(psid: str, title: str, payload: str, mid: str) -> dict:
    event = text_event(psid, title, mid)
    event["message"]["quick_reply"] = {"payload": payload}
    return event


def postback_event(psid: str, payload: str, ts: int = 1700000000002, title: str = "Bouton") -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": ts,
        "postback": {"title": title, "payload": payload, "mid": f"m_pb_{ts}"},
    }


class LateApp:
    """WSGI app whose target is set after the server knows its port (PUBLIC_URL needs it)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


# Fixtures shared by the channel, hand-off and operations tests (their conftests import them).
@pytest.fixture
def fake_rasa():
    rasa = FakeRasa()
    server = LocalServer(rasa.app)
    rasa.url = server.url
    yield rasa
    server.close()


@pytest.fixture
def standin():
    store = StandinStore(expected_token=PAGE_TOKEN)
    server = LocalServer(create_standin_app(store))
    store.url = server.url
    yield store
    server.close()


@pytest.fixture
def dev_server(sessions, fake_rasa):
    """The dev-mode webhook on a random port, replying through its OWN stand-in Graph API
    (no GRAPH_API_URL, no FB_APP_ID). Needs a `sessions` fixture from the importing conftest."""
    from bot import devtools
    from bot.channel.app import ChannelOptions, create_app

    late = LateApp()
    server = LocalServer(late)
    settings = make_settings(dev=True, PUBLIC_URL=server.url, RASA_URL=fake_rasa.url)
    late.app = devtools.install(
        create_app(
            settings,
            session_factory=sessions,
            rasa_client=fast_rasa(fake_rasa.url),
            options=ChannelOptions(sweep_interval=None),
        )
    )
    yield SimpleNamespace(url=server.url, app=late.app, store=late.app.extensions["graph_standin"])
    late.app.extensions["mobilis_channel"].dispatcher.stop()
    server.close()
