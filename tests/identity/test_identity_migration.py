"""Migration 0003_identity creates exactly the tables of bot/db/identity.py (SQLite here)."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.db.all_models import Base

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "bot" / "db" / "migrations" / "versions"
IDENTITY_TABLES = {"consents", "messenger_links", "link_challenges", "link_events", "link_lockouts", "sms_outbox"}


def _identity_diffs(conn):
    diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    flat = []
    for diff in diffs:
        for item in diff if isinstance(diff, list) else [diff]:
            if any(name in repr(item) for name in IDENTITY_TABLES):
                flat.append(item)
    return flat


def test_upgrade_matches_models_and_downgrade_removes(tmp_path):
    from bot.db import migrate

    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url, "0003_identity")
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= IDENTITY_TABLES
        with engine.connect() as conn:
            assert _identity_diffs(conn) == []
        migrate.downgrade(url, "0002_messaging")
        assert not IDENTITY_TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
