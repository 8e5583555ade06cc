"""Development tools: the Messenger simulator, the stand-in Graph API, the agent panel and the card
payment page, added to a development-mode webhook by its entry point (webhook.py). The channel never
imports them: a production process does not even load this package.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot import clock
from bot.channel.graph import DEV_GRAPH_PREFIX
from bot.channel.state import channel_of
from bot.devtools.agent_panel import make_agent_blueprint
from bot.devtools.alert_demo import make_alert_demo_blueprint
from bot.devtools.graph_standin import StandinStore, make_standin_blueprint
from bot.devtools.payment_page import make_payment_page_blueprint
from bot.devtools.simulator import make_simulator_blueprint
from bot.services.alerts.templates import load_templates, record_status
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
    app.register_blueprint(make_alert_demo_blueprint(sessions, app.extensions["mobilis_alerts"]), url_prefix="/dev")
    _approve_alert_templates(store, sessions, settings.alerts_templates_file or None)
    log.warning("development mode: simulator at %s/dev/simulator", settings.public_url)
    return app


def _approve_alert_templates(store: StandinStore, sessions: Callable[[], Session], path: str | None) -> None:
    """The alerts' utility templates, created on the stand-in Page and recorded as approved (what
    `python -m bot.channel.alert_templates` does against Meta), so the simulator shows alerts sent
    outside the 24-hour window too."""
    now = clock.utcnow()
    try:
        with sessions() as session:
            for spec in load_templates(path).values():
                template, problem = store.templates.create(spec.create_request())
                if template is None:
                    log.warning("alert template %s not created on the stand-in: %s", spec.name, problem)
                    continue
                record_status(session, spec.name, spec.language, template["status"], now, template["id"])
            session.commit()
    except SQLAlchemyError as exc:  # tables not migrated yet: alerts outside the window are not sent
        log.warning("alert templates not recorded for the simulator: %s", type(exc).__name__)
