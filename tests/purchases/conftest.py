"""Fixtures of the purchase tests: the demo database (tests/conftest.py) with PSIDs linked to
demo lines, a controllable clock, purchase settings, and a scratch PostgreSQL database."""

from __future__ import annotations

from datetime import date

import pytest
from purchase_helpers import Clock, link, settings
from sqlalchemy import create_engine, pool
from sqlalchemy.orm import Session


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    # The services read these when no settings object is given: keep the tests independent of
    # the developer's shell.
    for name in (
        "MOBILIS_QUOTE_TTL_MINUTES",
        "MOBILIS_DAILY_PURCHASE_COUNT",
        "MOBILIS_DAILY_PURCHASE_XPF",
        "MOBILIS_PAYMENT_PROVIDER",
        "MOBILIS_PAYMENT_SECRET",
        "MOBILIS_PAYMENT_API_URL",
        "MOBILIS_PAYMENT_API_KEY",
        "MOBILIS_PAYMENT_SESSION_MINUTES",
        "MOBILIS_PAYMENT_MAX_AGE_SECONDS",
        "MOBILIS_DEV_MODE",
        "PUBLIC_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock(demo_now):
    return Clock(demo_now)


@pytest.fixture
def cfg():
    return settings()


@pytest.fixture
def linked(demo_session, demo_now):
    """linked(psid, msisdn) → the line, now linked to that PSID."""
    return lambda psid, msisdn: link(demo_session, psid, msisdn, demo_now)


@pytest.fixture
def pg_demo_url(pg_url):
    """A scratch PostgreSQL database, migrated with bot.db.migrate.upgrade, catalogue + demo loaded."""
    from bot.db.migrate import upgrade
    from bot.services.purchasing.catalogue import sync_catalogue
    from bot.tools.demo import load_demo

    upgrade(pg_url)
    engine = create_engine(pg_url, poolclass=pool.NullPool)
    with Session(engine) as session:
        sync_catalogue(session)
        load_demo(session, date(2026, 3, 15))
        session.commit()
    engine.dispose()
    return pg_url
