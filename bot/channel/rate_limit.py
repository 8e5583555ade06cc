"""Per-sender rate limit: a user (or a script behind one PSID) flooding the page must not flood Rasa.

Checked by the worker just before a message would go to Rasa, so over the limit the event is
still stored and marked done (nothing lost, visible in `inbound_events.error`), and the user gets
one polite message per window instead of an answer per message.

Uses the `limits` library (moving window). Storage: process memory, or Redis when REDIS_URL is set
so several webhook processes share the counts. If the storage fails, messages are let through:
a broken limiter must never silence the bot.

WEBHOOK_USER_RATE: "20/minute" (default), any `limits` notation ("100/hour", "5 per 10 seconds"),
a bare number (per minute), or "0"/"off" to disable.
"""

from __future__ import annotations

import logging

from limits import RateLimitItem, parse, storage, strategies

from bot.services.i18n import N_

log = logging.getLogger(__name__)
DEFAULT_RATE = "20/minute"

# French, read by the user instead of an answer while over the limit.
SLOW_DOWN_TEXT = N_("Vous envoyez beaucoup de messages… je traite les précédents, merci de patienter un instant.")


def parse_rate(value: str | None) -> RateLimitItem | None:
    value = (value or DEFAULT_RATE).strip().lower()
    if value in {"0", "off", "none", "false"}:
        return None
    if value.isdigit():
        value += "/minute"
    return parse(value)


class SenderRateLimiter:
    def __init__(self, rate: RateLimitItem, storage_uri: str = "memory://"):
        self.rate = rate
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        # One warning per window: over the limit, only the first refused message gets an answer.
        self._warn = parse(f"1 per {rate.multiples} {rate.GRANULARITY.name}")

    def allow(self, psid: str) -> bool:
        """Count one message from psid; False when it is over the limit."""
        try:
            return self._limiter.hit(self.rate, "msg", psid)
        except Exception:  # fail open (see module docstring
            log.exception("rate limiter unavailable; message let through")
            return True

    def should_warn(self, psid: str) -> bool:
        try:
            return self._limiter.hit(self._warn, "warn", psid)
        except Exception:
            return True


def limiter_for(user_rate: str, redis_url: str | None = None) -> SenderRateLimiter | None:
    """WEBHOOK_USER_RATE's limiter, shared between processes through Redis when there is one."""
    rate = parse_rate(user_rate)
    if rate is None:
        return None
    return SenderRateLimiter(rate, redis_url or "memory://")
