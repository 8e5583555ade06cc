"""Fixtures of the operations tests: the channel's own fixtures (fake Rasa, stand-in Graph API,
SQLite with the messaging tables), reused by loading tests/channel/conftest.py, plus `ops_app`, the
webhook app with tunable options, and `rasa_status`, a fake Rasa answering GET /status."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from flask import Flask, jsonify

CHANNEL_TESTS = Path(__file__).resolve().parent.parent / "channel"

_spec = importlib.util.spec_from_file_location("channel_conftest_for_ops", CHANNEL_TESTS / "conftest.py")
_channel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_channel)
fake_rasa, standin, sessions, closed_port_url = (
    _channel.fake_rasa,
    _channel.standin,
    _channel.sessions,
    _channel.closed_port_url,
)

from channel_helpers import LocalServer, fast_graph, fast_rasa, make_settings  # noqa: E402

from bot.channel.app import ChannelOptions, create_app  # noqa: E402


@pytest.fixture
def rasa_status():
    """A Rasa stand-in for readiness: GET /status answers `status_code` (200 by default)."""
    app, state = Flask("rasa_status"), {"code": 200}

    @app.get("/status")
    def status():
        return jsonify({"model_file": "models/x.tar.gz"}), state["code"]

    server = LocalServer(app)
    server.state = state
    yield server
    server.close()


@pytest.fixture
def ops_app(sessions, fake_rasa, standin):
    apps = []

    def factory(
        start_worker: bool = True,
        rasa_url: str | None = None,
        session_factory=None,
        user_rate: str = "20/minute",
        **env,
    ):
        settings = make_settings(False, GRAPH_API_URL=standin.url, RASA_URL=rasa_url or fake_rasa.url, **env)
        app = create_app(
            settings,
            session_factory=session_factory or sessions,
            rasa_client=fast_rasa(settings.rasa_url),
            graph_client=fast_graph(standin.url),
            options=ChannelOptions(workers=4, sweep_interval=None, user_rate=user_rate),
            start_worker=start_worker,
        )
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["mobilis_channel"].dispatcher.stop(wait=True)
