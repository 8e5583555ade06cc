"""The one clock: aware UTC instants everywhere; New Caledonia time only to show them
(bot.services.fr_format).

Services take an optional `now` so tests and replays can fix the instant; `now_or(now)` gives that
instant, or the clock's. A naive datetime is read as UTC, which is how the database returns stored
times. Tests move every clock of a process at once with `monkeypatch.setattr(clock, "utcnow", ...)`,
so callers always look `utcnow` up on this module at call time.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC (as stored)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def now_or(moment: datetime | None) -> datetime:
    """The instant given (aware UTC), or now."""
    return utcnow() if moment is None else as_utc(moment)
