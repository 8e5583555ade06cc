"""bot.clock: the one clock, and the one rule for naive datetimes (read as UTC, as stored)."""

from datetime import UTC, datetime, timedelta, timezone

from bot import clock
from bot.services.account import consultation, line_suspension
from bot.services.assistance import contact
from bot.services.identity import linking
from bot.services.purchasing import purchases


def test_now_is_aware_utc():
    now = clock.utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_naive_is_read_as_utc_and_other_zones_are_converted():
    assert clock.as_utc(datetime(2026, 12, 3, 10, 0)) == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    noumea = timezone(timedelta(hours=11))
    assert clock.as_utc(datetime(2026, 12, 3, 21, 0, tzinfo=noumea)) == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert clock.as_utc(datetime(2026, 12, 3, 21, 0, tzinfo=noumea)).tzinfo == UTC


def test_now_or_gives_the_instant_given_or_the_clock(monkeypatch):
    fixed = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    monkeypatch.setattr(clock, "utcnow", lambda: fixed)
    assert clock.now_or(None) == fixed
    assert clock.now_or(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


def test_services_have_no_clock_of_their_own():
    """Every service reads the time through bot.clock (no private `_now`/`utcnow` helper)."""
    for module in (consultation, line_suspension, contact, linking, purchases):
        assert not hasattr(module, "_now") and not hasattr(module, "utcnow"), module.__name__
