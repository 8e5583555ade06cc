"""Local Messenger simulator (development mode only): the page and its small JSON API.

The page builds Messenger-shaped webhook bodies, has them signed here (POST /dev/api/sign) and
posts those exact bytes to the real POST /webhook, so the whole channel runs as in production.
Replies are read back from the stand-in Graph API's store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from bot.channel.rasa_client import RasaClient
from bot.channel.signature import SIGNATURE_HEADER, sign
from bot.config import Settings
from bot.devtools.graph_standin import StandinStore

log = logging.getLogger(__name__)


class _QuietPolling(logging.Filter):
    """The page polls twice a second: keep those GETs out of the dev server's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "GET /dev/api/messages" not in record.getMessage()


logging.getLogger("werkzeug").addFilter(_QuietPolling())
PAGE = Path(__file__).with_name("static") / "simulator.html"

# Test users of the simulator (PSIDs are arbitrary strings for the stand-in).
PERSONAS = [
    {"psid": "dev-psid-0001", "name": "Léa (nouvelle cliente)"},
    {"psid": "dev-psid-0002", "name": "Teva (forfait)"},
    {"psid": "dev-psid-0003", "name": "Marie (carte Liberté)"},
    {"psid": "dev-psid-0004", "name": "Kenji (touriste)"},
]


def make_simulator_blueprint(
    settings: Settings, store: StandinStore, sessions: Callable[[], Session], rasa: RasaClient | None = None
) -> Blueprint:
    bp = Blueprint("simulator", __name__)

    @bp.before_request
    def local_only() -> None:
        # The signing endpoint is an oracle for webhook signatures: refuse anything relayed by a
        # proxy or tunnel (they add X-Forwarded-For), even if dev mode was left on.
        if request.headers.get("X-Forwarded-For"):
            abort(404)

    @bp.get("/simulator")
    def page() -> ResponseReturnValue:
        config = {
            "pageId": settings.page_id,
            "personas": PERSONAS,
            "webhookPath": "/webhook",
            "signatureHeader": SIGNATURE_HEADER,
        }
        html = PAGE.read_text(encoding="utf-8").replace(
            "/*__CONFIG__*/null", json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
        )
        return Response(html, mimetype="text/html")

    @bp.post("/api/sign")
    def sign_body() -> ResponseReturnValue:
        body = request.get_data(cache=False)
        return jsonify({"header": SIGNATURE_HEADER, "signature": sign(settings.fb_app_secret, body)})

    @bp.get("/api/messages")
    def messages() -> ResponseReturnValue:
        psid = request.args.get("psid", "")
        after = request.args.get("after", 0, type=int) or 0
        if not psid:
            return jsonify({"error": "psid manquant"}), 400
        records = store.sent_to(psid, after=after)
        cursor = records[-1]["seq"] if records else after
        return jsonify({"psid": psid, "cursor": cursor, "messages": records})

    @bp.post("/api/reset")
    def reset() -> ResponseReturnValue:
        psid = (request.get_json(silent=True) or {}).get("psid") or ""
        if not psid:
            return jsonify({"ok": False, "error": "psid manquant"}), 400
        cleared = store.reset(psid)
        restarted = False
        if rasa is not None:
            try:  # forget the Rasa conversation too; Rasa's answer is not shown
                rasa.send(psid, "/restart")
                restarted = True
            except Exception as exc:
                log.info("simulator reset: Rasa restart skipped (%s)", type(exc).__name__)
        return jsonify({"ok": True, "psid": psid, "cleared": cleared, "rasa_restarted": restarted})

    @bp.get("/api/demo-lines")
    def demo_lines() -> ResponseReturnValue:
        try:
            from sqlalchemy import select

            from bot.db.account import Line

            with sessions() as session:
                rows = session.execute(select(Line.msisdn, Line.plan_family).order_by(Line.msisdn).limit(100))
                lines = [
                    {"msisdn": r.msisdn, "plan_family": str(getattr(r.plan_family, "value", r.plan_family))}
                    for r in rows
                ]
        except Exception as exc:  # no domain tables yet: the page just shows none
            log.warning("demo lines unavailable: %s", type(exc).__name__)
            return jsonify({"lines": [], "error": "lignes de démo indisponibles"})
        return jsonify({"lines": lines})

    @bp.post("/api/link-line")
    def link_line() -> ResponseReturnValue:
        body = request.get_json(silent=True) or {}
        psid, msisdn = str(body.get("psid") or ""), str(body.get("msisdn") or "")
        if not psid or not msisdn:
            return jsonify({"ok": False, "error": "psid et msisdn requis"}), 400
        try:
            from bot.services.identity.linking import link_line_for_dev
        except ImportError:
            return jsonify({"ok": False, "error": "liaison de ligne indisponible"}), 501
        try:
            with sessions() as session:
                line = link_line_for_dev(session, psid, msisdn)
                line_id = line.id
                session.commit()
        except LookupError:
            return jsonify({"ok": False, "error": "ligne inconnue"}), 404
        except (ValueError, PermissionError) as exc:
            return jsonify({"ok": False, "error": str(exc)}), 400
        return jsonify({"ok": True, "psid": psid, "msisdn": msisdn, "line_id": line_id})

    return bp
