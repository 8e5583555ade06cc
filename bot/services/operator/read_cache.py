"""What the TM Forum adapter read from the operator a moment ago, per process.

A cached figure is only ever given back with the time it was read (the caller says so to the user)
and never where money moves: callers ask for a live read there, and forget a line's entry as soon as
anything is bought or suspended on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from bot.clock import utcnow
from bot.services.operator.port import Bucket, Offering

T = TypeVar("T")


class ReadCache(Generic[T]):
    """Answers read in the last `seconds` (0: nothing is kept), by key."""

    def __init__(self, seconds: float, clock: Callable[[], datetime] = utcnow) -> None:
        self.seconds = seconds
        self.clock = clock
        self._entries: dict[str, tuple[datetime, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[datetime, T] | None:
        """(when it was read, the answer), or None when there is none recent enough."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or (self.clock() - entry[0]).total_seconds() >= self.seconds:
            return None
        return entry

    def put(self, key: str, value: T) -> None:
        if self.seconds > 0:
            with self._lock:
                self._entries[key] = (self.clock(), value)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


BalanceCache = ReadCache[list[Bucket]]  # by line number (OPERATOR_BALANCE_CACHE_SECONDS)
CatalogueCache = ReadCache[list[Offering]]  # by plan family (OPERATOR_CATALOGUE_CACHE_SECONDS)
