"""Migration 0002_messaging matches bot/db/messaging.py and goes down and up again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, pool

from bot.db import messaging as m
from bot.db.migrate import downgrade, upgrade

MY_TABLES = {"inbound_events", "outbound_messages"}


def tables(url):
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_dedup_key_has_a_named_unique_constraint(db_url):
    engine = create_engine(db_url, poolclass=pool.NullPool)
    try:
        unique = inspect(engine).get_unique_constraints("inbound_events")
    finally:
        engine.dispose()
    assert {"name": "uq_inbound_events_dedup_key", "column_names": ["dedup_key"]}.items() <= unique[0].items()


def test_downgrade_to_domain_removes_only_messaging_tables_and_upgrade_restores_them(db_url):
    assert tables(db_url) >= MY_TABLES
    downgrade(db_url, "0001_domain")
    assert not MY_TABLES & tables(db_url) and "lines" in tables(db_url)
    upgrade(db_url)
    assert tables(db_url) >= MY_TABLES


def test_dedup_key_is_unique_in_the_migrated_database(db_url):
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    engine = create_engine(db_url, poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            for _ in range(2):
                session.add(
                    m.InboundEvent(
                        dedup_key="mid:x",
                        channel="messaging",
                        kind="text",
                        sender_id="u",
                        raw_json="{}",
                        status=m.PENDING,
                    )
                )
            try:
                session.commit()
                raised = False
            except IntegrityError:
                raised = True
    finally:
        engine.dispose()
    assert raised
