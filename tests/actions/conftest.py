"""Fixtures of the action tests: the demo database (tests/conftest.py) reached the way the action
server reaches it — DATABASE_URL + bot.db.base.session_scope() — and rasa_sdk helpers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import clock as bot_clock
from bot.config import get_settings
from bot.db.account import Line
from bot.db.base import engine_for, session_scope
from bot.db.identity import MessengerLink
from bot.services.privacy.consent import record_consent


def _reset_caches() -> None:
    engine_for.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def action_db(demo_db_url, demo_now, monkeypatch):
    """The demo database behind session_scope(), production-like settings, the demo clock."""
    monkeypatch.setenv("DATABASE_URL", demo_db_url)
    monkeypatch.setenv("MOBILIS_DEV_MODE", "0")
    for name in ("FB_APP_SECRET", "FB_VERIFY_TOKEN", "FB_PAGE_ACCESS_TOKEN"):
        monkeypatch.setenv(name, "test-" + name.lower())
    # Every clock of the process (bot.clock) on the demo day: the demo data are built around DEMO_NOW.
    monkeypatch.setattr(bot_clock, "utcnow", lambda: demo_now)
    _reset_caches()
    yield demo_db_url
    engine_for(demo_db_url).dispose()  # release the SQLite file before tmp_path goes away
    _reset_caches()


@pytest.fixture
def consented(action_db, demo_now):
    """consented(psid): this PSID accepted the current CGU (account actions are gated on it)."""

    def _consent(psid: str) -> None:
        with session_scope() as session:
            record_consent(session, psid, now=demo_now)

    return _consent


@pytest.fixture
def link(action_db, demo_now, consented):
    """link(psid, msisdn): this PSID accepted the CGU and proved it holds the line (as the SMS
    code does in the real flow)."""

    def _link(psid: str, msisdn: str) -> None:
        consented(psid)
        with session_scope() as session:
            line = session.scalar(select(Line).where(Line.msisdn == msisdn))
            session.add(MessengerLink(psid=psid, line_id=line.id, linked_at=demo_now, via="sms"))

    return _link
