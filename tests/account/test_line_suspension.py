"""bot.services.account.line_suspension on the demo data, and migration 0006_suspension."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, pool, select

from bot.db.account import Line, LineStatus, Notification
from bot.db.all_models import Base
from bot.db.identity import MessengerLink
from bot.db.migrate import downgrade, upgrade
from bot.db.suspension import LineSuspension
from bot.services.account.line_suspension import latest_suspension, lost_phone_reply, suspend_linked_line
from bot.services.purchasing import purchases

MARIE, SYLVIE = "psid-marie", "psid-sylvie"


def line(session, msisdn: str) -> Line:
    return session.scalar(select(Line).where(Line.msisdn == msisdn))


def link(session, psid: str, msisdn: str, now) -> Line:
    target = line(session, msisdn)
    session.add(MessengerLink(psid=psid, line_id=target.id, linked_at=now, via="test"))
    session.flush()
    return target


def count(session, model, line_id: int) -> int:
    return session.scalar(select(func.count(model.id)).where(model.line_id == line_id))


def test_suspends_only_the_linked_line_and_records_who_when_why(demo_session, demo_now):
    marie = link(demo_session, MARIE, "791234", demo_now)
    link(demo_session, SYLVIE, "797878", demo_now)
    notes_before = count(demo_session, Notification, marie.id)
    reply = suspend_linked_line(demo_session, MARIE, now=demo_now)
    demo_session.commit()
    assert reply.text.startswith("C'est fait : la ligne 79 12 34 est suspendue depuis le 15/03/2026 à 12:00")
    for step in ("police", "*#06#", "même numéro", "appelez le 1000", "en agence"):
        assert step in reply.text
    assert [q.payload for q in reply.quick_replies] == ["/find_agency", "/contact_1000"]
    assert line(demo_session, "791234").status == LineStatus.SUSPENDED
    assert line(demo_session, "797878").status == LineStatus.ACTIVE
    record = latest_suspension(demo_session, marie.id)
    assert (record.psid, record.reason, record.channel, record.created_at) == (
        MARIE,
        "lost_or_stolen",
        "messenger",
        demo_now,
    )
    assert count(demo_session, Notification, marie.id) == notes_before + 1
    note = demo_session.scalar(
        select(Notification).where(Notification.line_id == marie.id).order_by(Notification.id.desc()).limit(1)
    )
    assert note.title == "Ligne suspendue (perte ou vol)" and note.read_at is None
    assert "1000" in note.body


def test_is_idempotent(demo_session, demo_now):
    marie = link(demo_session, MARIE, "791234", demo_now)
    suspend_linked_line(demo_session, MARIE, now=demo_now)
    notes = count(demo_session, Notification, marie.id)
    again = suspend_linked_line(demo_session, MARIE, now=demo_now + timedelta(minutes=1))
    assert "déjà suspendue" in again.text and "*#06#" in again.text
    assert count(demo_session, LineSuspension, marie.id) == 1
    assert count(demo_session, Notification, marie.id) == notes


def test_not_linked_changes_nothing(demo_session, demo_now):
    reply = suspend_linked_line(demo_session, "psid-nobody", now=demo_now)
    assert "appelez le 1000" in reply.text and reply.quick_replies[0].payload == "/human"
    assert demo_session.scalar(select(func.count(LineSuspension.id))) == 0
    assert demo_session.scalar(select(func.count(Line.id)).where(Line.status == LineStatus.SUSPENDED)) == 1  # demo


def test_a_suspended_line_cannot_buy(demo_session, demo_now):
    link(demo_session, MARIE, "791234", demo_now)
    suspend_linked_line(demo_session, MARIE, now=demo_now)
    demo_session.commit()
    assert purchases.buy(demo_session, MARIE, "recharge 3000", now=demo_now).outcome == purchases.Outcome.LINE_SUSPENDED


def test_lost_phone_reply_depends_on_the_link(demo_session, demo_now):
    assert next(q.payload for q in lost_phone_reply(demo_session, "psid-nobody").quick_replies) == "/human"
    link(demo_session, MARIE, "791234", demo_now)
    offer = lost_phone_reply(demo_session, MARIE)
    assert "ligne 79 12 34" in offer.text
    assert [q.payload for q in offer.quick_replies] == ["/confirm_suspend", "/cancel_suspend"]
    link(demo_session, "psid-thomas", "921111", demo_now)  # demo line already suspended
    assert "déjà suspendue" in lost_phone_reply(demo_session, "psid-thomas").text


def test_rejects_bad_arguments(demo_session, demo_now):
    link(demo_session, MARIE, "791234", demo_now)
    with pytest.raises(ValueError):
        suspend_linked_line(demo_session, MARIE, reason="bored", now=demo_now)
    assert line(demo_session, "791234").status == LineStatus.ACTIVE


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_matches_the_model_and_downgrades(db_url):
    engine = create_engine(db_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(context, Base.metadata) if "line_suspensions" in repr(d)]
    finally:
        engine.dispose()
    assert diff == []
    downgrade(db_url, "0005_handoff")
    assert "line_suspensions" not in _tables(db_url) and "escalations" in _tables(db_url)
    upgrade(db_url)
    assert "line_suspensions" in _tables(db_url)
