"""Run Alembic migrations from Python (set-up script, tests) without shelling out."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.config import PROJECT_ROOT


def database_url() -> str:
    """The configured URL (schema and data tools need no secret)."""
    from bot.config import database_url as configured

    return configured()


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    # Absolute path so this works whatever the current directory is.
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "bot" / "db" / "migrations"))
    if url:
        # Passed as an attribute, not an ini option: ini values undergo %-interpolation,
        # which would mangle passwords containing "%".
        cfg.attributes["url"] = url
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """`alembic upgrade head` on `url` (default: the configured DATABASE_URL)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str | None = None) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, pool

    engine = create_engine(url or database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


if __name__ == "__main__":  # python -m bot.db.migrate
    upgrade()
    print("Base de données à jour.")
