"""Flask application factory for the Messenger webhook (and, in development, the simulator)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.channel import metrics
from bot.channel.alert_settings import AlertSettingsGate
from bot.channel.conversation_language import LanguageKeeper
from bot.channel.dispatcher import Dispatcher
from bot.channel.graph import GraphClient, graph_base_url, graph_client_from_settings
from bot.channel.handoff_gate import build_handoff_gate
from bot.channel.inbox import Inbox
from bot.channel.processing import EventProcessor, RetryPolicy
from bot.channel.rasa_client import RasaClient
from bot.channel.rate_limit import limiter_for
from bot.channel.readiness import bp as readiness_bp
from bot.channel.routes import bp as webhook_bp
from bot.channel.sender_locks import LocalSenderLocks, RedisSenderLocks, SenderLocks
from bot.channel.state import EXTENSION, Channel
from bot.channel.tracker_chores import TrackerChores
from bot.channel.tracker_eraser import TrackerEraser
from bot.channel.turn_insights import TurnInsights
from bot.config import Settings, get_settings
from bot.config.settings import MULTI_PROCESS_LEASE_SECONDS

log = logging.getLogger(__name__)
# The webhook cannot verify Meta's calls, answer users or speak to Rasa without them.
REQUIRED_SECRETS = (
    "FB_APP_SECRET",
    "FB_VERIFY_TOKEN",
    "FB_PAGE_ACCESS_TOKEN",
    "MOBILIS_INTERNAL_TOKEN",
    "RASA_API_TOKEN",
)


@dataclass(frozen=True)
class ChannelOptions:
    """Tuning of the embedded worker (the WEBHOOK_* settings)."""

    workers: int = 4  # users answered in parallel per process (16 measured no faster on 2 cores: docs/benchmarks.md)
    sweep_interval: float | None = 5.0  # seconds between DB sweeps (retries, missed pending events)
    claim_lease: float | None = None  # None: single process, requeue every in-progress row at start
    max_body_bytes: int = 1024 * 1024  # Meta's batches are far smaller; bigger bodies get 413
    user_rate: str = "20/minute"  # per-sender messages to Rasa (WEBHOOK_USER_RATE; "0" disables)
    redis_url: str | None = None  # set: several processes share the work (sender locks, rate limits)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChannelOptions:
        return cls(
            workers=settings.webhook_workers,
            sweep_interval=settings.webhook_sweep_seconds or None,
            claim_lease=settings.claim_lease_seconds,
            max_body_bytes=settings.webhook_max_body_bytes,
            user_rate=settings.webhook_user_rate,
            redis_url=settings.redis_url or None,
            retry=RetryPolicy.from_settings(settings),
        )

    def sender_locks(self) -> SenderLocks:
        if not self.redis_url:
            return LocalSenderLocks()
        return RedisSenderLocks(self.redis_url, lease_seconds=self.claim_lease or MULTI_PROCESS_LEASE_SECONDS)


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: Callable[[], Session] | None = None,
    rasa_client: RasaClient | None = None,
    graph_client: GraphClient | None = None,
    options: ChannelOptions | None = None,
    start_worker: bool = True,
) -> Flask:
    """Build the webhook app. With start_worker=False accepted events stay pending in the DB."""
    settings = settings or get_settings()
    settings.require(*REQUIRED_SECRETS)
    options = options or ChannelOptions.from_settings(settings)
    if session_factory is None:
        from bot.db.base import session_factory as make_sessions

        session_factory = make_sessions(settings.database_url)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = options.max_body_bytes
    inbox = Inbox(session_factory)
    rasa = rasa_client or RasaClient(settings.rasa_url, token=settings.internal_token)
    # English is offered only where its model runs (docs/english.md).
    english = {"en": RasaClient(settings.rasa_url_en, token=settings.internal_token)} if settings.rasa_url_en else {}
    graph = graph_client or graph_client_from_settings(settings, graph_base_url(settings))
    handoff = build_handoff_gate(settings, session_factory, graph)  # None before migration 0005
    limiter = limiter_for(options.user_rate, options.redis_url)
    # A Rasa client given by a test is a stand-in without Rasa's HTTP API: no tracker to erase there.
    eraser = TrackerEraser.from_settings(settings) if rasa_client is None else None
    chores = TrackerChores(session_factory, eraser) if eraser is not None else None
    processor = EventProcessor(
        inbox,
        rasa,
        graph,
        handoff,
        limiter,
        options.retry,
        tracker_eraser=eraser,
        tracker_chores=chores,
        alert_settings=AlertSettingsGate(session_factory),
        languages=LanguageKeeper(session_factory, frozenset(english)),
        rasa_by_language=english,
        insights=TurnInsights(session_factory),
    )
    dispatcher = Dispatcher(
        inbox,
        processor,
        workers=options.workers,
        sweep_interval=options.sweep_interval,
        claim_lease=options.claim_lease,
        locks=options.sender_locks(),
        on_lock_unavailable=processor.lock_unavailable,
    )
    app.extensions[EXTENSION] = Channel(settings, inbox, dispatcher, rasa, graph)
    app.extensions["mobilis_handoff"] = handoff
    app.extensions["mobilis_sessions"] = session_factory
    app.register_blueprint(webhook_bp)
    app.register_blueprint(readiness_bp)  # GET /readyz
    from bot.channel.alert_sender import AlertSender
    from bot.channel.operator_events import make_operator_events_blueprint
    from bot.channel.payment_notifications import (  # card payment results, purchases the operator confirms later
        make_payments_blueprint,
        resend_notices,
        settle_purchases,
    )

    app.register_blueprint(make_payments_blueprint(settings, session_factory, graph, inbox))
    # Payment messages still owed (a send failed, or a process died while sending) go out at sweeps.
    dispatcher.periodic.append(lambda: resend_notices(session_factory, graph, inbox))
    dispatcher.periodic.append(lambda: settle_purchases(session_factory, graph, inbox))
    alerts = AlertSender(session_factory, graph, settings, inbox)  # opt-in alerts
    app.extensions["mobilis_alerts"] = alerts
    dispatcher.periodic.append(alerts)
    app.register_blueprint(make_operator_events_blueprint(settings.operator_events_token, alerts.wake))
    if chores is not None:  # a conversation Rasa could not erase when asked is erased at the next sweeps
        dispatcher.periodic.append(chores.retry_due)
    metrics.install(app, settings.metrics_token)  # GET /metrics, request timings, hand-off and payment counters
    if start_worker:
        try:
            dispatcher.start()
        except OperationalError as exc:  # most often: tables missing
            raise RuntimeError("cannot read inbound_events: run `python -m bot.db.migrate` first") from exc
        if handoff is not None and options.sweep_interval:  # idle threads, requests left out of hours
            handoff.start()
    return app
