"""Hand-off to a human agent (the page's Messenger inbox), in plain Python.

During the 1000's hours the thread passes to the Page Inbox (thread control) with a summary for
the agent; outside them the request is kept (status waiting_hours), the user may leave one
message and is told when agents are back; the channel passes those requests at opening time.
While the inbox owns a thread the bot says nothing; when control comes back it greets again.

Ordering matters: an app that gave the thread away may no longer send to it, so the reply telling
the user an agent will answer must go out BEFORE control is passed. Hence `graph=None` (what a
conversation action passes): the escalation is marked `pass_pending` and the channel passes
control right after sending this turn's replies (`complete_pending_pass`).

The caller owns the transaction (commit after these functions return).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.clock import as_utc, now_or
from bot.db import handoff as h
from bot.db.base import changed_rows
from bot.db.messaging import InboundEvent
from bot.services.assistance.contact import is_1000_open
from bot.services.handoff import texts
from bot.services.handoff import transcript as handoff_transcript
from bot.services.i18n import FRENCH, current_language
from bot.services.identity.linking import get_linked_line
from bot.services.identity.phone import mask_number
from bot.services.language import preference
from bot.services.replies import Reply

log = logging.getLogger(__name__)

AWAIT_MESSAGE_FOR = timedelta(minutes=30)  # out of hours, the next free text is the message left
USER_MESSAGE_LIMIT = 2000
DEFAULT_IDLE = timedelta(minutes=120)
# Messenger: a human agent may answer with the HUMAN_AGENT tag up to 7 days after the user's last
# message (24 h for automated replies). Kinds that are the user writing, not thread-control events.
HUMAN_AGENT_WINDOW = timedelta(days=7)
USER_MESSAGE_KINDS = ("text", "quick_reply", "postback", "attachment")


class ThreadControlError(RuntimeError):
    """The thread-control call was refused or could not be made."""


class ThreadControlPort(Protocol):
    """Messenger thread control, as the channel provides it (bot/channel/thread_control.py)."""

    def pass_thread_control(self, psid: str, metadata: str) -> None:
        """Give the thread to the Page Inbox with `metadata` (≤ 1000 chars); ThreadControlError."""

    def take_thread_control(self, psid: str, metadata: str) -> None:
        """Take the thread back for the bot; ThreadControlError."""


# ---------------------------------------------------------------- asking for a human


def request_handoff(
    session: Session,
    psid: str,
    reason: str,
    last_intents: Iterable[str] | None = None,
    now: datetime | None = None,
    graph: ThreadControlPort | None = None,
) -> Reply:
    """Record the escalation and hand the thread over (in hours) or keep it for the agents.

    `graph=None`: the pass is left to the channel, after the returned Reply is sent (see module
    docstring). With a port, control is passed at once. Returns what to tell the user.
    """
    if reason not in h.REASONS:
        raise ValueError(f"unknown hand-off reason {reason!r}")
    now = now_or(now)
    open_now = is_1000_open(now)
    escalation = active_escalation(session, psid)
    if escalation is not None and not (escalation.status == h.WAITING_HOURS and open_now):
        return _already(session, escalation, now)
    if escalation is None:
        escalation = _new_escalation(session, psid, reason, last_intents, now)
    if not open_now:
        escalation.status = h.WAITING_HOURS
        state = _state(session, psid, now)
        state.awaiting_message_until = now + AWAIT_MESSAGE_FOR
        state.escalation_id = escalation.id
        return texts.out_of_hours_reply(reason, now)
    escalation.status = h.OPEN
    escalation.summary = texts.summary(escalation, _language(session, escalation.psid))
    if graph is None:
        escalation.pass_pending = True
    elif not _pass(session, escalation, graph, now):
        return texts.pass_failed_reply()
    return texts.passed_reply(reason)


def complete_pending_pass(
    session: Session, psid: str, graph: ThreadControlPort, now: datetime | None = None
) -> Reply | None:
    """The channel, after sending a turn's replies: pass control if that turn asked for it.

    Returns a Reply only when the pass failed (the user must not wait for nobody)."""
    escalation = session.scalar(
        select(h.Escalation).where(
            h.Escalation.psid == psid, h.Escalation.status == h.OPEN, h.Escalation.pass_pending.is_(True)
        )
    )
    if escalation is None:
        return None
    return None if _pass(session, escalation, graph, now_or(now)) else texts.pass_failed_reply()


def leave_message(session: Session, psid: str, text: str, now: datetime | None = None) -> Reply | None:
    """Out of hours: keep the user's message for the agents. None when no message is expected."""
    now = now_or(now)
    state = session.get(h.ThreadState, psid)
    if state is None or state.awaiting_message_until is None or state.awaiting_message_until <= now:
        return None
    state.awaiting_message_until = None
    escalation = active_escalation(session, psid)
    if escalation is None or escalation.status != h.WAITING_HOURS:
        return None
    joined = "\n".join(filter(None, [escalation.user_message, (text or "").strip()]))
    escalation.user_message = joined[:USER_MESSAGE_LIMIT]
    escalation.summary = texts.summary(escalation, _language(session, escalation.psid))
    return texts.message_left_reply(now)


