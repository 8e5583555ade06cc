"""Every environment variable of the assistant, declared once, read once per process.

`Settings` is the single object a process reads its configuration from (`get_settings()`, built on
first use and kept). Each field names its variable, its default and what it does: `.env.example`
is generated from these declarations (`python -m bot.config.env_example`), and a test keeps the two
identical. Variables read by other programs (Rasa's endpoint file, rasa-sdk, docker-compose) are
declared in `ELSEWHERE`. An empty value means unset: the default applies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.config.secrets import DEV_TRUE, ConfigError, check_secrets, secret

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GRAPH_API_URL = "https://graph.facebook.com"
PAYMENT_PROVIDERS = ("local", "http")
SMS_GATEWAYS = ("outbox", "http", "tmf")
OPERATOR_BACKENDS = ("embedded", "tmf")
# A claim not renewed for this long belongs to a dead process when several processes share the
# work (REDIS_URL set); other processes' live claims must not be stolen.
MULTI_PROCESS_LEASE_SECONDS = 30.0


def setting(
    env: str, default: Any, doc: str, *, section: str = "", minimum: float | None = None, secret: bool = False
) -> Any:
    """A field read from the environment variable `env`. `section` starts a new group in
    .env.example; `secret` reads it through bot.config.secrets (development value, refusals)."""
    meta = {"env": env, "doc": doc, "section": section, "minimum": minimum, "secret": secret}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Variable:
    """A variable read by another program than ours, documented with the others."""

    name: str
    default: str
    doc: str
    section: str = ""


@dataclass(frozen=True)
class Settings:
    # --- Messenger ---
    fb_app_secret: str = setting(
        "FB_APP_SECRET",
        "",
        "App secret: signs every webhook POST (X-Hub-Signature-256). Required in production.",
        section="Messenger (Meta app)",
        secret=True,
    )
    fb_verify_token: str = setting(
        "FB_VERIFY_TOKEN",
        "",
        "Token you type in the Meta app's webhook settings for the GET verification handshake.",
        secret=True,
    )
    fb_page_access_token: str = setting(
        "FB_PAGE_ACCESS_TOKEN", "", "Page access token used by the Send API. Never logged.", secret=True
    )
    page_id: str = setting("FB_PAGE_ID", "me", 'Page id (thread control calls); "me" works for the Send API.')
    graph_api_url: str = setting(
        "GRAPH_API_URL",
        "",
        f"Base URL of the Graph API. Unset: {DEFAULT_GRAPH_API_URL} (in development mode, the webhook's own stand-in).",
    )
    graph_api_version: str = setting("GRAPH_API_VERSION", "v26.0", "Graph API version of every call.")
    fb_app_id: str = setting(
        "FB_APP_ID",
        "",
        "Our Meta app id, to recognise thread control coming back from the Page Inbox.",
        section="Hand-off to the 1000 service (Page Inbox)",
    )
    fb_inbox_app_id: str = setting("FB_INBOX_APP_ID", "263902037430900", "Meta's app id of the Page Inbox.")
    handoff_inactivity_minutes: int = setting(
        "HANDOFF_INACTIVITY_MINUTES",
        120,
        "After this long without an agent message, the bot takes the thread back.",
        minimum=1,
    )

    # --- Processes ---
    rasa_url: str = setting(
        "RASA_URL",
        "http://127.0.0.1:5005",
        "Rasa server(s) (REST channel) the webhook forwards messages to; several, comma-separated, when "
        "they share a tracker store and a lock store (nlu/endpoints.production.yml).",
        section="Processes",
    )
    rasa_url_en: str = setting(
        "RASA_URL_EN",
        "",
        "Rasa server(s) with the English model (visitors; docs/english.md). Empty: everyone is answered in French.",
    )
    action_server_host: str = setting(
        "ACTION_SERVER_HOST",
        "127.0.0.1",
        "Interface the action server (python -m actions.server) listens on: loopback unless Rasa runs "
        "elsewhere (docker-compose: 0.0.0.0 on a network only the Rasa servers share).",
    )
    action_server_port: int = setting("ACTION_SERVER_PORT", 5055, "Port of the action server.", minimum=1)
    internal_token: str = setting(
        "MOBILIS_INTERNAL_TOKEN",
        "",
        "Shared by the webhook, Rasa and the action server: only the webhook may speak to Rasa as a "
        'user, only Rasa may run actions. Long and random (python -c "import secrets; '
        'print(secrets.token_hex(32))"). ./mobilis run and prod-local generate one per start when '
        "unset; production refuses to start without it.",
        secret=True,
    )
    rasa_api_token: str = setting(
        "RASA_API_TOKEN",
        "",
        "Rasa's HTTP API (status, conversation trackers, model): `rasa run --enable-api --auth-token`. "
        "Same rules as above; the webhook uses it for readiness and to erase a conversation's tracker.",
        secret=True,
    )
    public_url: str = setting(
        "PUBLIC_URL", "http://127.0.0.1:8080", "Public base URL of the webhook (links in messages, payment pages)."
    )
    webhook_host: str = setting(
        "WEBHOOK_HOST", "127.0.0.1", "Interface the webhook listens on (the container image sets 0.0.0.0)."
    )
    webhook_port: int = setting("WEBHOOK_PORT", 8080, "Port of the webhook.", minimum=1)
    webhook_max_body_bytes: int = setting(
        "WEBHOOK_MAX_BODY_BYTES",
        1024 * 1024,
        "Largest request body the webhook accepts (bytes); Messenger batches stay far below it.",
        minimum=1024,
    )

    # --- Data ---
    database_url: str = setting(
        "DATABASE_URL",
        "",
        "Any SQLAlchemy URL. Unset: the SQLite file var/mobilis.db. Production: "
        "postgresql+psycopg2://mobilis:password@127.0.0.1:5432/mobilis",
        section="Data",
    )

    # --- Operator systems ---
    operator_backend: str = setting(
        "OPERATOR_BACKEND",
        "embedded",
        "embedded: balances, usage and purchases on our own tables (the local operator simulator); "
        "tmf: the operator's TM Forum Open APIs (TMF654, TMF677, TMF635, TMF622).",
        section="Operator systems (charging, billing, ordering)",
    )
    operator_api_url: str = setting(
        "OPERATOR_API_URL",
        "",
        "Root of the operator's TM Forum API gateway (each API under its standard basePath). Required with tmf.",
    )
    operator_token_url: str = setting(
        "OPERATOR_TOKEN_URL", "", "OAuth2 token endpoint (client credentials). Empty: no authentication (stub only)."
    )
    operator_client_id: str = setting("OPERATOR_CLIENT_ID", "", "OAuth2 client id of the assistant at the operator.")
    operator_client_secret: str = setting(
        "OPERATOR_CLIENT_SECRET", "", "OAuth2 client secret (required with OPERATOR_TOKEN_URL).", secret=True
    )
    operator_timeout_seconds: float = setting(
        "OPERATOR_TIMEOUT_SECONDS", 5.0, "Timeout of one call to the operator.", minimum=0.1
    )
    operator_breaker_failures: int = setting(
        "OPERATOR_BREAKER_FAILURES", 5, "Failed calls in a row that open the circuit breaker.", minimum=1
    )
    operator_events_token: str = setting(
        "OPERATOR_EVENTS_TOKEN",
        "",
        "Bearer token of the operator's event hub on POST /operator/events/… (usage, top-ups); empty: no listener.",
        secret=True,
    )
    operator_balance_cache_seconds: float = setting(
        "OPERATOR_BALANCE_CACHE_SECONDS",
        20.0,
        "A line's balance read this recently is shown again with its time (0: always ask the operator).",
        minimum=0,
    )
    operator_catalogue_cache_seconds: float = setting(
        "OPERATOR_CATALOGUE_CACHE_SECONDS",
        300.0,
        "What a plan family may buy (TMF620), kept this long for showing offers; always read again to confirm.",
        minimum=0,
    )
    operator_breaker_seconds: float = setting(
        "OPERATOR_BREAKER_SECONDS", 30.0, "How long an open breaker fails calls at once.", minimum=1
    )

    # --- Linking ---
    sms_gateway: str = setting(
        "SMS_GATEWAY",
        "outbox",
        "outbox (local table, shown in the simulator), http (an SMS gateway) or tmf (the operator's TMF681 API).",
        section="Linking by SMS one-time code",
    )
    sms_gateway_url: str = setting("SMS_GATEWAY_URL", "", "URL of the HTTP SMS gateway (SMS_GATEWAY=http).")
    sms_gateway_token: str = setting(
        "SMS_GATEWAY_TOKEN", "", "Bearer token of the HTTP SMS gateway (required with SMS_GATEWAY=http).", secret=True
    )
    sms_sender: str = setting("SMS_SENDER", "", "Optional sender name for the HTTP SMS gateway.")
    otp_pepper: str = setting("MOBILIS_OTP_PEPPER", "", "Secret mixed into stored one-time-code hashes.", secret=True)
    link_revalidate_days: int = setting(
        "LINK_REVALIDATE_DAYS",
        180,
        "A Messenger account must prove its line again with a new code after this many days.",
        minimum=1,
    )
    link_max_numbers_per_day: int = setting(
        "LINK_MAX_NUMBERS_PER_DAY", 3, "Distinct numbers one Messenger account may ask codes for in 24 h.", minimum=1
    )

    # --- Alerts ---
    alerts_scan_minutes: float = setting(
        "ALERTS_SCAN_MINUTES",
        15.0,
        "How often the lines of subscribers who asked for alerts are read (0: never; alerts off).",
        minimum=0,
        section="Alerts (opt-in, utility messages outside the 24-hour window)",
    )
    alerts_daily_cap: int = setting(
        "ALERTS_DAILY_CAP", 3, "Alerts sent to one subscriber per day (Nouméa time) at most.", minimum=1
    )
    alerts_templates_file: str = setting(
        "ALERTS_TEMPLATES_FILE", "", "Utility message templates of the alerts. Unset: data/alert_templates.yml."
    )

    # --- Content ---
    faq_dir: str = setting(
        "MOBILIS_FAQ_DIR",
        "",
        "FAQ folder, for a content checkout outside the code. Unset: faq/.",
        section="Editors' content",
    )
    agencies_csv: str = setting("MOBILIS_AGENCIES_CSV", "", "Agencies file. Unset: data/agences.csv.")
    cgu_version: str = setting(
        "MOBILIS_CGU_VERSION",
        "",
        "Version of the CGU users accept; bump it when they change and every user is asked again. "
        "Unset: the version shipped with the code (bot/services/privacy/consent.py).",
    )

    # --- Development ---
    dev_mode: bool = setting(
        "MOBILIS_DEV_MODE",
        False,
        "1 enables the simulator, the stand-in Graph API and dev endpoints; never in production.",
        section="Development",
    )

    # --- Purchases ---
    quote_ttl_minutes: int = setting(
        "MOBILIS_QUOTE_TTL_MINUTES",
        10,
        "A summary not confirmed within this time expires and does nothing.",
        section="Purchases and payments",
        minimum=1,
    )
    daily_purchase_count: int = setting("MOBILIS_DAILY_PURCHASE_COUNT", 5, "Purchases per line and day.", minimum=0)
    daily_purchase_xpf: int = setting(
        "MOBILIS_DAILY_PURCHASE_XPF", 20000, "Total amount per line and day (XPF).", minimum=0
    )
    payment_provider: str = setting(
        "MOBILIS_PAYMENT_PROVIDER",
        "",
        "local (test payment page, development only) or http (real provider). Unset: local in "
        "development mode, http otherwise.",
    )
    payment_secret: str = setting(
        "MOBILIS_PAYMENT_SECRET",
        "",
        "Shared secret signing the provider's server-to-server notifications. Required for card payments.",
        secret=True,
    )
    payment_api_url: str = setting("MOBILIS_PAYMENT_API_URL", "", "The payment provider's API.")
    payment_api_key: str = setting("MOBILIS_PAYMENT_API_KEY", "", "Key of the payment provider's API.", secret=True)
    payment_session_minutes: int = setting(
        "MOBILIS_PAYMENT_SESSION_MINUTES", 15, "A payment link stays valid this long.", minimum=1
    )
    payment_max_age_seconds: int = setting(
        "MOBILIS_PAYMENT_MAX_AGE_SECONDS", 300, "Oldest payment notification accepted (replays).", minimum=1
    )

    # --- Webhook ---
    webhook_workers: int = setting(
        "WEBHOOK_WORKERS",
        4,
        "Threads per webhook process answering users in parallel (one user at a time each).",
        section="Webhook worker pool",
        minimum=1,
    )
    webhook_sweep_seconds: float = setting(
        "WEBHOOK_SWEEP_SECONDS",
        5.0,
        "Seconds between sweeps: retries after a Rasa outage, events of a dead process, claim renewal (0: no sweep).",
        minimum=0,
    )
    webhook_claim_lease_seconds: float | None = setting(
        "WEBHOOK_CLAIM_LEASE_SECONDS",
        None,
        "Multi-process: a claim not renewed for this long belongs to a dead process. Unset: "
        f"{MULTI_PROCESS_LEASE_SECONDS:g} with REDIS_URL, none for a single process.",
        minimum=0,
    )
    webhook_retry_first_seconds: float = setting(
        "WEBHOOK_RETRY_FIRST_SECONDS", 5.0, "Rasa down: first retry delay (doubles at each attempt).", minimum=0
    )
    webhook_retry_max_seconds: float = setting(
        "WEBHOOK_RETRY_MAX_SECONDS", 60.0, "Longest delay between two retries.", minimum=0
    )
    webhook_retry_window_seconds: float = setting(
        "WEBHOOK_RETRY_WINDOW_SECONDS",
        900.0,
        "How long after reception the user is told the message could not be processed.",
        minimum=0,
    )
    webhook_slow_notice_seconds: float = setting(
        "WEBHOOK_SLOW_NOTICE_SECONDS",
        4.0,
        '"Un instant…" notice after this long waiting for Rasa (0: never).',
        minimum=0,
    )
    webhook_user_rate: str = setting(
        "WEBHOOK_USER_RATE",
        "20/minute",
        'Messages per sender before the polite "please wait" (e.g. 20/minute, 100/hour, off).',
    )
    web_concurrency: int = setting(
        "WEB_CONCURRENCY",
        2,
        "gunicorn (deploy/gunicorn.conf.py): webhook processes; more than 1 needs REDIS_URL.",
        minimum=1,
    )
    webhook_http_threads: int = setting(
        "WEBHOOK_HTTP_THREADS", 8, "gunicorn: HTTP threads per webhook process.", minimum=1
    )
    redis_url: str = setting(
        "REDIS_URL",
        "",
        "Shared store for the production path: sender locks between webhook processes, rate-limit "
        "counters; checked by /readyz. Setting it switches the webhook to multi-process mode.",
    )
    readyz_timeout_seconds: float = setting(
        "READYZ_TIMEOUT_SECONDS", 2.0, "Timeout of each /readyz probe (database, Rasa, Redis).", minimum=0.1
    )
    readyz_cache_seconds: float = setting(
        "READYZ_CACHE_SECONDS", 1.5, "Seconds /readyz reuses its last probe of the database, Rasa and Redis.", minimum=0
    )

    # --- Logs and metrics ---
    log_level: str = setting("LOG_LEVEL", "INFO", "Level of our processes' logs.", section="Logs and metrics")
    log_format: str = setting("LOG_FORMAT", "text", "text or json (one JSON object per line).")
    rasa_log_level: str = setting(
        "RASA_LOG_LEVEL",
        "INFO",
        "Rasa's own level (not LOG_LEVEL): at DEBUG it logs user texts unmasked, for debugging sessions only.",
    )
    metrics_token: str = setting("METRICS_TOKEN", "", 'When set, /metrics requires "Authorization: Bearer <token>".')

    # --- Back office ---
    backoffice_secret_key: str = setting(
        "BACKOFFICE_SECRET_KEY",
        "",
        "Signs the staff's session cookies and CSRF tokens of the back office (python -m bot.backoffice: "
        "review queue, dashboard). Long and random; changing it logs everyone out.",
        section="Back office (editors' review queue, operator dashboard)",
        secret=True,
    )
    backoffice_host: str = setting(
        "BACKOFFICE_HOST", "127.0.0.1", "Interface the back office listens on (staff only: VPN or SSH tunnel)."
    )
    backoffice_port: int = setting("BACKOFFICE_PORT", 8070, "Port of the back office.", minimum=1)
    backoffice_session_hours: int = setting(
        "BACKOFFICE_SESSION_HOURS", 8, "A staff login lasts this long (a working day).", minimum=1
    )

    # --- Retention ---
    message_retention_days: int = setting(
        "MESSAGE_RETENTION_DAYS",
        90,
        "Message texts (in and out): days kept.",
        section="Retention (python -m bot.ops.retention; daily in docker-compose and prod-local)",
        minimum=1,
    )
    escalation_retention_days: int = setting("ESCALATION_RETENTION_DAYS", 90, "Closed hand-offs: days kept.", minimum=1)
    payment_session_retention_days: int = setting(
        "PAYMENT_SESSION_RETENTION_DAYS", 90, "Unpaid payment sessions: days kept.", minimum=1
    )
    quote_retention_days: int = setting(
        "QUOTE_RETENTION_DAYS", 7, "Purchase summaries that led to nothing: days kept.", minimum=1
    )
    tracker_database_url: str = setting(
        "TRACKER_DATABASE_URL",
        "",
        "The webhook's URL of Rasa's tracker database: \"effacer mes données\" deletes the user's Rasa "
        "conversation there (Rasa's SQL store never deletes). Unset: only Rasa's API is used (in-memory store).",
    )

    # Derived, not read from the environment.
    graph_api_url_explicit: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Every variable parsed and checked (ConfigError on a bad value or a development secret
        outside development mode). Secrets a process needs are required by that process (`require`)."""
        env = os.environ if env is None else env
        check_secrets(env)
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = spec.metadata.get("env")
            if name is None:
                continue
            if spec.metadata["secret"]:
                values[spec.name] = secret(name, env, required=False)
                continue
            raw = (env.get(name) or "").strip()
            values[spec.name] = _parse(spec, name, raw) if raw else spec.default
        return cls(**_derived(values))

    def require(self, *names: str) -> None:
        """A process's start: the secrets it cannot work without (ConfigError otherwise)."""
        by_env = {spec.metadata.get("env"): spec.name for spec in fields(self)}
        for name in names:
            if not getattr(self, by_env[name]):
                raise ConfigError(f"{name} must be set (or MOBILIS_DEV_MODE=1 for local use)")

    @property
    def claim_lease_seconds(self) -> float | None:
        """None: a single process, which requeues every in-progress row at start."""
        if self.webhook_claim_lease_seconds:
            return self.webhook_claim_lease_seconds
        return MULTI_PROCESS_LEASE_SECONDS if self.redis_url else None


