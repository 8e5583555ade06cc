"""Fixtures for identity tests: in-memory SQLite with every table, a controllable clock, lines."""

from __future__ import annotations

import pytest
from identity_helpers import Clock, make_line
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from bot.db.all_models import Base
from bot.services.identity.sms import OutboxSmsGateway

PEPPER = "test-pepper"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("MOBILIS_OTP_PEPPER", PEPPER)
    monkeypatch.delenv("MOBILIS_DEV_MODE", raising=False)
    monkeypatch.delenv("MOBILIS_CGU_VERSION", raising=False)
    monkeypatch.delenv("SMS_GATEWAY", raising=False)


@pytest.fixture
def session():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _fk(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def lines(session):
    """Alice owns 791234 and 791235; Bob owns 881111 (a stranger to Alice)."""
    alice_a = make_line(session, "791234")
    alice_b = make_line(session, "791235", subscriber=alice_a.subscriber)
    bob = make_line(session, "881111")
    return {"alice_a": alice_a, "alice_b": alice_b, "bob": bob}


@pytest.fixture
def outbox(session):
    return OutboxSmsGateway(session)
