"""Purchase and payment settings, from environment variables with defaults.

Read here rather than in bot/config.py so that a missing payment secret never stops the webhook
from starting: card payments are simply refused ("momentanément indisponible") until configured,
while IMD and TOP UP purchases keep working.

    MOBILIS_QUOTE_TTL_MINUTES=10          a summary not confirmed within this time does nothing
    MOBILIS_DAILY_PURCHASE_COUNT=5        purchases per line and per day (Nouméa), pending included
    MOBILIS_DAILY_PURCHASE_XPF=20000      amount per line and per day
    MOBILIS_PAYMENT_PROVIDER=local|http   default: local in dev mode, http otherwise
    MOBILIS_PAYMENT_SECRET=...            HMAC key of provider notifications (dev default provided)
    MOBILIS_PAYMENT_API_URL=https://...   http provider: where payment sessions are created
    MOBILIS_PAYMENT_API_KEY=...           http provider: bearer token for that API
    MOBILIS_PAYMENT_SESSION_MINUTES=15    a payment link left unpaid expires after this
    MOBILIS_PAYMENT_MAX_AGE_SECONDS=300   older (or further in the future) notifications are refused
    PUBLIC_URL, MOBILIS_DEV_MODE          shared with bot/config.py
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot.config import SECRET_DEV_VALUES, dev_mode, secret

DEV_PAYMENT_SECRET = SECRET_DEV_VALUES["MOBILIS_PAYMENT_SECRET"]
PROVIDERS = ("local", "http")


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class PurchaseSettings:
    quote_ttl: timedelta = timedelta(minutes=10)
    daily_count: int = 5
    daily_xpf: int = 20000
    public_url: str = "http://127.0.0.1:8080"
    dev_mode: bool = False
    provider: str = "http"
    payment_secret: str = ""
    payment_api_url: str = ""
    payment_api_key: str = ""
    payment_session_ttl: timedelta = timedelta(minutes=15)
    notification_max_age: int = 300

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> PurchaseSettings:
        env = dict(os.environ if env is None else env)
        dev = dev_mode(env)
        provider = (env.get("MOBILIS_PAYMENT_PROVIDER") or ("local" if dev else "http")).strip().lower()
        if provider not in PROVIDERS:
            raise ValueError(f"MOBILIS_PAYMENT_PROVIDER must be one of {PROVIDERS}, got {provider!r}")
        settings = cls(
            quote_ttl=timedelta(minutes=_int(env, "MOBILIS_QUOTE_TTL_MINUTES", 10, 1)),
            daily_count=_int(env, "MOBILIS_DAILY_PURCHASE_COUNT", 5),
            daily_xpf=_int(env, "MOBILIS_DAILY_PURCHASE_XPF", 20000),
            public_url=(env.get("PUBLIC_URL") or "http://127.0.0.1:8080").rstrip("/"),
            dev_mode=dev,
            provider=provider,
            payment_secret=secret("MOBILIS_PAYMENT_SECRET", env, required=False),
            payment_api_url=(env.get("MOBILIS_PAYMENT_API_URL") or "").strip(),
            payment_api_key=secret("MOBILIS_PAYMENT_API_KEY", env, required=False),
            payment_session_ttl=timedelta(minutes=_int(env, "MOBILIS_PAYMENT_SESSION_MINUTES", 15, 1)),
            notification_max_age=_int(env, "MOBILIS_PAYMENT_MAX_AGE_SECONDS", 300, 1),
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def card_payment_problem(self) -> str | None:
        """Why card payments cannot work with this configuration (English, for logs), or None."""
        if not self.payment_secret:
            return "MOBILIS_PAYMENT_SECRET is not set"
        if self.provider == "local" and not self.dev_mode:
            # The local test page is only served in development mode: a link would lead nowhere.
            return "the local test payment provider needs MOBILIS_DEV_MODE=1"
        if self.provider == "http" and not self.payment_api_url:
            return "MOBILIS_PAYMENT_API_URL is not set"
        return None

    def payment_link(self, session_token: str) -> str:
        """The URL the Messenger button opens: our redirect to the provider's page."""
        return f"{self.public_url}/payments/pay/{session_token}"

    @property
    def notify_url(self) -> str:
        return f"{self.public_url}/payments/notify"
