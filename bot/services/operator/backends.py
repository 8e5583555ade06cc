"""The operator adapter this deployment uses (OPERATOR_BACKEND)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session

from bot.config.secrets import ConfigError
from bot.config.settings import Settings, get_settings
from bot.services.operator.embedded import EmbeddedOperator
from bot.services.operator.port import OperatorPort
from bot.services.operator.read_cache import BalanceCache, CatalogueCache
from bot.services.operator.tmf_adapter import TmfOperator, client_from_settings
from bot.services.operator.tmf_client import TmfClient


def operator_for(session: Session, settings: Settings | None = None) -> OperatorPort:
    """The adapter for one unit of work (`session` is the caller's)."""
    settings = settings or get_settings()
    if settings.operator_backend == "embedded":
        return EmbeddedOperator(session)
    if settings.operator_backend == "tmf":
        return TmfOperator(session, tmf_client(settings), balance_cache(settings), catalogue_cache(settings))
    raise ConfigError(f"OPERATOR_BACKEND {settings.operator_backend!r} has no adapter")


@lru_cache(maxsize=4)
def tmf_client(settings: Settings) -> TmfClient:
    """One HTTP client (connection pool, OAuth2 token) per process and settings."""
    return client_from_settings(settings)


@lru_cache(maxsize=4)
def balance_cache(settings: Settings) -> BalanceCache:
    """One balance cache per process and settings (OPERATOR_BALANCE_CACHE_SECONDS)."""
    return BalanceCache(settings.operator_balance_cache_seconds)


@lru_cache(maxsize=4)
def catalogue_cache(settings: Settings) -> CatalogueCache:
    """One catalogue cache per process and settings (OPERATOR_CATALOGUE_CACHE_SECONDS)."""
    return CatalogueCache(settings.operator_catalogue_cache_seconds)
