"""Settings read from the environment (documented in .env.example).

Development mode (MOBILIS_DEV_MODE=1) gives harmless defaults for the Facebook secrets so the
local simulator works without a Facebook account; production refuses to start without them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_DEFAULTS = {
    "FB_APP_SECRET": "dev-app-secret",
    "FB_VERIFY_TOKEN": "dev-verify-token",
    "FB_PAGE_ACCESS_TOKEN": "dev-page-token",
}


class ConfigError(RuntimeError):
    """Raised when a required setting is missing outside development mode."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        dev = _flag(env.get("MOBILIS_DEV_MODE"))
        secrets = {}
        for name, default in DEV_DEFAULTS.items():
            value = (env.get(name) or "").strip()
            if not value:
                if not dev:
                    raise ConfigError(f"{name} must be set (or MOBILIS_DEV_MODE=1 for local use)")
                value = default
            elif not dev and value == default:
                raise ConfigError(f"{name} still has its development value: set the real secret")
            secrets[name] = value
        version = env.get("GRAPH_API_VERSION", "v25.0")
        if not version.startswith("v"):
            version = "v" + version
        return cls(
            dev_mode=dev,
            database_url=env.get("DATABASE_URL") or default_database_url(),
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
        )


def default_database_url() -> str:
    path = PROJECT_ROOT / "var" / "mobilis.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
