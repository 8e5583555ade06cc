"""The operator adapter this deployment uses (OPERATOR_BACKEND)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.config.secrets import ConfigError
from bot.config.settings import Settings, get_settings
from bot.services.operator.embedded import EmbeddedOperator
from bot.services.operator.port import OperatorPort


def operator_for(session: Session, settings: Settings | None = None) -> OperatorPort:
    """The adapter for one unit of work (`session` is the caller's)."""
    backend = (settings or get_settings()).operator_backend
    if backend == "embedded":
        return EmbeddedOperator(session)
    raise ConfigError(f"OPERATOR_BACKEND {backend!r} has no adapter")