def _parse(spec: Any, name: str, raw: str) -> Any:
    kind = str(spec.type).removesuffix(" | None")
    if kind == "bool":
        return raw.lower() in DEV_TRUE
    if kind not in {"int", "float"}:
        return raw
    try:
        value = int(raw) if kind == "int" else float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {'an integer' if kind == 'int' else 'a number'}, got {raw!r}") from None
    minimum = spec.metadata["minimum"]
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw}")
    return value


def _derived(values: dict[str, Any]) -> dict[str, Any]:
    """Normalised forms: URLs without a trailing slash, the Graph version with its "v", the
    embedded database and the payment provider by default, known choices only."""
    for name in ("rasa_url", "rasa_url_en", "public_url", "graph_api_url"):
        values[name] = values[name].rstrip("/")
    values["graph_api_url_explicit"] = bool(values["graph_api_url"])
    values["graph_api_url"] = values["graph_api_url"] or DEFAULT_GRAPH_API_URL
    if not values["graph_api_version"].startswith("v"):
        values["graph_api_version"] = "v" + values["graph_api_version"]
    values["database_url"] = values["database_url"] or default_database_url()
    provider = (values["payment_provider"] or ("local" if values["dev_mode"] else "http")).lower()
    if provider not in PAYMENT_PROVIDERS:
        raise ConfigError(f"MOBILIS_PAYMENT_PROVIDER must be one of {PAYMENT_PROVIDERS}, got {provider!r}")
    values["payment_provider"] = provider
    values["operator_backend"] = values["operator_backend"].lower()
    if values["operator_backend"] not in OPERATOR_BACKENDS:
        raise ConfigError(f"OPERATOR_BACKEND must be one of {OPERATOR_BACKENDS}, got {values['operator_backend']!r}")
    if "tmf" in (values["operator_backend"], values["sms_gateway"].lower()) and not values["operator_api_url"]:
        raise ConfigError("OPERATOR_BACKEND=tmf or SMS_GATEWAY=tmf needs OPERATOR_API_URL")
    values["operator_api_url"] = values["operator_api_url"].rstrip("/")
    values["sms_gateway"] = values["sms_gateway"].lower()
    if values["sms_gateway"] not in SMS_GATEWAYS:
        raise ConfigError(f"SMS_GATEWAY must be one of {SMS_GATEWAYS}, got {values['sms_gateway']!r}")
    return values


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'mobilis.db'}"


