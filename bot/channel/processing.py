"""What happens to one accepted user event: typing indicator, Rasa turn, replies via Send API.

Delivery rules: an accepted message is answered once, in order, or the user is told
once that it could not be processed.
- Rasa unreachable: a short apology the first time, then the event goes back to the queue with a
  growing delay and is answered when Rasa is back; past the retry window the user is told once.
- Rasa slow: a short "one moment" after a few seconds, then the answer when it comes.
- Rasa's answer is stored before the first bubble goes out and a cursor moves with each bubble, so
  a retry (after a crash, a Graph outage) sends what is left instead of playing the turn again.
  Each bubble carries `metadata` = "mobilis:<event>:<index>"; Meta echoes it back and the echo
  moves the cursor too, which covers a process killed between a send and its cursor commit.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot import clock
from bot.channel import formatting, metrics
from bot.channel.alert_settings import AlertSettingsGate, context_of
from bot.channel.conversation_language import LanguageKeeper, TurnLanguage, in_turn_language
from bot.channel.events import delivery_tag
from bot.channel.graph import (
    GraphClient,
    GraphError,
    OutsideWindow,
    RecipientUnavailable,
    TokenError,
    TransientGraphError,
)
from bot.channel.handoff_gate import HandoffGate, reply_messages
from bot.channel.inbox import ClaimedEvent, Inbox
from bot.channel.rasa_client import RasaClient, RasaUnavailable
from bot.channel.rate_limit import SLOW_DOWN_TEXT, SenderRateLimiter
from bot.channel.tracker_chores import ERASE, MASK, TrackerChores
from bot.channel.tracker_eraser import TrackerEraseError, TrackerEraser
from bot.channel.turn_insights import TurnInsights
from bot.config import Settings
from bot.db import messaging as m
from bot.logmask import codes_in, correlation
from bot.services.dialogue import context as dialogue
from bot.services.i18n import FRENCH, N_, _, speaking
from bot.services.replies import Reply

log = logging.getLogger(__name__)

# Messenger event kinds (bot.channel.events) → where the message came from, for the actions.
SOURCES = {
    "text": dialogue.TYPED,
    "quick_reply": dialogue.QUICK_REPLY,
    "postback": dialogue.POSTBACK,
    "attachment": dialogue.ATTACHMENT,
}

# French, read by users.
APOLOGY_TEXT = N_(
    "Désolé, je rencontre un souci technique. Votre message est bien reçu : je vous réponds dès que "
    "possible. Pour une urgence, appelez le 1000 (service client Mobilis)."
)
SLOW_TEXT = N_("Un instant s'il vous plaît, je traite votre demande…")
# Rasa answered nothing: most often an action failed (action server down or erroring), which
# Rasa only logs. The user must not be left without an answer.
NO_ANSWER_TEXT = N_(
    "Désolé, je n'ai pas pu répondre à votre message. Réessayez dans un instant ; si le problème "
    "continue, appelez le 1000 (service client Mobilis) ou passez en agence."
)
GAVE_UP_TEXT = N_(
    "Désolé, je n'ai pas pu traiter votre message{quoted} à cause d'un souci technique. "
    "Pouvez-vous le renvoyer ? Si le problème continue, appelez le 1000 (service client Mobilis) "
    "ou passez en agence."
)


@dataclass(frozen=True)
class RetryPolicy:
    """When Rasa (or the Send API) is down: retry delays, give-up window, slow-answer notice."""

    first_delay: float = 5.0  # seconds before the 2nd attempt; doubles each time
    max_delay: float = 60.0
    window: float = 15 * 60.0  # after this long since reception, give up and tell the user
    slow_notice: float | None = 4.0  # seconds of waiting for Rasa before "un instant…"; None: never

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            first_delay=settings.webhook_retry_first_seconds,
            max_delay=settings.webhook_retry_max_seconds,
            window=settings.webhook_retry_window_seconds,
            slow_notice=settings.webhook_slow_notice_seconds or None,
        )

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay))


class EventProcessor:
    """Callable given to the Dispatcher: returns (final status, error text or None)."""

    def __init__(
        self,
        inbox: Inbox,
        rasa: RasaClient,
        graph: GraphClient,
        handoff: HandoffGate | None = None,
        limiter: SenderRateLimiter | None = None,
        retry: RetryPolicy | None = None,
        tracker_eraser: TrackerEraser | None = None,
        tracker_chores: TrackerChores | None = None,
        alert_settings: AlertSettingsGate | None = None,
        languages: LanguageKeeper | None = None,
        rasa_by_language: dict[str, RasaClient] | None = None,
        insights: TurnInsights | None = None,
    ):
        self.inbox, self.rasa, self.graph = inbox, rasa, graph
        self.tracker_eraser = tracker_eraser  # None: nothing to erase in Rasa (tests' stand-ins)
        self.tracker_chores = tracker_chores  # where a failed erase or mask is kept until done
        self.handoff = handoff  # None when the hand-off tables do not exist
        self.limiter = limiter  # None: no per-sender limit
        self.alert_settings = alert_settings  # None: alert buttons are not answered here (bare test set-ups)
        self.languages = languages  # None: everyone in French
        self.insights = insights  # None: turns are not recorded (bare test set-ups)
        self.rasa_by_language = {FRENCH: rasa, **(rasa_by_language or {})}
        self.retry = retry or RetryPolicy()
        self._side = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mobilis-typing")

    def __call__(self, event: ClaimedEvent) -> tuple[str, str | None]:
        with correlation(f"ev{event.id}"):
            try:
                return self._handle(event)
            finally:
                metrics.turn_finished(event.id)

    def _handle(self, event: ClaimedEvent) -> tuple[str, str | None]:
        if self.handoff is None or event.replies_json is not None:
            return self._turn(event)  # a stored answer: the gate already let this turn through
        # Hand-off: thread-control events and messages after a hand-off may end the turn here.
        kept = self.languages.kept(event.sender_id) if self.languages is not None else FRENCH
        with speaking(kept):
            step = self.handoff.before_turn(event)
            self._send_replies(event, step.replies)
        if step.stop:
            return m.DONE, None
        status, error = self._turn(event)
        if status == m.DONE and error is None:  # control passes only once the reply is out
            with speaking(self.languages.kept(event.sender_id) if self.languages is not None else FRENCH):
                self._send_replies(event, self.handoff.after_turn(event.sender_id))
        return status, error

    def _send_replies(self, event: ClaimedEvent, replies: Iterable[Reply]) -> None:
        for reply in replies:
            for message in reply_messages(reply):
                self._send(event, _message(event.sender_id, message), best_effort=True)

    def _turn(self, event: ClaimedEvent) -> tuple[str, str | None]:
        if not event.text:
            return m.DONE, None
        if event.replies_json is not None:
            return self._deliver(event, json.loads(event.replies_json))
        turn = self.languages.for_turn(event) if self.languages is not None else TurnLanguage(FRENCH)
        with speaking(turn.language):
            return self._answer(event, turn)

    def _answer(self, event: ClaimedEvent, turn: TurnLanguage) -> tuple[str, str | None]:
        psid = event.sender_id
        if self.limiter is not None and event.attempts == 1 and not self.limiter.allow(psid):
            metrics.RATE_LIMITED.inc()  # stored and marked done; only the first one is answered
            if self.limiter.should_warn(psid):
                self._send(event, _message(psid, {"text": _(SLOW_DOWN_TEXT)}), best_effort=True)
            log.warning("event %s: sender over the rate limit, not sent to Rasa", event.id)
            return m.DONE, "rate limited: not sent to Rasa"
        if turn.answer is not None:  # the message only asked for a language
            return self._answer_here(event, turn.answer, turn.language)
        if self.alert_settings is not None and (local := self.alert_settings.reply_for(event)) is not None:
            return self._answer_here(event, local, turn.language)
        if self.insights is not None and (local := self.insights.reply_for(event)) is not None:
            return self._answer_here(event, local, turn.language)
        # The typing indicator goes out while Rasa thinks (off the answer's critical path); it is
        # waited for before anything else is sent, so it never lands after the answer.
        typing = self._side.submit(
            contextvars.copy_context().run,
            self._send,
            event,  # keeps the log's correlation id
            {"recipient": {"id": psid}, "sender_action": "typing_on"},
            best_effort=True,
        )
        told_to_wait = threading.Event()
        try:
            replies = self._ask_rasa(event, told_to_wait, turn.language)
        except RasaUnavailable as exc:
            metrics.RASA_ERRORS.inc()
            if told_to_wait.is_set():
                event = replace(event, apologised=True)
            _settle(typing)
            return self._retry_or_give_up(event, f"rasa unavailable: {exc}")
        _settle(typing)
        forget = formatting.asks_to_forget(replies)
        replies, context = formatting.split_context(replies)
        replies, reading = formatting.split_reading(replies)
        messages = formatting.messages_from_rasa(replies)
        failed = not messages
        if failed:
            log.error("event %s: Rasa gave no answer (failed action?), sending the fallback", event.id)
            messages = [{"text": _(NO_ANSWER_TEXT)}]
        if turn.language != FRENCH:
            messages = [in_turn_language(message) for message in messages]
        if turn.notice is not None:  # the language just changed: say so first
            messages = reply_messages(turn.notice) + messages
        if self.insights is not None and not forget:  # an erasure turn leaves no trace
            source = SOURCES.get(event.kind, dialogue.TYPED)
            messages = self.insights.after_answer(
                event, source, turn.language, reading, context, messages, failed=failed
            )
        self.inbox.save_replies(event.id, json.dumps(messages, ensure_ascii=False), psid, context)
        if codes_in(event.text or "") and not forget:
            self._mask_tracker_codes(event)
        if not forget:
            return self._deliver(event, messages)
        self._forget_tracker(event)
        outcome = self._deliver(event, messages)
        if outcome[0] != m.PENDING:  # a delivery retried later still needs to know the recipient
            self.inbox.forget_turn(event.id, psid)
        return outcome

    def _answer_here(self, event: ClaimedEvent, reply: Reply, language: str) -> tuple[str, str | None]:
        """A turn answered by the webhook itself: stored then delivered like Rasa's answers."""
        messages = reply_messages(reply)
        if self.insights is not None:
            source = SOURCES.get(event.kind, dialogue.TYPED)
            messages = self.insights.after_answer(event, source, language, None, None, messages, local=True)
        self.inbox.save_replies(event.id, json.dumps(messages, ensure_ascii=False), event.sender_id, context_of(reply))
        return self._deliver(event, messages)

    def lock_unavailable(self, event: ClaimedEvent) -> tuple[str, str | None]:
        """The shared sender locks (Redis) cannot be reached: nothing may run this turn now, but
        the user hears from us (the apology once, the give-up message at the end of the window)."""
        with correlation(f"ev{event.id}"):
            return self._retry_or_give_up(event, "sender locks unavailable (Redis)")

    def _mask_tracker_codes(self, event: ClaimedEvent) -> None:
        """The message held a one-time code: Rasa has read and saved it; mask it there too."""
        if self.tracker_eraser is None:
            return
        try:
            self.tracker_eraser.mask_codes(event.sender_id)
        except TrackerEraseError as exc:
            log.error("event %s: code NOT masked in Rasa's tracker yet (%s)", event.id, exc)
            if self.tracker_chores is not None:
                self.tracker_chores.owe(event.sender_id, MASK, clock.utcnow(), str(exc))

    def _forget_tracker(self, event: ClaimedEvent) -> None:
        """The user's data were just erased: Rasa's copy of the conversation goes too, now that
        Rasa has saved this turn (bot/channel/tracker_eraser.py)."""
        if self.tracker_eraser is None:
            return
        try:
            self.tracker_eraser.erase(event.sender_id)
            log.info("event %s: Rasa tracker erased", event.id)
        except TrackerEraseError as exc:
            metrics.TRACKER_ERASE_FAILURES.inc()
            if self.tracker_chores is None:
                log.error("event %s: Rasa tracker NOT erased (%s): erase it by hand (README, Privacy)", event.id, exc)
                return
            log.error("event %s: Rasa tracker not erased yet (%s): retried at the next sweeps", event.id, exc)
            self.tracker_chores.owe(event.sender_id, ERASE, clock.utcnow(), str(exc))

    def _ask_rasa(self, event: ClaimedEvent, told_to_wait: threading.Event, language: str) -> list[dict[str, Any]]:
        """Rasa's replies; if they take long, the user hears from us meanwhile (once per event)."""
        notice = None
        if self.retry.slow_notice is not None and not event.apologised:
            # The timer's thread gets this turn's context (its language, its log correlation).
            context = contextvars.copy_context()
            notice = threading.Timer(self.retry.slow_notice, context.run, args=(self._slow_notice, event, told_to_wait))
            notice.daemon = True
            notice.start()
        try:
            rasa = self.rasa_by_language.get(language, self.rasa)
            return rasa.send(event.sender_id, rasa_text(event), self._metadata(event, language))
        finally:
            if notice is not None:
                notice.cancel()
                notice.join()  # a notice being sent goes out before the answer, never after

    def _metadata(self, event: ClaimedEvent, language: str) -> dict[str, Any]:
        """Where the message comes from and the conversation so far, for the NLU's context step
        (nlu/components/context_resolver.py) and the actions (docs/contracts.md)."""
        source = SOURCES.get(event.kind, dialogue.TYPED)
        metadata: dict[str, Any] = {dialogue.META_SOURCE: source, dialogue.META_TURN: str(event.id)}
        if language != FRENCH:  # absent: French, as before languages existed
            metadata[dialogue.META_LANGUAGE] = language
        context = self.inbox.dialogue_context(event.sender_id)
        if context:
            metadata[dialogue.META_CONTEXT] = context
        recent = self.inbox.recent_texts(event.sender_id, event.id) if source == dialogue.TYPED else []
        if recent:
            metadata[dialogue.META_RECENT] = recent
        return metadata

    def _slow_notice(self, event: ClaimedEvent, told_to_wait: threading.Event) -> None:
        with correlation(f"ev{event.id}"):
            log.warning("event %s: Rasa slow, telling the user to wait", event.id)
            self._send(event, _message(event.sender_id, {"text": _(SLOW_TEXT)}), best_effort=True)
            told_to_wait.set()
            self.inbox.retry_later(event.id, not_before=None, apologised=True)

    def _deliver(self, event: ClaimedEvent, messages: list[dict[str, Any]]) -> tuple[str, str | None]:
        psid = event.sender_id
        for index in range(event.replies_sent, len(messages)):
            try:
                bubble = dict(messages[index], metadata=delivery_tag(event.id, index))
                self._send(event, _message(psid, bubble), replies_sent=index + 1)
            except RecipientUnavailable:  # blocked the page or left Messenger
                return m.DONE, "recipient unavailable: replies dropped"
            except OutsideWindow:  # answer delayed past 24 h by an outage: not allowed any more
                log.warning("event %s: outside the 24-hour window, replies dropped", event.id)
                return m.DONE, "outside the 24-hour window: replies dropped"
            except TransientGraphError as exc:
                return self._retry_or_give_up(event, f"send failed: {exc}", tell_user=False)
            except GraphError as exc:
                # Stop here: sending the rest would show the user an answer with a hole in it.
                return m.FAILED, f"send failed: {exc}"
        return m.DONE, None

    def _retry_or_give_up(self, event: ClaimedEvent, reason: str, tell_user: bool = True) -> tuple[str, str | None]:
        psid = event.sender_id
        waited = (clock.utcnow() - event.received_at).total_seconds() if event.received_at else 0.0
        if waited >= self.retry.window:
            log.error("event %s: giving up after %d attempt(s): %s", event.id, event.attempts, reason)
            if tell_user:
                self._send(event, _message(psid, {"text": gave_up_text(event.text)}), best_effort=True)
            return m.FAILED, f"gave up: {reason}"
        if tell_user and not event.apologised:
            self._send(event, _message(psid, {"text": _(APOLOGY_TEXT)}), best_effort=True)
        delay = self.retry.delay(event.attempts)
        log.error("event %s: %s; attempt %d, next in %.0f s", event.id, reason, event.attempts, delay.total_seconds())
        self.inbox.retry_later(event.id, not_before=clock.utcnow() + delay, apologised=event.apologised or tell_user)
        return m.PENDING, reason

    def _send(
        self, event: ClaimedEvent, payload: dict[str, Any], best_effort: bool = False, replies_sent: int | None = None
    ) -> None:
        psid = payload["recipient"]["id"]
        try:
            result = self.graph.send_raw(payload)
        except GraphError as exc:
            metrics.send_failed(exc)
            status = "dropped" if isinstance(exc, (RecipientUnavailable, OutsideWindow)) else "failed"
            self._log(event, psid, payload, status, error=exc)
            if best_effort and not isinstance(exc, TokenError):
                log.warning("event %s: best-effort send failed: %s", event.id, exc)
                return
            raise
        metrics.sent(payload)
        if "sender_action" in payload:
            return  # a delivered typing indicator is not worth a database write on every turn
        self._log(event, psid, payload, "sent", message_id=result.message_id, replies_sent=replies_sent)

    def _log(
        self,
        event: ClaimedEvent,
        psid: str,
        payload: dict[str, Any],
        status: str,
        replies_sent: int | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self.inbox.log_outbound(event.id, psid, payload, status, replies_sent=replies_sent, **kwargs)
        except Exception:
            if replies_sent is not None:
                raise  # the cursor must move, or a retry would send this bubble again
            log.exception("could not log outbound message for event %s", event.id)


def _settle(future: Future[None]) -> None:
    try:
        future.result()
    except GraphError as exc:  # a token error: already logged and counted by _send
        log.error("typing indicator failed: %s", exc)


def rasa_text(event: ClaimedEvent) -> str:
    """What Rasa reads. A typed "/confirm_purchase" must not work like the button: only real
    quick replies and postbacks reach Rasa as `/intent` payloads, typed text loses its slashes."""
    text = event.text or ""
    if event.kind != "text":
        return text
    stripped = text.lstrip().lstrip("/").strip()
    return stripped or "?"


def gave_up_text(text: str | None) -> str:
    typed = (text or "").strip()
    shown = f"{typed[:60]}{'…' if len(typed) > 60 else ''}"
    quoted = "" if not typed or typed.startswith("/") else " " + _("« {message} »").format(message=shown)
    return _(GAVE_UP_TEXT).format(quoted=quoted)


def _message(psid: str, message: dict[str, Any]) -> dict[str, Any]:
    # Every reply is an answer to the user's message, inside the 24-hour window.
    return {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message}
