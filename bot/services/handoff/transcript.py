"""The conversation an agent reads before answering, rebuilt from what the channel stored.

User lines come from `inbound_events` (messaging and standby), bot lines from `outbound_messages`
(messages actually sent), agent lines from `escalation_messages`. Agent sends tagged HUMAN_AGENT
that the channel may also have logged are skipped there, so nothing appears twice.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.db import handoff as h
from bot.db.messaging import InboundEvent, OutboundMessage

USER_KINDS = ("text", "quick_reply", "postback", "attachment")


def transcript(session: Session, psid: str, limit: int = 40) -> list[dict[str, Any]]:
    lines = _user_lines(session, psid, limit) + _bot_lines(session, psid, limit) + _agent_lines(session, psid, limit)
    lines.sort(key=lambda line: line["_at"])
    for line in lines:
        line["at"] = line.pop("_at").isoformat()
    return lines[-limit:]


def _user_lines(session: Session, psid: str, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(InboundEvent)
        .where(InboundEvent.sender_id == psid, InboundEvent.kind.in_(USER_KINDS))
        .order_by(InboundEvent.id.desc())
        .limit(limit)
    )
    return [{"_at": as_utc(r.received_at), "author": "user", "text": _user_text(r), "channel": r.channel} for r in rows]


def _bot_lines(session: Session, psid: str, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.recipient_id == psid, OutboundMessage.kind == "message", OutboundMessage.status == "sent"
        )
        .order_by(OutboundMessage.id.desc())
        .limit(limit)
    )
    lines = []
    for row in rows:
        payload = _json(row.payload_json)
        if payload.get("tag") == "HUMAN_AGENT":
            continue
        lines.append({"_at": as_utc(row.created_at), "author": "bot", "text": message_text(payload.get("message"))})
    return lines


def _agent_lines(session: Session, psid: str, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(h.EscalationMessage)
        .where(h.EscalationMessage.psid == psid)
        .order_by(h.EscalationMessage.id.desc())
        .limit(limit)
    )
    return [{"_at": as_utc(r.created_at), "author": r.author, "text": r.text} for r in rows]


def _user_text(row: InboundEvent) -> str:
    raw = _json(row.raw_json)
    message = raw.get("message") or {}
    if row.kind == "attachment":
        kinds = [str(a.get("type")) for a in message.get("attachments") or [] if isinstance(a, dict)]
        return f"[pièce jointe : {', '.join(kinds) or '?'}]"
    if row.kind == "postback":
        postback = raw.get("postback") or {}
        return f"[bouton : {postback.get('title') or postback.get('payload') or '?'}]"
    return str(message.get("text") or row.text or "")  # a quick reply's title, not its payload


def message_text(message: object) -> str:
    """Visible text of a Send API message: text, template text, or card titles."""
    if not isinstance(message, dict):
        return ""
    if message.get("text"):
        return str(message["text"])
    payload = (message.get("attachment") or {}).get("payload") or {}
    if payload.get("text"):
        return str(payload["text"])
    titles = [str(e.get("title")) for e in payload.get("elements") or [] if isinstance(e, dict)]
    return " | ".join(titles) if titles else "[pièce jointe]"


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
