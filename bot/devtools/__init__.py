"""Development tools: the Messenger simulator, the stand-in Graph API, the agent panel and the card
payment page, added to a development-mode webhook by its entry point (webhook.py). The channel never
imports them: a production process does not even load this package.
"""

from __future__ import annotations

import logging

from flask import Flask

from bot.channel.graph import DEV_GRAPH_PREFIX
from bot.channel.state import channel_of
from bot.devtools.agent_panel import make_agent_blueprint
from bot.devtools.graph_standin import StandinStore, make_standin_blueprint
from bot.devtools.payment_page import make_payment_page_blueprint
from bot.devtools.simulator import make_simulator_blueprint
from bot.services.purchasing.settings import PurchaseSettings

log = logging.getLogger(__name__)


def install(app: Flask) -> Flask:
    """Add the development routes (/dev/...) to a webhook app built in development mode."""
    channel = channel_of(app)
    settings, sessions = channel.settings, app.extensions["mobilis_sessions"]
    if not settings.dev_mode:
        raise RuntimeError("the development tools only run in development mode (MOBILIS_DEV_MODE=1)")
    store = StandinStore(expected_token=settings.fb_page_access_token)
    app.extensions["graph_standin"] = store
    app.register_blueprint(make_standin_blueprint(store), url_prefix=DEV_GRAPH_PREFIX)
    app.register_blueprint(make_simulator_blueprint(settings, store, sessions, channel.rasa), url_prefix="/dev")
    app.register_blueprint(make_agent_blueprint(settings, sessions), url_prefix="/dev")
    app.register_blueprint(
        make_payment_page_blueprint(sessions, PurchaseSettings.from_settings(settings)), url_prefix="/dev"
    )
    log.warning("development mode: simulator at %s/dev/simulator", settings.public_url)
    return app