def expects_message(session: Session, psid: str, now: datetime | None = None) -> bool:
    state = session.get(h.ThreadState, psid)
    return bool(state and state.awaiting_message_until and state.awaiting_message_until > now_or(now))


def cancel_expected_message(session: Session, psid: str) -> None:
    """The user chose something else (a button): their next text goes to the bot again."""
    state = session.get(h.ThreadState, psid)
    if state is not None:
        state.awaiting_message_until = None


# ---------------------------------------------------------------- who answers


def is_bot_silenced(session: Session, psid: str) -> bool:
    """True while the human inbox owns the thread: send nothing to this user."""
    return thread_owner(session, psid) == h.INBOX


def thread_owner(session: Session, psid: str) -> str:
    state = session.get(h.ThreadState, psid)
    return state.owner if state is not None else h.BOT


def on_control_returned(
    session: Session, psid: str, now: datetime | None = None, cause: str = "returned"
) -> Reply | None:
    """Control is ours again (pass back, release, or a message on `messaging`): close the
    escalation and greet. None when we never lost the thread (nothing to say)."""
    now = now_or(now)
    state = session.get(h.ThreadState, psid)
    escalations = _held(session, psid)
    if (state is None or state.owner != h.INBOX) and not escalations:
        return None
    for escalation in escalations:
        _close(escalation, now, cause)
    state = _state(session, psid, now)
    state.owner, state.since, state.escalation_id, state.pending_greeting = h.BOT, now, None, None
    return texts.welcome_back_reply()


def on_taken_by_inbox(session: Session, psid: str, now: datetime | None = None) -> None:
    """An agent took the thread from the Page Inbox on their own: stay silent from now on."""
    now = now_or(now)
    state = _state(session, psid, now)
    state.owner, state.since, state.awaiting_message_until = h.INBOX, now, None
    escalation = active_escalation(session, psid)
    if escalation is not None:
        _mark_with_agent(escalation, state, now)


def pending_greeting(session: Session, psid: str) -> Reply | None:
    """The greeting owed after a silent return (inactivity), once; None if none is owed."""
    state = session.get(h.ThreadState, psid)
    if state is None or not state.pending_greeting:
        return None
    state.pending_greeting = None
    return texts.welcome_back_after_timeout_reply()


def on_inactivity_timeout(
    session: Session,
    now: datetime | None = None,
    idle_after: timedelta = DEFAULT_IDLE,
    graph: ThreadControlPort | None = None,
) -> list[str]:
    """Take back threads idle for `idle_after` (no user, agent or hand-off activity).

    No message is sent then (the user may be outside the 24-hour window): the greeting waits for
    the user's next message (`pending_greeting`). Returns the PSIDs taken back.
    """
    now = now_or(now)
    taken: list[str] = []
    rows = session.scalars(select(h.Escalation).where(h.Escalation.status.in_((h.OPEN, h.WITH_AGENT))))
    for escalation in list(rows):
        if last_activity(session, escalation) > now - idle_after:
            continue
        held = escalation.status == h.WITH_AGENT
        if held and graph is not None:
            try:
                graph.take_thread_control(escalation.psid, "Reprise par l'assistant après inactivité")
            except ThreadControlError as exc:  # the inbox may have released it already
                log.warning("escalation %s: take_thread_control failed: %s", escalation.id, exc)
        _close(escalation, now, "inactivity" if held else "expired")
        state = _state(session, escalation.psid, now)
        if held:
            state.owner, state.since, state.escalation_id, state.pending_greeting = h.BOT, now, None, "timeout"
        taken.append(escalation.psid)
    return taken


