"""Fixtures of the purchase tests: the demo database (tests/conftest.py) with PSIDs linked to
demo lines, a controllable clock, purchase settings, and a scratch PostgreSQL database."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.orm import Session

from purchase_helpers import Clock, link, settings

PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    # The services read these when no settings object is given: keep the tests independent of
    # the developer's shell.
    for name in ("MOBILIS_QUOTE_TTL_MINUTES", "MOBILIS_DAILY_PURCHASE_COUNT", "MOBILIS_DAILY_PURCHASE_XPF",
                 "MOBILIS_PAYMENT_PROVIDER", "MOBILIS_PAYMENT_SECRET", "MOBILIS_PAYMENT_API_URL",
                 "MOBILIS_PAYMENT_API_KEY", "MOBILIS_PAYMENT_SESSION_MINUTES", "MOBILIS_PAYMENT_MAX_AGE_SECONDS",
                 "MOBILIS_DEV_MODE", "PUBLIC_URL"):
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
def pg_demo_url():
    """A scratch PostgreSQL database, migrated with bot.db.migrate.upgrade, catalogue + demo loaded."""
    from bot.catalogue import sync_catalogue
    from bot.db.migrate import upgrade
    from bot.demo import load_demo

    try:
        admin = create_engine(PG_ADMIN_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        admin.connect().close()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server here"
        pytest.skip(f"PostgreSQL unreachable at 127.0.0.1:5432 (user postgres, trust auth): {type(exc).__name__}")
    name = f"mobilis_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        engine = create_engine(url, poolclass=pool.NullPool)
        with Session(engine) as session:
            sync_catalogue(session)
            load_demo(session, date(2026, 3, 15))
            session.commit()
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
