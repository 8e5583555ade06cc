"""Logging for every process (webhook, action server, one-off commands): one line per record with
a correlation id, and masking of personal data and secrets. Channel-neutral, so services and
actions can use it without importing bot.channel.

- Correlation id: `evNN` (the inbound_events id) while the webhook worker handles an event; the
  webhook logs `evNN <- mid:...` when it stores one, so a message's whole path can be grepped.
- Masking (MaskingFilter): New Caledonia mobile numbers (7x/8x/9x xx xx, with or without +687,
  spaces, dots or dashes) -> "79****"; any other lone 6-digit number (one-time codes: "votre code
  est 123456") -> "******"; `access_token=`/`appsecret_proof=` values, "EAA..." page tokens,
  Bearer tokens, passwords in URLs, payment tokens in /pay/<token> paths, and the configured
  secrets themselves (FB_APP_SECRET, ...).

The filter runs inside the LogRecord factory, so every handler (console, caplog, rasa-sdk's own
handlers, a future Sentry handler) receives already-masked text, tracebacks included; filters
attached to the root logger would miss records propagated from child loggers.

- `install_filters()`: masking + correlation id for every record of the process, whoever logs and
  whatever handler prints (what the action server does at import of `actions`).
- `configure()`: the same plus our own root handler and format (the webhook's entry point).

LOG_LEVEL (INFO), LOG_FORMAT=text|json (text).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from bot.config import get_settings, secret_values_to_mask

_correlation: contextvars.ContextVar[str] = contextvars.ContextVar("mobilis_correlation_id", default="-")


_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)687[\s.\-]?)?([789]\d)[\s.\-]?\d{2}[\s.\-]?\d{2}(?!\d)")
_SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")
# A code or a number typed in two groups: "482 913", "482-913", "791 234" (not an amount: "100 000 F").
_THREE_THREE = re.compile(
    r"(?<![\d,.])\d{3}[ \u00a0\u202f.\-]\d{3}(?![\d,])(?!\s*(?:F\b|XPF\b|CFP\b|francs?\b|€))", re.I
)
_QUERY_TOKEN = re.compile(r"(access_token|appsecret_proof|hub\.verify_token)=[^&\s\"'<>]+")
_PAGE_TOKEN = re.compile(r"\bEAA[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(Bearer\s+)[^\s\"']+", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(\w+://[^:/\s@]+:)[^@\s]+@")
# Payment links (/payments/pay/<token>, the dev page /dev/pay/<token>): the token is the session's
# only credential, and access logs print the path.
_PAY_PATH = re.compile(r"(/pay/)[A-Za-z0-9_\-]{6,}")


def codes_in(text: str) -> list[str]:
    """One-time codes as typed in a message ("482913", "482 913", "482-913")."""
    return [match.group(0) for pattern in (_THREE_THREE, _SIX_DIGITS) for match in pattern.finditer(text or "")]


def mask_codes(text: str) -> str:
    """A message as it may be stored: its codes replaced (they unlock a line)."""
    return _SIX_DIGITS.sub("******", _THREE_THREE.sub("******", text))


def mask(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    text = _QUERY_TOKEN.sub(r"\1=***", text)
    text = _PAGE_TOKEN.sub("EAA***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _PAY_PATH.sub(r"\1***", text)
    text = _PHONE.sub(lambda match: match.group(1) + "****", text)
    text = _THREE_THREE.sub("******", text)
    return _SIX_DIGITS.sub("******", text)


class MaskingFilter(logging.Filter):
    """Rewrites the record's message (and traceback) with `mask`; never drops a record."""

    def __init__(self, secrets: tuple[str, ...] = ()):
        super().__init__()
        # Short values would mask common words; secrets this short are a problem of their own.
        self.secrets = tuple(sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_mobilis_masked", False):
            return True
        try:
            record.msg, record.args = mask(record.getMessage(), self.secrets), ()
        except Exception:  # a broken format string: keep the record, but masked as text
            record.msg, record.args = mask(str(record.msg), self.secrets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = mask(record.stack_info, self.secrets)
        record._mobilis_masked = True
        return True


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _correlation.get()
        return True


@contextmanager
def correlation(correlation_id: str) -> Iterator[None]:
    """Log records made inside carry this id (per thread/context: safe in the worker pool)."""
    token = _correlation.set(str(correlation_id))
    try:
        yield
    finally:
        _correlation.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "cid": getattr(record, "correlation_id", "-"),
            "msg": record.getMessage(),
        }
        if record.exc_text:
            data["exc"] = record.exc_text
        elif record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"
_installed: dict[str, Any] = {}


def install_filters(secrets: tuple[str, ...] | None = None) -> MaskingFilter:
    """Mask and tag every future LogRecord (idempotent: a second call only updates the secrets)."""
    if secrets is None:
        secrets = secret_values_to_mask()
    masking = MaskingFilter(secrets)
    if "factory" not in _installed:
        previous = logging.getLogRecordFactory()
        correlation_filter = CorrelationFilter()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            correlation_filter.filter(record)
            _installed["masking"].filter(record)
            return record

        _installed["previous"] = previous
        _installed["factory"] = factory
        logging.setLogRecordFactory(factory)
    _installed["masking"] = masking
    return masking


class _RootHandler(logging.StreamHandler[TextIO]):
    """Ours: a second configure() replaces it instead of adding another."""

    _mobilis = True  # the mark others (tests) look for to remove our handler


def configure(level: str | None = None, fmt: str | None = None, secrets: tuple[str, ...] | None = None) -> None:
    """Root logging for a process that owns its logging set-up (webhook.py, commands): call once
    at start-up. A process whose framework sets up handlers (rasa-sdk) calls install_filters()."""
    masking = install_filters(secrets)
    handler = _RootHandler(sys.stderr)
    handler.addFilter(CorrelationFilter())
    handler.addFilter(masking)  # already applied by the factory; kept for records made elsewhere
    settings = get_settings()
    if (fmt or settings.log_format).lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _RootHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or settings.log_level)


def uninstall() -> None:
    """Undo install_filters (tests): later records are no longer masked or tagged."""
    factory = _installed.pop("factory", None)
    previous = _installed.pop("previous", None)
    _installed.pop("masking", None)
    if factory is not None and logging.getLogRecordFactory() is factory:
        logging.setLogRecordFactory(previous)
