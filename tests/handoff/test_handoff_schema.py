"""Migration 0005_handoff matches bot/db/handoff.py; settings of the hand-off."""

from __future__ import annotations

from channel_helpers import make_settings
from sqlalchemy import create_engine, inspect, pool

from bot.db.migrate import downgrade, upgrade

MY_TABLES = {"escalations", "escalation_messages", "thread_states"}


def tables(url):
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_downgrade_removes_only_handoff_tables_and_upgrade_restores_them(db_url):
    assert tables(db_url) >= MY_TABLES
    downgrade(db_url, "0004_purchasing")
    remaining = tables(db_url)
    assert not MY_TABLES & remaining and {"inbound_events", "lines"} <= remaining
    upgrade(db_url)
    assert tables(db_url) >= MY_TABLES


def test_settings_defaults_and_overrides():
    settings = make_settings()
    assert (settings.fb_app_id, settings.fb_inbox_app_id, settings.handoff_inactivity_minutes) == (
        "",
        "263902037430900",
        120,
    )
    custom = make_settings(FB_APP_ID="42", FB_INBOX_APP_ID="99", HANDOFF_INACTIVITY_MINUTES="30")
    assert (custom.fb_app_id, custom.fb_inbox_app_id, custom.handoff_inactivity_minutes) == ("42", "99", 30)
