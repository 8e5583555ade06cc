"""Rasa tracker chores that failed when they were due — erasing a user's conversation, masking a
one-time code they typed — written down and retried until done.

A user told "c'est effacé" must not keep a conversation in Rasa because Rasa was unreachable at
that moment. The chore keeps the PSID only for this and is dropped once done; it is retried at
every sweep with growing waits (1, 2, 4 … minutes, at most 6 hours). An erasure done late removes
what was said before it was asked: a conversation the user started since is theirs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.channel import metrics
from bot.channel.tracker_eraser import TrackerEraseError, TrackerEraser
from bot.clock import now_or
from bot.db.messaging import TrackerChore

log = logging.getLogger(__name__)

ERASE = "erase"
MASK = "mask"
FIRST_WAIT = timedelta(minutes=1)
MAX_WAIT = timedelta(hours=6)


def wait_after(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failed attempt, at most MAX_WAIT."""
    doubled: timedelta = FIRST_WAIT * (2 ** min(max(0, attempts - 1), 16))
    return min(MAX_WAIT, doubled)


class TrackerChores:
    def __init__(self, sessions: Callable[[], Session], eraser: TrackerEraser) -> None:
        self.sessions = sessions
        self.eraser = eraser

    def owe(self, psid: str, kind: str, now: datetime, error: str) -> None:
        """Write the chore down (a later erasure request moves its "before" forward)."""
        with self.sessions() as session:
            row = session.get(TrackerChore, (psid, kind))
            if row is None:
                session.add(
                    TrackerChore(
                        psid=psid,
                        kind=kind,
                        requested_at=now,
                        attempts=1,
                        next_try_at=now + wait_after(1),
                        last_error=error[:200],
                    )
                )
            else:
                row.requested_at, row.last_error = max(row.requested_at, now), error[:200]
            session.commit()
        log.warning("tracker %s owed for a user, retried at the next sweeps: %s", kind, error)

    def retry_due(self, now: datetime | None = None) -> int:
        """Do the chores whose time has come (for the sweep). Chores done."""
        now = now_or(now)
        with self.sessions() as session:
            due = [
                (row.psid, row.kind, row.requested_at, row.attempts)
                for row in session.scalars(select(TrackerChore).where(TrackerChore.next_try_at <= now))
            ]
        return sum(self._do(psid, kind, requested_at, attempts, now) for psid, kind, requested_at, attempts in due)

    def _do(self, psid: str, kind: str, requested_at: datetime, attempts: int, now: datetime) -> bool:
        try:
            if kind == ERASE:
                self.eraser.erase(psid, before=requested_at)
            else:
                self.eraser.mask_codes(psid)
        except TrackerEraseError as exc:
            with self.sessions() as session:
                row = session.get(TrackerChore, (psid, kind))
                if row is not None:
                    row.attempts, row.last_error = attempts + 1, str(exc)[:200]
                    row.next_try_at = now + wait_after(attempts + 1)
                    session.commit()
            if kind == ERASE:
                metrics.TRACKER_ERASE_FAILURES.inc()
            log.error("tracker %s still not done after %d attempts (%s): retried later", kind, attempts + 1, exc)
            return False
        with self.sessions() as session:
            # Only the request just honoured: a newer one (later "before") stays owed.
            session.execute(
                delete(TrackerChore).where(
                    TrackerChore.psid == psid, TrackerChore.kind == kind, TrackerChore.requested_at == requested_at
                )
            )
            session.commit()
        log.info("tracker %s done after %d attempts", kind, attempts + 1)
        return True
