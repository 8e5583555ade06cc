"""Shared fixtures: migrated SQLite databases (empty, or catalogue + demo data) and sessions.

Migrating and loading the demo once per test run, then copying the file for each test, keeps
every test isolated (its own database file) without paying for Alembic each time.

- `db_url`: a fresh SQLite file migrated to head (no data).
- `session`: a Session on `db_url` (expire_on_commit=False); the test decides when to commit.
- `demo_db_url` / `demo_session`: same, with the catalogue synced and the demo loaded for
  DEMO_TODAY (fixture `demo_today`). Pass `demo_now` (12:00 in Nouméa that day) as `now`.
- `pg_url`: a scratch database on the local PostgreSQL (127.0.0.1:5432, trust auth), dropped
  afterwards; skipped when no server answers.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.db.base import make_engine

# Tests run on fixed clocks (DEMO_NOW, identity's Clock) that fall ever further behind the real
# date; links made on those clocks must not count as older than LINK_REVALIDATE_DAYS because of
# that. The tests of revalidation set the period themselves.
os.environ.setdefault("LINK_REVALIDATE_DAYS", "36500")


@pytest.fixture(autouse=True)
def _settings_read_per_test():
    """Processes read their settings once; a test is a new process: variables it sets
    (monkeypatch.setenv) apply from its start, and never leak into the next test."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def set_env(monkeypatch):
    """Set an environment variable in the middle of a test, as a restarted process would see it."""

    def set_variable(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    return set_variable


DEMO_TODAY = date(2026, 3, 15)
DEMO_NOW = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)  # 12:00 in Nouméa (UTC+11)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Path:
    from bot.db.migrate import upgrade

    path = tmp_path_factory.mktemp("templates") / "migrated.db"
    upgrade(_sqlite_url(path))
    return path


@pytest.fixture(scope="session")
def _demo_template(_migrated_template, tmp_path_factory) -> Path:
    from bot.services.purchasing.catalogue import sync_catalogue
    from bot.tools.demo import load_demo

    path = tmp_path_factory.mktemp("templates") / "demo.db"
    shutil.copyfile(_migrated_template, path)
    engine = make_engine(_sqlite_url(path))
    with Session(engine) as session:
        sync_catalogue(session)
        load_demo(session, DEMO_TODAY)
        session.commit()
    engine.dispose()  # closes the last connection, so SQLite folds the WAL back into the file
    return path


def _copy(template: Path, tmp_path: Path, name: str) -> str:
    target = tmp_path / name
    shutil.copyfile(template, target)
    return _sqlite_url(target)


@pytest.fixture
def db_url(_migrated_template, tmp_path) -> str:
    return _copy(_migrated_template, tmp_path, "mobilis.db")


@pytest.fixture
def demo_db_url(_demo_template, tmp_path) -> str:
    return _copy(_demo_template, tmp_path, "mobilis-demo.db")


def _session(url: str):
    engine = make_engine(url)
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        engine.dispose()


@pytest.fixture
def demo_engine(demo_db_url):
    """An engine on the demo database, for servers the test starts (its sessions are their own)."""
    engine = make_engine(demo_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_url):
    yield from _session(db_url)


@pytest.fixture
def demo_session(demo_db_url):
    yield from _session(demo_db_url)


@pytest.fixture
def demo_today() -> date:
    return DEMO_TODAY


@pytest.fixture
def demo_now() -> datetime:
    return DEMO_NOW


PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/"


@pytest.fixture
def pg_url():
    from bot.db.admin import drop_database, ensure_database

    url = f"{PG_SERVER}mobilis_test_{uuid.uuid4().hex[:12]}"
    try:
        ensure_database(url)
    except Exception as exc:  # any failure to connect means "no server here"
        pytest.skip(f"PostgreSQL unreachable at 127.0.0.1:5432 (user postgres, trust auth): {type(exc).__name__}")
    try:
        yield url
    finally:
        drop_database(url)
