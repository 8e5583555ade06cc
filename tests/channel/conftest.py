"""Fixtures of the channel tests: a fake Rasa and a stand-in Graph API served on 127.0.0.1, a
throw-away SQLite database with the messaging tables (and the turns' records), and the webhook app
wired to all three."""

from __future__ import annotations

import pytest
from channel_helpers import dev_server as dev_server  # fixtures shared with other test folders
from channel_helpers import fake_rasa as fake_rasa
from channel_helpers import fast_graph, fast_rasa, make_settings
from channel_helpers import standin as standin
from flask import Flask
from sqlalchemy.orm import sessionmaker
from werkzeug.serving import make_server

from bot.channel.app import ChannelOptions, create_app
from bot.db import messaging as m
from bot.db.base import Base, make_engine
from bot.db.insights import TurnRecord


@pytest.fixture
def closed_port_url():
    server = make_server("127.0.0.1", 0, Flask("closed"))
    url = f"http://127.0.0.1:{server.server_port}"
    server.server_close()  # nothing listens there any more: connections are refused
    return url


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'channel.db'}")
    tables = [m.InboundEvent.__table__, m.OutboundMessage.__table__, m.DialogueContext.__table__]
    Base.metadata.create_all(engine, tables=[*tables, TurnRecord.__table__])
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def make_app(sessions, fake_rasa, standin):
    """Factory: the webhook app wired to the fake Rasa, the stand-in and the test database."""
    apps = []

    def factory(dev: bool = False, start_worker: bool = True, rasa_url: str | None = None, **env):
        settings = make_settings(dev, GRAPH_API_URL=standin.url, RASA_URL=rasa_url or fake_rasa.url, **env)
        app = create_app(
            settings,
            session_factory=sessions,
            rasa_client=fast_rasa(settings.rasa_url),
            graph_client=fast_graph(standin.url),
            options=ChannelOptions(workers=4, sweep_interval=None),
            start_worker=start_worker,
        )
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["mobilis_channel"].dispatcher.stop(wait=True)
