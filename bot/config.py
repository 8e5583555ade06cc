"""Settings read from the environment (documented in .env.example).

Development mode (MOBILIS_DEV_MODE=1) gives harmless defaults for the secrets so the local
simulator works without a Facebook account; outside it, every secret must be set to a real value:
a development value is refused at start-up (`check_secrets`) and wherever a secret is read (`secret`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_TRUE = frozenset({"1", "true", "yes", "on"})
# Every secret setting and the value development mode uses when it is unset. These values are
# public (they are in this file): production refuses each of them.
SECRET_DEV_VALUES = {
    "FB_APP_SECRET": "dev-app-secret",
    "FB_VERIFY_TOKEN": "dev-verify-token",
    "FB_PAGE_ACCESS_TOKEN": "dev-page-token",
    "MOBILIS_PAYMENT_SECRET": "dev-payment-secret-not-for-production",
    "MOBILIS_PAYMENT_API_KEY": "dev-payment-api-key",
    "MOBILIS_OTP_PEPPER": "dev-otp-pepper-not-for-production",
    "SMS_GATEWAY_TOKEN": "dev-sms-gateway-token",
    "METRICS_TOKEN": "dev-metrics-token",
    # Webhook → Rasa (custom channel) and Rasa → action server: only our processes may speak.
    "MOBILIS_INTERNAL_TOKEN": "dev-internal-token-not-for-production",
    # Rasa's HTTP API (tracker, model, status): `rasa run --enable-api --auth-token`.
    "RASA_API_TOKEN": "dev-rasa-api-token-not-for-production",
}
DEV_DEFAULTS = {name: SECRET_DEV_VALUES[name] for name in ("FB_APP_SECRET", "FB_VERIFY_TOKEN", "FB_PAGE_ACCESS_TOKEN")}


class ConfigError(RuntimeError):
    """Raised when a required setting is missing outside development mode."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in DEV_TRUE


def dev_mode(env: Mapping[str, str] | None = None) -> bool:
    """MOBILIS_DEV_MODE=1: simulator, stand-ins and development secrets allowed."""
    return _flag((os.environ if env is None else env).get("MOBILIS_DEV_MODE"))


def secret(name: str, env: Mapping[str, str] | None = None, *, required: bool = True) -> str:
    """The secret setting `name`. Unset: its development value in development mode; elsewhere
    ConfigError when `required`, else "". A development value outside development mode: ConfigError."""
    env = os.environ if env is None else env
    value = (env.get(name) or "").strip()
    if dev_mode(env):
        return value or SECRET_DEV_VALUES[name]
    if value and value == SECRET_DEV_VALUES[name]:
        raise ConfigError(f"{name} still has its development value: set the real secret")
    if not value and required:
        raise ConfigError(f"{name} must be set (or MOBILIS_DEV_MODE=1 for local use)")
    return value


def check_secrets(env: Mapping[str, str] | None = None) -> None:
    """Start-up check of every process: outside development mode, no secret may keep a
    development value (whether or not this process uses it)."""
    env = os.environ if env is None else env
    if dev_mode(env):
        return
    for name in SECRET_DEV_VALUES:
        secret(name, env, required=False)


@dataclass(frozen=True)
class Settings:
    dev_mode: bool
    database_url: str
    fb_app_secret: str
    fb_verify_token: str
    fb_page_access_token: str
    graph_api_url: str
    graph_api_version: str
    rasa_url: str
    page_id: str
    public_url: str
    # Added by the channel: False when GRAPH_API_URL was not set, so that in development mode the
    # webhook sends to its own stand-in Graph API (public_url + "/dev/graph") instead of Facebook.
    graph_api_url_explicit: bool = True
    # Added by the hand-off: our Meta app id (to recognise thread control coming back to us; when
    # empty, any pass_thread_control not aimed at the inbox counts as ours), the Page Inbox app id
    # (Meta's fixed id for the page's human inbox) and the idle time after which the bot takes a
    # conversation back from the inbox.
    fb_app_id: str = ""
    fb_inbox_app_id: str = "263902037430900"
    handoff_inactivity_minutes: int = 120
    # Our own processes' credentials: the webhook speaks to Rasa's channel with the internal token
    # (Rasa passes it on to the action server), and reads Rasa's HTTP API with the API token.
    internal_token: str = SECRET_DEV_VALUES["MOBILIS_INTERNAL_TOKEN"]
    rasa_api_token: str = SECRET_DEV_VALUES["RASA_API_TOKEN"]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        dev = dev_mode(env)
        check_secrets(env)
        secrets = {name: secret(name, env) for name in DEV_DEFAULTS}
        version = env.get("GRAPH_API_VERSION", "v26.0")
        if not version.startswith("v"):
            version = "v" + version
        return cls(
            dev_mode=dev,
            database_url=database_url(env),
            fb_app_secret=secrets["FB_APP_SECRET"],
            fb_verify_token=secrets["FB_VERIFY_TOKEN"],
            fb_page_access_token=secrets["FB_PAGE_ACCESS_TOKEN"],
            graph_api_url=env.get("GRAPH_API_URL", "https://graph.facebook.com").rstrip("/"),
            graph_api_version=version,
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            page_id=env.get("FB_PAGE_ID", "me"),
            public_url=env.get("PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/"),
            graph_api_url_explicit=bool(env.get("GRAPH_API_URL")),
            fb_app_id=env.get("FB_APP_ID", "").strip(),
            fb_inbox_app_id=env.get("FB_INBOX_APP_ID", "").strip() or "263902037430900",
            handoff_inactivity_minutes=int(env.get("HANDOFF_INACTIVITY_MINUTES") or "120"),
            # Not required here: one-off tools (profile, migrations) do not talk to Rasa; the
            # webhook refuses to start without them (require_internal_tokens).
            internal_token=secret("MOBILIS_INTERNAL_TOKEN", env, required=False),
            rasa_api_token=secret("RASA_API_TOKEN", env, required=False),
        )


def require_internal_tokens(settings: Settings) -> None:
    """The webhook's start: it cannot speak to Rasa without them (ConfigError otherwise)."""
    for name, value in (
        ("MOBILIS_INTERNAL_TOKEN", settings.internal_token),
        ("RASA_API_TOKEN", settings.rasa_api_token),
    ):
        if not value:
            raise ConfigError(f"{name} must be set (or MOBILIS_DEV_MODE=1 for local use)")


def database_url(env: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL or the embedded SQLite file. Needs no secret: the action server and the
    schema/data tools read the database without the webhook's credentials."""
    env = os.environ if env is None else env
    return env.get("DATABASE_URL") or default_database_url()


def default_database_url() -> str:
    path = PROJECT_ROOT / "var" / "mobilis.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