ELSEWHERE = (
    Variable(
        "ACTION_ENDPOINT_URL",
        "http://127.0.0.1:5055/webhook",
        "Action server Rasa calls (nlu/endpoints.yml).",
        section="Read by Rasa, rasa-sdk and docker-compose",
    ),
    Variable(
        "ACTION_SERVER_SANIC_WORKERS",
        "1",
        "rasa-sdk's worker count: must stay 1 (one process; scale with more action server processes).",
    ),
    Variable("TRACKER_DB_HOST", "127.0.0.1", "Rasa's tracker store (PostgreSQL), shared by every Rasa server."),
    Variable("TRACKER_DB_PORT", "5432", "Port of the tracker database."),
    Variable("TRACKER_DB_NAME", "mobilis_rasa", "Name of the tracker database."),
    Variable("TRACKER_DB_USER", "mobilis", "User of the tracker database."),
    Variable("TRACKER_DB_PASSWORD", "", "Password of the tracker database."),
    Variable("LOCK_STORE_REDIS_HOST", "127.0.0.1", "Rasa's lock store (Redis)."),
    Variable("LOCK_STORE_REDIS_PORT", "6379", "Port of the lock store."),
    Variable("LOCK_STORE_REDIS_DB", "1", "Redis database of the lock store."),
    Variable("POSTGRES_PASSWORD", "", 'docker-compose only: password of the PostgreSQL container\'s "mobilis" user.'),
    Variable(
        "GRAFANA_ADMIN_PASSWORD",
        "",
        "docker-compose only: Grafana's admin password (operator dashboard on 127.0.0.1:3000). Prometheus reads "
        "METRICS_TOKEN from deploy/secrets/metrics_token.",
    ),
)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()


def database_url() -> str:
    """DATABASE_URL or the embedded SQLite file. Needs no secret: the action server and the
    schema/data tools read the database without the webhook's credentials."""
    return get_settings().database_url