def pass_waiting_at_opening(session: Session, graph: ThreadControlPort, now: datetime | None = None) -> list[str]:
    """When agents are back, requests made out of hours go to the inbox (once each)."""
    now = now_or(now)
    if not is_1000_open(now):
        return []
    passed = []
    for escalation in list(session.scalars(select(h.Escalation).where(h.Escalation.status == h.WAITING_HOURS))):
        escalation.summary = texts.summary(escalation, _language(session, escalation.psid))
        escalation.status = h.OPEN  # a failed pass is not retried: it expires like any open one
        if _pass(session, escalation, graph, now):
            passed.append(escalation.psid)
    return passed


# ---------------------------------------------------------------- agents' side


def record_agent_message(session: Session, psid: str, text: str, now: datetime | None = None) -> h.EscalationMessage:
    """An agent wrote to the user: the escalation is now with an agent (the inbox owns the thread)."""
    now = now_or(now)
    escalation = active_escalation(session, psid)
    if escalation is None:
        raise LookupError("no open escalation for this user")
    state = _state(session, psid, now)
    state.owner, state.awaiting_message_until = h.INBOX, None
    _mark_with_agent(escalation, state, now)
    message = h.EscalationMessage(escalation_id=escalation.id, psid=psid, author="agent", text=text, created_at=now)
    session.add(message)
    session.flush()
    return message


def last_user_message_at(session: Session, psid: str) -> datetime | None:
    """When the user last wrote (messaging or standby): Messenger's reply windows start there."""
    moment = session.scalar(
        select(func.max(InboundEvent.received_at)).where(
            InboundEvent.sender_id == psid, InboundEvent.kind.in_(USER_MESSAGE_KINDS)
        )
    )
    return as_utc(moment) if moment is not None else None


def agent_window_closed(session: Session, psid: str, now: datetime | None = None) -> bool:
    """True when even the HUMAN_AGENT tag (7 days) can no longer reach the user. Unknown (no
    message kept, e.g. purged) counts as open: Facebook decides and says so (OutsideWindow)."""
    last = last_user_message_at(session, psid)
    return last is not None and now_or(now) - last > HUMAN_AGENT_WINDOW


def record_agent_send_failure(session: Session, psid: str, reason: str, now: datetime | None = None) -> str:
    """An agent's reply could not be delivered: kept on the escalation (the panel shows
    `last_error`), in French. Returns the text the agent is shown."""
    text = texts.agent_send_failed(reason, now_or(now))
    escalation = active_escalation(session, psid)
    if escalation is not None:
        escalation.last_error = text[:255]
    log.warning("agent reply to an escalation not delivered (%s)", reason)
    return text


def list_open_escalations(session: Session) -> list[h.Escalation]:
    return list(
        session.scalars(
            select(h.Escalation)
            .where(h.Escalation.status.in_(h.ACTIVE_STATUSES))
            .order_by(h.Escalation.created_at, h.Escalation.id)
        )
    )


def active_escalation(session: Session, psid: str) -> h.Escalation | None:
    return session.scalar(
        select(h.Escalation)
        .where(h.Escalation.psid == psid, h.Escalation.status.in_(h.ACTIVE_STATUSES))
        .order_by(h.Escalation.id.desc())
    )


def escalation_view(escalation: h.Escalation) -> dict[str, Any]:
    """JSON-ready, for the agents' panel (no full phone number is ever stored)."""
    return {
        "id": escalation.id,
        "psid": escalation.psid,
        "reason": escalation.reason,
        "reason_label": texts.REASON_LABELS.get(escalation.reason, escalation.reason),
        "status": escalation.status,
        "summary": escalation.summary,
        "line": escalation.line_masked,
        "last_intents": [i for i in (escalation.last_intents or "").split(", ") if i],
        "user_message": escalation.user_message,
        "last_error": escalation.last_error,
        "created_at": _iso(escalation.created_at),
        "taken_at": _iso(escalation.taken_at),
        "closed_at": _iso(escalation.closed_at),
        "closed_by": escalation.closed_by,
    }


