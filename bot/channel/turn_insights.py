"""What the assistant did with each message, recorded for the editors and the operator
(bot/services/insights), and « Cette réponse vous a aidé ? » with its 👍 / 👎 chips.

Recording never costs the user an answer: a failure is logged and the answer goes out as it was.
The rating chips are answered here, before Rasa, like the alert settings: their payload
(`/answer_feedback{...}`) is not an intent of Rasa's domain, so adding them changed no model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import bot.clock
from bot.channel.handoff_gate import reply_messages
from bot.channel.inbox import ClaimedEvent
from bot.services.dialogue.context import BUTTON_SOURCES
from bot.services.dialogue.payloads import parse_payload
from bot.services.i18n import N_, _
from bot.services.insights import feedback, turns
from bot.services.replies import QR_HUMAN, QUICK_REPLY_LIMIT, Reply

log = logging.getLogger(__name__)

FAILED_TEXT = N_("Merci ! Je n'ai pas pu enregistrer votre avis pour le moment, mais vous pouvez continuer.")


class TurnInsights:
    def __init__(self, sessions: Callable[[], Session], clock: Callable[[], datetime] | None = None):
        self._sessions = sessions
        self.clock = clock or bot.clock.utcnow

    def after_answer(
        self,
        event: ClaimedEvent,
        source: str,
        language: str,
        reading: dict[str, Any] | None,
        declared: dict[str, Any] | None,
        messages: list[dict[str, Any]],
        local: bool = False,
        failed: bool = False,
    ) -> list[dict[str, Any]]:
        """Record the turn; returns the messages to send (with the rating question when asked)."""
        now = self.clock()
        question = (declared or {}).get("question")
        facts = turns.TurnFacts(
            psid=event.sender_id,
            at=now,
            language=language,
            source=source,
            text=event.text or "",
            reading=turns.Reading.from_json(reading),
            asked=question.get("kind") if isinstance(question, dict) else None,
            messages=messages,
            answer_ms=int((now - event.received_at).total_seconds() * 1000) if event.received_at else None,
            local=local,
            failed=failed,
        )
        try:
            with self._sessions() as session:
                row = turns.record(session, facts)
                ask = None if local or failed else feedback.ask(session, row, facts)
                session.commit()
        except Exception:
            log.exception("event %s: turn not recorded for the review queue and the dashboard", event.id)
            return messages
        return messages if ask is None else with_question(messages, reply_messages(ask))

    def reply_for(self, event: ClaimedEvent) -> Reply | None:
        """The thanks when the event is a tapped 👍 / 👎 (None: not a rating)."""
        if event.kind not in BUTTON_SOURCES:
            return None
        parsed = parse_payload(event.text)
        if parsed is None or parsed[0] != feedback.FEEDBACK_INTENT:
            return None
        values = parsed[1]
        try:
            turn_id = int(values.get("turn", 0))
            with self._sessions() as session:
                reply = feedback.rate(session, event.sender_id, turn_id, str(values.get("rating", "")), self.clock())
                session.commit()
                return reply
        except Exception:
            log.exception("event %s: rating not recorded", event.id)
            return Reply(text=_(FAILED_TEXT), quick_replies=[QR_HUMAN])


def with_question(messages: list[dict[str, Any]], question: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer, then the rating question. Messenger shows only the last message's chips, so the
    answer's own chips move under the question, after 👍 / 👎."""
    if not messages or not question:
        return messages + question
    last = dict(messages[-1])
    carried = last.pop("quick_replies", None) or []
    asked = dict(question[-1])
    chips = list(asked.get("quick_replies") or [])
    chips += [c for c in carried if c.get("payload") not in {q.get("payload") for q in chips}]
    asked["quick_replies"] = chips[:QUICK_REPLY_LIMIT]
    return [*messages[:-1], last, *question[:-1], asked]
