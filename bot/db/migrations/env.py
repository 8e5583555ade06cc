"""Alembic environment: one metadata (bot.db.all_models.Base) for every module's tables.

URL, first found wins: a connection or URL passed by bot/db/migrate.py (config.attributes),
then bot.config settings (DATABASE_URL or the default SQLite file, see migrate.database_url).
Never hard-coded.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from bot.db.all_models import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    from bot.db.migrate import database_url as configured_url

    return config.attributes.get("url") or configured_url()


def configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # NullPool: the migration's connections close at the end, leaving no open file handles.
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
