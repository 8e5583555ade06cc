"""Secrets and development mode: the rules every settings read goes through.

Development mode (MOBILIS_DEV_MODE=1) gives harmless defaults for the secrets so the local
simulator works without a Facebook account; outside it, every secret must be set to a real value:
a development value is refused at start-up (`check_secrets`) and wherever a secret is read (`secret`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

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
    # The assistant's OAuth2 client secret at the operator's TM Forum APIs (OPERATOR_BACKEND=tmf).
    "OPERATOR_CLIENT_SECRET": "dev-operator-client-secret",
    # What the operator's event hub presents when it notifies us (TMF635 usage, TMF654 top-ups).
    "OPERATOR_EVENTS_TOKEN": "dev-operator-events-token",
    # Webhook → Rasa (custom channel) and Rasa → action server: only our processes may speak.
    "MOBILIS_INTERNAL_TOKEN": "dev-internal-token-not-for-production",
    # Rasa's HTTP API (tracker, model, status): `rasa run --enable-api --auth-token`.
    "RASA_API_TOKEN": "dev-rasa-api-token-not-for-production",
    # Staff sessions and CSRF tokens of the back office.
    "BACKOFFICE_SECRET_KEY": "dev-backoffice-secret-not-for-production",
}


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


def secret_values_to_mask(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values the logs must never show: every secret, plus the database passwords other programs
    read. Taken as set, valid or not, so masking never depends on the settings being valid."""
    env = os.environ if env is None else env
    return tuple(env.get(name, "") for name in (*SECRET_DEV_VALUES, "TRACKER_DB_PASSWORD", "POSTGRES_PASSWORD"))


def check_secrets(env: Mapping[str, str] | None = None) -> None:
    """Start-up check of every process: outside development mode, no secret may keep a
    development value (whether or not this process uses it)."""
    env = os.environ if env is None else env
    if dev_mode(env):
        return
    for name in SECRET_DEV_VALUES:
        secret(name, env, required=False)
