"""Development stand-in for the Page Inbox (agents' side) and the SMS outbox, as JSON endpoints.

Registered under /dev only in development mode (MOBILIS_DEV_MODE=1): outside it every path
below answers 404. The simulator page (static/simulator.html) shows them as two panels.

    GET  /dev/api/agent/escalations        open escalations (waiting, open, with an agent), each
                                           with its summary and the user's recent transcript
    POST /dev/api/agent/reply              {"psid", "text"}: the agent writes to the user through
                                           the Send API (MESSAGE_TAG + HUMAN_AGENT, as Page Inbox
                                           replies are allowed up to 7 days); the thread is the agent's.
                                           Beyond 7 days, or when Facebook refuses (outside window,
                                           user gone...): {"ok": false, "reason", "error" (French)},
                                           also kept as the escalation's `last_error`
    POST /dev/api/agent/release            {"psid"}: "Rendre la main au bot" — posts to /webhook the
                                           signed pass_thread_control webhook Meta sends when the
                                           inbox gives the thread back to our app
    GET  /dev/api/thread?psid=             {"owner": "bot"|"inbox"}: the simulator sends the user's
                                           messages on `standby` while the inbox owns the thread
    GET  /dev/api/sms-outbox?msisdn=       SMS the embedded gateway "sent" (newest first, max 20;
                                           all numbers when msisdn is omitted):
                                           {"messages": [{"id", "msisdn", "text", "created_at"}]}
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.channel.graph import GraphError, OutsideWindow, RecipientUnavailable, TokenError, TransientGraphError
from bot.channel.signature import SIGNATURE_HEADER, sign
from bot.channel.state import current_channel
from bot.config import Settings
from bot.services.handoff import escalations as service
from bot.services.replies import TEXT_LIMIT

log = logging.getLogger(__name__)
DEV_APP_ID = "mobilis-dev-app"  # our app id in the simulator when FB_APP_ID is not set


def make_agent_blueprint(settings: Settings, sessions: Callable[[], Session]) -> Blueprint:
    bp = Blueprint("agent_panel", __name__)

    @bp.before_request
    def local_only() -> None:
        # Same rule as the simulator: nothing relayed by a proxy or tunnel.
        if request.headers.get("X-Forwarded-For"):
            abort(404)

    def unavailable() -> tuple[Response, int]:
        return jsonify({"ok": False, "error": "transfert vers un conseiller indisponible (base non migrée)"}), 503

    @bp.get("/api/agent/escalations")
    def escalations() -> ResponseReturnValue:
        if current_app.extensions.get("mobilis_handoff") is None:
            return unavailable()
        with sessions() as session:
            items = []
            for escalation in service.list_open_escalations(session):
                view = service.escalation_view(escalation)
                view["owner"] = service.thread_owner(session, escalation.psid)
                view["transcript"] = service.transcript(session, escalation.psid, limit=30)
                items.append(view)
        return jsonify({"escalations": items})

    @bp.post("/api/agent/reply")
    def reply() -> ResponseReturnValue:
        if current_app.extensions.get("mobilis_handoff") is None:
            return unavailable()
        body = request.get_json(silent=True) or {}
        psid, text = str(body.get("psid") or ""), str(body.get("text") or "").strip()
        if not psid or not text:
            return jsonify({"ok": False, "error": "psid et texte requis"}), 400
        text = text[:TEXT_LIMIT]
        channel = current_channel()
        with sessions() as session:
            if service.active_escalation(session, psid) is None:
                return jsonify({"ok": False, "error": "aucune demande ouverte pour cet utilisateur"}), 404
            # Always tagged: HUMAN_AGENT is valid inside the 24 h window too, and lets the agent
            # answer for up to 7 days (the transcript also tells agent lines by this tag).
            payload = {
                "recipient": {"id": psid},
                "messaging_type": "MESSAGE_TAG",
                "tag": "HUMAN_AGENT",
                "message": {"text": text},
            }
            if service.agent_window_closed(session, psid):  # no use asking Facebook: it would refuse
                channel.inbox.log_outbound(None, psid, payload, "dropped", error="beyond the 7-day window")
                return _refused(session, psid, "window", 409)
            try:
                sent = channel.graph.send_raw(payload)
            except GraphError as exc:
                reason, status = _failure_reason(exc)
                channel.inbox.log_outbound(None, psid, payload, "dropped" if status == 409 else "failed", error=exc)
                return _refused(session, psid, reason, status)
            channel.inbox.log_outbound(None, psid, payload, "sent", message_id=sent.message_id)
            service.record_agent_message(session, psid, text)
            session.commit()
        return jsonify({"ok": True, "psid": psid, "message_id": sent.message_id})

    def _refused(session: Session, psid: str, reason: str, status: int) -> tuple[Response, int]:
        error = service.record_agent_send_failure(session, psid, reason)
        session.commit()
        return jsonify({"ok": False, "reason": reason, "error": error}), status

    @bp.post("/api/agent/release")
    def release() -> ResponseReturnValue:
        if current_app.extensions.get("mobilis_handoff") is None:
            return unavailable()
        psid = str((request.get_json(silent=True) or {}).get("psid") or "")
        if not psid:
            return jsonify({"ok": False, "error": "psid manquant"}), 400
        now = int(time.time() * 1000)
        item = {
            "sender": {"id": psid},
            "recipient": {"id": settings.page_id},
            "timestamp": now,
            "pass_thread_control": {
                "previous_owner_app_id": settings.fb_inbox_app_id,
                "new_owner_app_id": settings.fb_app_id or DEV_APP_ID,
                "metadata": "Conversation rendue à l'assistant par le conseiller",
            },
        }
        raw = json.dumps(
            {"object": "page", "entry": [{"id": settings.page_id, "time": now, "messaging": [item]}]},
            ensure_ascii=False,
        ).encode("utf-8")
        # Through the real webhook (signature, inbox, worker), as Meta would deliver it.
        response = current_app.test_client().post(
            "/webhook",
            data=raw,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(settings.fb_app_secret, raw)},
        )
        return jsonify({"ok": response.status_code == 200, "psid": psid, "webhook_status": response.status_code})

    @bp.get("/api/thread")
    def thread() -> ResponseReturnValue:
        psid = request.args.get("psid", "")
        if not psid:
            return jsonify({"error": "psid manquant"}), 400
        if current_app.extensions.get("mobilis_handoff") is None:
            return jsonify({"psid": psid, "owner": "bot"})
        with sessions() as session:
            return jsonify({"psid": psid, "owner": service.thread_owner(session, psid)})

    @bp.get("/api/sms-outbox")
    def sms_outbox() -> ResponseReturnValue:
        from bot.services.identity.sms import recent_messages

        msisdn = request.args.get("msisdn", "").strip() or None
        try:
            with sessions() as session:
                messages = recent_messages(session, msisdn)
        except OperationalError:  # identity tables not migrated yet
            return jsonify({"messages": [], "error": "boîte d'envoi SMS indisponible"}), 503
        return jsonify({"messages": messages})

    return bp


def _failure_reason(exc: GraphError) -> tuple[str, int]:
    """(reason key for the French text, HTTP status): 409 when retrying can never work."""
    if isinstance(exc, OutsideWindow):
        return "window", 409
    if isinstance(exc, RecipientUnavailable):
        return "unavailable", 409
    if isinstance(exc, TransientGraphError):
        return "transient", 503
    if isinstance(exc, TokenError):
        return "token", 502
    return "refused", 502


class _QuietPanelPolling(logging.Filter):
    """The simulator polls these every 1.5 s: keep them out of the dev server's access log."""

    PATHS = ("GET /dev/api/agent/escalations", "GET /dev/api/sms-outbox", "GET /dev/api/thread")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(path in message for path in self.PATHS)


logging.getLogger("werkzeug").addFilter(_QuietPanelPolling())
