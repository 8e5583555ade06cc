"""Create or drop a PostgreSQL database named by a SQLAlchemy URL (deployment and tests).

Connects to the server's `postgres` maintenance database with the same credentials, in
autocommit (CREATE DATABASE cannot run inside a transaction).
"""

from __future__ import annotations

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL, Engine, make_url


def _admin_engine(url: URL) -> Engine:
    return create_engine(
        url.set(database="postgres"),
        poolclass=pool.NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )


def ensure_database(url: str) -> bool:
    """Create the database if it does not exist; True when it was created."""
    target = make_url(url)
    engine = _admin_engine(target)
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
            return not exists
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    target = make_url(url)
    engine = _admin_engine(target)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        engine.dispose()
