"""Prometheus metrics of the channel, served at GET /metrics.

The counters live in prometheus-client's default registry (one set per process; under gunicorn
run ONE worker process, as the webhook already requires, or set PROMETHEUS_MULTIPROC_DIR).
Instrumentation is a handful of one-line calls in routes.py and processing.py plus the hooks
`install()` registers; everything here is cheap and never raises into the request.

If METRICS_TOKEN is set, /metrics wants `Authorization: Bearer <token>` (the webhook port is public).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from bot.channel.events import MessengerEvent
from bot.channel.graph import (
    RATE_LIMIT_CODES,
    GraphError,
    OutsideWindow,
    RecipientUnavailable,
    TokenError,
    TransientGraphError,
)
from bot.channel.inbox import Accepted
from bot.services.handoff.escalations import ThreadControlPort

log = logging.getLogger(__name__)

MESSAGES_IN = Counter("mobilis_messages_in_total", "Webhook events parsed, by kind", ["kind"])
DUPLICATES = Counter("mobilis_messages_duplicate_total", "Webhook events already stored (redeliveries)")
MESSAGES_OUT = Counter("mobilis_messages_out_total", "Send API requests accepted, by kind", ["kind"])
SEND_ERRORS = Counter("mobilis_send_errors_total", "Send API errors, by kind", ["kind"])
RASA_ERRORS = Counter("mobilis_rasa_errors_total", "Turns where Rasa could not be used")
TRACKER_ERASE_FAILURES = Counter(
    "mobilis_tracker_erase_failures_total", "Erasures whose Rasa tracker could not be erased (to do by hand)"
)
RATE_LIMITED = Counter("mobilis_rate_limited_total", "Messages not sent to Rasa: sender over WEBHOOK_USER_RATE")
HANDOFFS = Counter("mobilis_handoffs_total", "Threads passed to the Page Inbox, by result", ["result"])
PURCHASES = Counter("mobilis_payment_notifications_total", "Payment notifications applied, by result", ["result"])
ALERTS_DETECTED = Counter("mobilis_alerts_detected_total", "Alert crossings detected, by kind", ["kind"])
ALERTS_SENT = Counter(
    "mobilis_alerts_sent_total", "Alerts sent, by kind and route (message, template)", ["kind", "route"]
)
ALERTS_SUPPRESSED = Counter(
    "mobilis_alerts_suppressed_total",
    "Alerts not sent, by kind and reason (opt_out, resolved, cap, template, interrupted, unavailable, refused)",
    ["kind", "reason"],
)
ALERTS_DEFERRED = Counter("mobilis_alerts_deferred_total", "Alerts held for the end of quiet hours, by kind", ["kind"])
ALERTS_FOLLOWED = Counter(
    "mobilis_alerts_followed_by_purchase_total", "Alerts after which the line bought within 24 h, by kind", ["kind"]
)
TURN_LATENCY = Histogram(
    "mobilis_turn_seconds",
    "Event accepted by the webhook -> its last reply sent",
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60),
)
ACK_LATENCY = Histogram(
    "mobilis_webhook_ack_seconds",
    "POST /webhook received -> answered",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20),
)

_accepted_at: OrderedDict[int, float] = OrderedDict()  # event id -> monotonic time it was stored
_accepted_lock = threading.Lock()
_ACCEPTED_MAX = 10_000  # events never processed here (another process, shutdown) must not pile up


def events_received(events: Sequence[MessengerEvent], accepted: Sequence[Accepted]) -> None:
    """routes: after the inbox stored the parsed events (duplicates are not in `accepted`)."""
    for event in events:
        MESSAGES_IN.labels(event.kind).inc()
    DUPLICATES.inc(max(0, len(events) - len(accepted)))
    now = time.monotonic()
    with _accepted_lock:
        for item in accepted:
            _accepted_at[item.id] = now
        while len(_accepted_at) > _ACCEPTED_MAX:
            _accepted_at.popitem(last=False)


def turn_finished(event_id: int) -> None:
    """processing: the event is handled (its replies, if any, are out)."""
    with _accepted_lock:
        start = _accepted_at.pop(event_id, None)
    if start is not None:  # unknown after a restart: the time it waited is not ours to measure
        TURN_LATENCY.observe(time.monotonic() - start)


def sent(payload: dict[str, Any]) -> None:
    MESSAGES_OUT.labels("sender_action" if "sender_action" in payload else "message").inc()


def send_failed(exc: GraphError) -> None:
    SEND_ERRORS.labels(error_kind(exc)).inc()


def error_kind(exc: GraphError) -> str:
    if isinstance(exc, TransientGraphError):
        return "rate_limit" if exc.code in RATE_LIMIT_CODES or exc.http_status == 429 else "transient"
    if isinstance(exc, OutsideWindow):
        return "window"
    if isinstance(exc, RecipientUnavailable):
        return "recipient_unavailable"
    if isinstance(exc, TokenError):
        return "token"
    return "permanent"


class CountingThreadControl:
    """Wraps the hand-off's thread control so each pass to the inbox is counted."""

    def __init__(self, inner: ThreadControlPort):
        self._inner = inner

    def pass_thread_control(self, psid: str, metadata: str = "") -> None:
        try:
            self._inner.pass_thread_control(psid, metadata)
        except Exception:
            HANDOFFS.labels("failed").inc()
            raise
        HANDOFFS.labels("passed").inc()

    def take_thread_control(self, psid: str, metadata: str = "") -> None:
        self._inner.take_thread_control(psid, metadata)


def install(app: Flask, token: str = "") -> None:
    """GET /metrics (behind `token` when set), webhook acknowledgement latency, payment
    notification results, hand-offs."""
    handoff = app.extensions.get("mobilis_handoff")
    if handoff is not None:
        handoff.thread_control = CountingThreadControl(handoff.thread_control)

    @app.before_request
    def _start_clock() -> None:
        g.mobilis_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        try:
            if request.endpoint == "webhook.receive":
                ACK_LATENCY.observe(time.perf_counter() - g.mobilis_started)
            elif request.endpoint == "payments.notify" and response.status_code == 200:
                result = (response.get_json(silent=True) or {}).get("result")
                PURCHASES.labels(str(result or "unknown")).inc()
        except Exception:  # metrics must never break an answer
            log.debug("metrics hook failed", exc_info=True)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        given = request.headers.get("Authorization", "")
        if token and not hmac.compare_digest(given.encode("utf-8", "replace"), f"Bearer {token}".encode()):
            return Response("Forbidden", status=403, mimetype="text/plain")
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
