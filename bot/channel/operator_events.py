"""The operator's notifications (TM Forum event hub → our listener): a line's usage or balance
changed, so its alerts are read at the next sweep instead of waiting for the periodic scan.

    POST /operator/events/usageCreateEvent          TMF635: event.usage (relatedParty[].id = the line)
    POST /operator/events/topupBalanceCreateEvent   TMF654: event.topupBalance (logicalResource[].id)
    POST /operator/events/adjustBalanceCreateEvent  TMF654: event.adjustBalance (logicalResource[].id)

The operator registers `PUBLIC_URL/operator/events/<name>` with its hub (TMF635/TMF654 POST /hub)
and presents `Authorization: Bearer <OPERATOR_EVENTS_TOKEN>`; without that setting the listener is
off (404). An event only wakes the line up: what it says is read again through the operator port,
so a forged or replayed event can at most cause one more read.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

RESOURCES = {
    "usageCreateEvent": "usage",
    "topupBalanceCreateEvent": "topupBalance",
    "adjustBalanceCreateEvent": "adjustBalance",
}


def line_of(resource: dict[str, Any]) -> str | None:
    """The line a usage (its user, relatedParty) or a balance action (logicalResource) is about."""
    for key in ("logicalResource", "relatedParty"):
        for item in resource.get(key) or []:
            if isinstance(item, dict) and str(item.get("id") or "").isdigit():
                return str(item["id"])
    return None


def _error(status: int, reason: str) -> ResponseReturnValue:
    return jsonify({"code": str(status), "reason": reason, "@type": "Error"}), status


def make_operator_events_blueprint(token: str, wake: Callable[[str], None]) -> Blueprint:
    bp = Blueprint("operator_events", __name__)

    @bp.post("/operator/events/<name>")
    def receive(name: str) -> ResponseReturnValue:
        if not token or name not in RESOURCES:
            return Response("Not Found", status=404, mimetype="text/plain")
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _error(401, "missing or wrong bearer token")
        body = request.get_json(silent=True)
        event = body.get("event") if isinstance(body, dict) else None
        resource = event.get(RESOURCES[name]) if isinstance(event, dict) else None
        msisdn = line_of(resource) if isinstance(resource, dict) else None
        if msisdn is None:
            return _error(400, f"event.{RESOURCES[name]} names no line")
        wake(msisdn)
        return jsonify({}), 201

    return bp
