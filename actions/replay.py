"""Answering the question a user asked before consent or linking (`pending_request`), once the
consent or the link is committed.

Only questions are replayed (consultations, the product list or summary of /buy, the suspension the
user asked for before accepting the CGU); a purchase is never confirmed from a slot.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker

from actions import turns
from actions.consultation import LinkedLineAction
from bot import clock
from bot.db.base import session_scope
from bot.services.account.line_suspension import suspend_linked_line
from bot.services.dialogue.payloads import parse_payload
from bot.services.identity.linking import get_linked_line
from bot.services.purchasing import purchases
from bot.services.replies import Reply

log = logging.getLogger(__name__)


def _consultation_actions() -> dict[str, Any]:
    """Consultation actions by intent name, found by subclassing (new ones replay for free)."""
    found, stack = {}, [LinkedLineAction]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if getattr(sub, "intent", ""):
                found[sub.intent.lstrip("/")] = sub
    return found


def replay_pending(session, psid: str, line, pending: str | None) -> Reply | None:
    """Answer the question kept in `pending_request` for the line just linked (or consented).

    Only questions are replayed (consultations, the product list or summary of /buy, the
    suspension the user asked for before accepting the CGU); a purchase is never confirmed
    from a slot. Entities only carry filters: the line is the one passed in, from the link.
    """
    parsed = parse_payload(pending)
    if parsed is None:
        return None
    intent, entities = parsed
    now = clock.utcnow()
    if intent == "buy":
        return purchases.buy(
            session, psid, text=entities.get("text"), product_type=entities.get("product_type"), now=now
        ).reply
    if intent == "confirm_suspend":
        return suspend_linked_line(session, psid, now=now)
    action_class = _consultation_actions().get(intent)
    if action_class is None:
        return None
    action = action_class()
    latest = {
        "intent": {"name": intent, "confidence": 1.0},
        "text": pending,
        "entities": [{"entity": k, "value": v} for k, v in entities.items()],
    }
    params = action.parameters(Tracker(psid, {}, latest, [], False, None, {}, "action_listen"))
    return action.answer(session, line, **params)


def answer_pending(psid: str, pending: str | None) -> Reply | None:
    """`replay_pending` in its own transaction, once the consent or the link is committed: a
    failing answer must not undo them. A failure gives the apology with the question to retry."""
    if not pending:
        return None
    try:
        with session_scope() as session:
            line = get_linked_line(session, psid)
            return replay_pending(session, psid, line, pending) if line is not None else None
    except Exception:  # logged; the link or consent stays, the question can be retried
        log.exception("answering the pending request failed")
        return turns.apology_reply(pending[: turns.MAX_PENDING_LEN])
