"""GET /metrics of the back office: the dashboard's figures as Prometheus gauges, computed from the
database at each scrape over sliding windows (label `window`: 24h, 7d), with the same definitions
as the built-in page (bot/services/insights/dashboard.py). The webhook's own /metrics keeps the
per-event counters and the answer-time histogram.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from bot import clock
from bot.services.insights import dashboard
from bot.services.insights.turns import Outcome

log = logging.getLogger(__name__)
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}


class DashboardCollector(Collector):
    def __init__(self, sessions: Callable[[], Session]):
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = clock.utcnow()
        with self._sessions() as db:
            by_window = {name: dashboard.figures(db, now - span, now) for name, span in WINDOWS.items()}

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=("window", *labels))

        conversations = gauge("mobilis_conversations", "Conversations by outcome", ("outcome",))
        containment = gauge("mobilis_containment_ratio", "Conversations ended without hand-off nor fallback loop")
        handoffs = gauge("mobilis_handoffs", "Hand-offs asked, by reason", ("reason",))
        turns = gauge("mobilis_turns", "Turns by outcome", ("outcome",))
        fallback = gauge("mobilis_fallback_ratio", "Turns answered by the fallback")
        disambiguation = gauge("mobilis_disambiguation_ratio", "Turns answered by 'vous voulez parler de'")
        intents = gauge("mobilis_intent_turns", "Turns of the top intents", ("intent",))
        faq_answers = gauge("mobilis_faq_answers", "Answers of the top FAQ entries", ("entry",))
        faq_feedback = gauge("mobilis_faq_feedback", "Ratings of the top FAQ entries", ("entry", "rating"))
        purchases = gauge("mobilis_chat_purchases", "Chat purchases by stage", ("stage",))
        alerts = gauge("mobilis_alerts_sent", "Alerts sent")
        answer = gauge("mobilis_answer_seconds_median", "Median time from message accepted to answer ready")
        for window, f in by_window.items():
            for outcome in ("contained", "handoff", "fallback_loop"):
                conversations.add_metric([window, outcome], f.conversations.get(outcome, 0))
            _maybe(containment, window, f.containment)
            for reason, count in f.handoffs.items():
                handoffs.add_metric([window, reason], count)
            for outcome in Outcome.ALL:
                turns.add_metric([window, outcome], f.turns.get(outcome, 0))
            _maybe(fallback, window, f.fallback_rate)
            _maybe(disambiguation, window, f.disambiguation_rate)
            for intent, count in f.top_intents:
                intents.add_metric([window, intent], count)
            for entry in f.top_faq:
                faq_answers.add_metric([window, entry.entry], entry.answers)
                faq_feedback.add_metric([window, entry.entry, "up"], entry.up)
                faq_feedback.add_metric([window, entry.entry, "down"], entry.down)
            for stage in dashboard.STAGES:
                purchases.add_metric([window, stage], f.purchases.get(stage, 0))
            alerts.add_metric([window], f.alerts_sent)
            _maybe(answer, window, f.median_answer_seconds)
        yield from (conversations, containment, handoffs, turns, fallback, disambiguation)
        yield from (intents, faq_answers, faq_feedback, purchases, alerts, answer)


def _maybe(family: GaugeMetricFamily, window: str, value: float | None) -> None:
    if value is not None:  # no conversation yet: no ratio (not 0, which would look like a failure)
        family.add_metric([window], value)


def make_metrics_blueprint(sessions: Callable[[], Session], token: str) -> Blueprint:
    bp = Blueprint("metrics", __name__)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DashboardCollector(sessions))

    @bp.get("/metrics")
    def metrics() -> Response:
        given = request.headers.get("Authorization", "")
        if not token or not hmac.compare_digest(given.encode("utf-8", "replace"), f"Bearer {token}".encode()):
            return Response("Forbidden", status=403, mimetype="text/plain")
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return bp
