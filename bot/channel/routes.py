"""HTTP endpoints Meta calls: GET /webhook (verification) and POST /webhook (events)."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, abort, current_app, jsonify, request

from bot.channel import metrics
from bot.channel.alert_sender import record_template_statuses
from bot.channel.events import parse_webhook
from bot.channel.signature import SIGNATURE_HEADER, signature_is_valid, verify_token_matches
from bot.channel.state import current_channel
from bot.logmask import correlation

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


@bp.get("/webhook")
def verify() -> Response:
    settings = current_channel().settings
    if request.args.get("hub.mode") == "subscribe" and verify_token_matches(
        settings.fb_verify_token, request.args.get("hub.verify_token")
    ):
        return Response(request.args.get("hub.challenge", ""), status=200, mimetype="text/plain")
    log.warning("webhook verification refused")
    return Response("Forbidden", status=403, mimetype="text/plain")


def raw_body(limit: int) -> bytes:
    """The request body, 413 beyond `limit` bytes. With a Content-Length, Flask's
    MAX_CONTENT_LENGTH refuses it before reading; a chunked body has none, so it is read here in
    pieces and refused as soon as it goes over (never buffered whole)."""
    if request.content_length is not None:
        return request.get_data(cache=False)
    chunks: list[bytes] = []
    total = 0
    while True:
        part = request.stream.read(min(64 * 1024, limit + 1 - total))
        if not part:
            return b"".join(chunks)
        total += len(part)
        if total > limit:
            abort(413)
        chunks.append(part)


@bp.post("/webhook")
def receive() -> Response:
    channel = current_channel()
    body = raw_body(current_app.config["MAX_CONTENT_LENGTH"])
    if not signature_is_valid(channel.settings.fb_app_secret, body, request.headers.get(SIGNATURE_HEADER)):
        log.warning("webhook POST with a missing or wrong signature refused")
        return Response("Forbidden", status=403, mimetype="text/plain")
    try:
        payload = json.loads(body)
    except ValueError:
        return Response("Bad Request", status=400, mimetype="text/plain")
    try:
        parsed = parse_webhook(payload)
    except Exception:  # a body shaped unlike Meta's (found by fuzzing): 200, so Meta does not retry it
        log.exception("malformed webhook body ignored")
        metrics.MESSAGES_IN.labels("malformed").inc()
        return Response("EVENT_RECEIVED", status=200, mimetype="text/plain")
    if parsed.ignored:
        log.info("webhook items ignored: %s", parsed.ignored)
    if parsed.delivered:  # echoes of our bubbles: a resumed turn will not send them again
        channel.inbox.confirm_delivered(parsed.delivered)
    sessions = current_app.extensions.get("mobilis_sessions")
    if parsed.template_statuses and sessions is not None:  # an alert template approved, rejected or paused
        record_template_statuses(sessions, parsed.template_statuses)
    # Stored before answering: if this fails Meta gets a 500 and redelivers (dedup makes it safe).
    accepted = []
    for event in parsed.events:  # one by one: each stored id is logged with its mid (correlation)
        for item in channel.inbox.record([event]):
            with correlation(f"ev{item.id}"):
                log.info("ev%d <- %s (%s, %s)", item.id, event.dedup_key[:60], event.kind, item.status)
            accepted.append(item)
            if item.status == "pending":
                channel.dispatcher.submit(item.sender_id, item.id)
    metrics.events_received(parsed.events, accepted)
    handoff = current_app.extensions.get("mobilis_handoff")
    if handoff is not None:  # thread control coming back to us (or taken by the inbox) is handled too
        for event_id, sender_id in handoff.queue_control_events(parsed.events):
            channel.dispatcher.submit(sender_id, event_id)
    return Response("EVENT_RECEIVED", status=200, mimetype="text/plain")


@bp.get("/healthz")
def health() -> Response:
    return jsonify({"status": "ok"})
