"""Migration 0004_purchasing matches bot/db/purchasing.py and goes down and up again."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.exc import IntegrityError

from bot.db import migrate

MY_TABLES = {"purchase_quotes", "payment_sessions"}


def tables(url):
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_revision_follows_identity():
    script = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0004_purchasing")
    assert script.down_revision == "0003_identity"


def test_quote_token_and_purchase_are_unique(db_url):
    engine = create_engine(db_url, poolclass=pool.NullPool)
    try:
        uniques = {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("purchase_quotes")}
    finally:
        engine.dispose()
    assert {("token",), ("purchase_id",)} <= uniques


def test_downgrade_removes_only_these_tables_and_upgrade_restores_them(db_url):
    assert tables(db_url) >= MY_TABLES
    migrate.downgrade(db_url, "0003_identity")
    left = tables(db_url)
    assert not MY_TABLES & left and {"purchases", "messenger_links"} <= left
    migrate.upgrade(db_url)
    assert tables(db_url) >= MY_TABLES


def test_status_check_constraint(db_url):
    engine = create_engine(db_url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO subscribers (id, first_name, last_name, created_at) VALUES (1,'a','b','2026-01-01')")
            )
            conn.execute(
                text(
                    "INSERT INTO offers (code, name, plan_family, price_xpf, recurring, voice_unlimited, "
                    "sms_unlimited, data_unlimited, description, is_sample, active) "
                    "VALUES ('T','t','liberte',1,0,0,0,0,'',0,1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO lines (id, msisdn, subscriber_id, plan_family, offer_code, status, activated_at) "
                    "VALUES (1,'791234',1,'liberte','T','active','2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO products (id, code, type, name, price_xpf, credit_xpf, sms, data_mb, "
                    "description, is_sample, active) VALUES (1,'P','IMD','p',1,0,0,1,'',0,1)"
                )
            )
        insert = (
            "INSERT INTO purchase_quotes (token, psid, line_id, product_id, product_type, price_xpf, "
            "payment_source, status, created_at, expires_at) VALUES "
            "(:t, 'p', 1, 1, 'IMD', 1, 'credit', :s, '2026-01-01', '2026-01-01')"
        )
        with engine.begin() as conn:
            conn.execute(text(insert), {"t": "a", "s": "open"})
        for token, status in (("b", "maybe"), ("a", "open")):  # unknown status, duplicate token
            try:
                with engine.begin() as conn:
                    conn.execute(text(insert), {"t": token, "s": status})
                raised = False
            except IntegrityError:
                raised = True
            assert raised, (token, status)
    finally:
        engine.dispose()