def transcript(session: Session, psid: str, limit: int = 40) -> list[dict[str, Any]]:
    """The user's recent conversation, oldest first: user, bot and agent lines."""
    return handoff_transcript.transcript(session, psid, limit)


def last_activity(session: Session, escalation: h.Escalation) -> datetime:
    moments: list[datetime | None] = [escalation.taken_at or escalation.created_at]
    moments.append(
        session.scalar(select(func.max(InboundEvent.received_at)).where(InboundEvent.sender_id == escalation.psid))
    )
    moments.append(
        session.scalar(
            select(func.max(h.EscalationMessage.created_at)).where(h.EscalationMessage.escalation_id == escalation.id)
        )
    )
    return max(as_utc(m) for m in moments if m is not None)


def purge_closed(session: Session, before: datetime) -> int:
    """Privacy: closed escalations (and agents' messages) older than `before` are deleted."""
    old = (h.Escalation.status == h.CLOSED, h.Escalation.closed_at < before)
    ids = list(session.scalars(select(h.Escalation.id).where(*old)))
    if not ids:
        return 0
    session.execute(delete(h.EscalationMessage).where(h.EscalationMessage.escalation_id.in_(ids)))
    return changed_rows(session.execute(delete(h.Escalation).where(h.Escalation.id.in_(ids))))


# ---------------------------------------------------------------- internals


def _new_escalation(
    session: Session, psid: str, reason: str, last_intents: Iterable[str] | None, now: datetime
) -> h.Escalation:
    line = get_linked_line(session, psid)  # the only way to find the user's line
    escalation = h.Escalation(
        psid=psid,
        reason=reason,
        status=h.OPEN,
        line_masked=mask_number(line.msisdn) if line else None,
        last_intents=", ".join(texts.clean_intents(last_intents)),
        summary="",
        pass_pending=False,
        created_at=now,
    )
    session.add(escalation)
    session.flush()  # the id goes into the summary
    escalation.summary = texts.summary(escalation, _language(session, escalation.psid))
    return escalation


def _already(session: Session, escalation: h.Escalation, now: datetime) -> Reply:
    if escalation.status != h.WAITING_HOURS:
        return texts.already_with_agent_reply()
    if not escalation.user_message:
        _state(session, escalation.psid, now).awaiting_message_until = now + AWAIT_MESSAGE_FOR
    return texts.already_waiting_reply(now)


def _pass(session: Session, escalation: h.Escalation, graph: ThreadControlPort, now: datetime) -> bool:
    escalation.pass_pending = False
    try:
        graph.pass_thread_control(escalation.psid, escalation.summary)
    except ThreadControlError as exc:
        log.error("escalation %s: pass_thread_control failed: %s", escalation.id, exc)
        escalation.last_error = str(exc)[:255]
        return False
    state = _state(session, escalation.psid, now)
    state.owner, state.since, state.awaiting_message_until, state.pending_greeting = h.INBOX, now, None, None
    _mark_with_agent(escalation, state, now)
    return True


def _mark_with_agent(escalation: h.Escalation, state: h.ThreadState, now: datetime) -> None:
    if escalation.status != h.WITH_AGENT:
        escalation.status, escalation.taken_at = h.WITH_AGENT, now
    escalation.pass_pending, escalation.last_error = False, None
    state.escalation_id = escalation.id


def _held(session: Session, psid: str) -> list[h.Escalation]:
    return list(
        session.scalars(
            select(h.Escalation).where(h.Escalation.psid == psid, h.Escalation.status.in_((h.OPEN, h.WITH_AGENT)))
        )
    )


def _close(escalation: h.Escalation, now: datetime, cause: str) -> None:
    escalation.status, escalation.closed_at, escalation.closed_by = h.CLOSED, now, cause
    escalation.pass_pending = False


def _state(session: Session, psid: str, now: datetime) -> h.ThreadState:
    state = session.get(h.ThreadState, psid)
    if state is None:
        state = h.ThreadState(psid=psid, owner=h.BOT, since=now)
        session.add(state)
    return state


def _language(session: Session, psid: str) -> str:
    """The conversation's language, for the agent's summary: the turn's when it is not French,
    else the one remembered for the user (requests passed at opening time are outside any turn)."""
    spoken = current_language()
    return spoken if spoken != FRENCH else preference.current(session, psid)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
