"""What happens to one accepted user event: typing indicator, Rasa turn, replies via Send API."""
from __future__ import annotations

import logging

from bot.channel import formatting, metrics
from bot.channel.graph import GraphClient, GraphError, RecipientUnavailable, TokenError
from bot.channel.handoff_gate import HandoffGate, reply_messages
from bot.channel.inbox import ClaimedEvent, Inbox
from bot.channel.logging_setup import correlation
from bot.channel.rasa_client import RasaClient, RasaUnavailable
from bot.channel.rate_limit import SLOW_DOWN_TEXT, SenderRateLimiter
from bot.db import messaging as m

log = logging.getLogger(__name__)

# French, read by users when Rasa cannot be reached.
APOLOGY_TEXT = (
    "Je rencontre un souci technique et ne peux pas vous répondre pour le moment. "
    "Réessayez dans quelques minutes ou appelez le 1000 (service client Mobilis)."
)


class EventProcessor:
    """Callable given to the Dispatcher: returns (final status, error text or None)."""

    def __init__(self, inbox: Inbox, rasa: RasaClient, graph: GraphClient, handoff: HandoffGate | None = None,
                 limiter: SenderRateLimiter | None = None):
        self.inbox, self.rasa, self.graph = inbox, rasa, graph
        self.handoff = handoff  # None when the hand-off tables do not exist
        self.limiter = limiter  # None: no per-sender limit

    def __call__(self, event: ClaimedEvent) -> tuple[str, str | None]:
        with correlation(f"ev{event.id}"):
            try:
                return self._handle(event)
            finally:
                metrics.turn_finished(event.id)

    def _handle(self, event: ClaimedEvent) -> tuple[str, str | None]:
        if self.handoff is None:
            return self._turn(event)
        # Hand-off: thread-control events and messages after a hand-off may end the turn here.
        step = self.handoff.before_turn(event)
        self._send_replies(event, step.replies)
        if step.stop:
            return m.DONE, None
        status, error = self._turn(event)
        if status == m.DONE and error is None:  # control passes only once the reply is out
            self._send_replies(event, self.handoff.after_turn(event.sender_id))
        return status, error

    def _send_replies(self, event: ClaimedEvent, replies) -> None:
        for reply in replies:
            for message in reply_messages(reply):
                self._send(event, _message(event.sender_id, message), best_effort=True)

    def _turn(self, event: ClaimedEvent) -> tuple[str, str | None]:
        if not event.text:
            return m.DONE, None
        psid = event.sender_id
        if self.limiter is not None and not self.limiter.allow(psid):
            metrics.RATE_LIMITED.inc()  # stored and marked done; only the first one is answered
            if self.limiter.should_warn(psid):
                self._send(event, _message(psid, {"text": SLOW_DOWN_TEXT}), best_effort=True)
            log.warning("event %s: sender over the rate limit, not sent to Rasa", event.id)
            return m.DONE, "rate limited: not sent to Rasa"
        self._send(event, {"recipient": {"id": psid}, "sender_action": "typing_on"}, best_effort=True)
        try:
            replies = self.rasa.send(psid, event.text)
        except RasaUnavailable as exc:
            log.error("event %s: Rasa unavailable (%s), apologising", event.id, exc)
            metrics.RASA_ERRORS.inc()
            self._send(event, _message(psid, {"text": APOLOGY_TEXT}), best_effort=True)
            return m.FAILED, f"rasa unavailable: {exc}"
        messages = formatting.messages_from_rasa(replies)
        if not messages:
            self._send(event, {"recipient": {"id": psid}, "sender_action": "typing_off"}, best_effort=True)
            return m.DONE, None
        for message in messages:
            try:
                self._send(event, _message(psid, message))
            except RecipientUnavailable:
                return m.DONE, "recipient unavailable: replies dropped"
            except GraphError as exc:
                # Stop here: sending the rest would show the user an answer with a hole in it.
                return m.FAILED, f"send failed: {exc}"
        return m.DONE, None

    def _send(self, event: ClaimedEvent, payload: dict, best_effort: bool = False) -> None:
        psid = payload["recipient"]["id"]
        try:
            result = self.graph.send_raw(payload)
        except GraphError as exc:
            metrics.send_failed(exc)
            status = "dropped" if isinstance(exc, RecipientUnavailable) else "failed"
            self._log(event, psid, payload, status, error=exc)
            if best_effort and not isinstance(exc, TokenError):
                log.warning("event %s: best-effort send failed: %s", event.id, exc)
                return
            raise
        metrics.sent(payload)
        self._log(event, psid, payload, "sent", message_id=result.message_id)

    def _log(self, event: ClaimedEvent, psid: str, payload: dict, status: str, **kwargs) -> None:
        try:
            self.inbox.log_outbound(event.id, psid, payload, status, **kwargs)
        except Exception:  # the trace is useful, never worth failing a reply for
            log.exception("could not log outbound message for event %s", event.id)


def _message(psid: str, message: dict) -> dict:
    # Every reply is an answer to the user's message, inside the 24-hour window.
    return {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message}
