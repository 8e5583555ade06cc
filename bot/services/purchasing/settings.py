"""Purchase and payment settings: the typed view of the MOBILIS_* purchase variables
(bot/config/settings.py declares them).

A missing payment secret never stops the webhook from starting: card payments are simply refused
("momentanément indisponible") until configured, while IMD and TOP UP purchases keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot.config import SECRET_DEV_VALUES, Settings, get_settings

DEV_PAYMENT_SECRET = SECRET_DEV_VALUES["MOBILIS_PAYMENT_SECRET"]


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
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> PurchaseSettings:
        """The process's settings by default; `overrides` replace fields (tests)."""
        settings = settings or get_settings()
        view = cls(
            quote_ttl=timedelta(minutes=settings.quote_ttl_minutes),
            daily_count=settings.daily_purchase_count,
            daily_xpf=settings.daily_purchase_xpf,
            public_url=settings.public_url,
            dev_mode=settings.dev_mode,
            provider=settings.payment_provider,
            payment_secret=settings.payment_secret,
            payment_api_url=settings.payment_api_url,
            payment_api_key=settings.payment_api_key,
            payment_session_ttl=timedelta(minutes=settings.payment_session_minutes),
            notification_max_age=settings.payment_max_age_seconds,
        )
        return replace(view, **overrides) if overrides else view

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
