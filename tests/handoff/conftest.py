"""Fixtures of the hand-off tests: a migrated SQLite database (every table, up to 0005_handoff),
a fake Rasa and a stand-in Graph API on 127.0.0.1, the webhook app wired to them, and the
development server (simulator, agent panel) on a random port.

The channel's helpers are imported by name, as the channel tests do; tests/channel is put on the
path here so this directory also runs alone.
"""

from __future__ import annotations

import pytest
from channel_helpers import dev_server as dev_server  # fixtures of the channel tests
from channel_helpers import fake_rasa as fake_rasa
from channel_helpers import fast_graph, fast_rasa, make_settings
from channel_helpers import standin as standin
from handoff_helpers import OUR_APP_ID
from sqlalchemy.orm import sessionmaker

from bot import devtools
from bot.channel.app import ChannelOptions, create_app
from bot.db.base import make_engine


@pytest.fixture
def sessions(db_url):
    engine = make_engine(db_url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def make_app(sessions, fake_rasa, standin):
    """Factory: the webhook (FB_APP_ID set) on the migrated database, fake Rasa and stand-in."""
    apps = []

    def factory(dev: bool = False, clock=None, **env):
        env.setdefault("FB_APP_ID", OUR_APP_ID)
        settings = make_settings(dev, GRAPH_API_URL=standin.url, RASA_URL=fake_rasa.url, **env)
        app = create_app(
            settings,
            session_factory=sessions,
            rasa_client=fast_rasa(fake_rasa.url),
            graph_client=fast_graph(standin.url),
            options=ChannelOptions(workers=4, sweep_interval=None),
        )
        if dev:
            devtools.install(app)
        if clock is not None:
            app.extensions["mobilis_handoff"].clock = clock
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["mobilis_channel"].dispatcher.stop(wait=True)
