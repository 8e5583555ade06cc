"""A conversation Rasa could not erase when the user asked (Rasa down) is erased at a later sweep,
and only what was said before the request; a code that could not be masked is masked later
(bot/channel/tracker_chores.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import sessionmaker

from bot.channel.tracker_chores import ERASE, MASK, TrackerChores, wait_after
from bot.channel.tracker_eraser import TrackerEraseError, TrackerEraser
from bot.db import messaging as m
from bot.db.base import Base, make_engine

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


class FlakyEraser(TrackerEraser):
    """Fails while `down`; records what it was asked to do."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", "token")
        self.down = True
        self.done: list[tuple] = []

    def erase(self, psid, before=None):
        if self.down:
            raise TrackerEraseError("ConnectionError")
        self.done.append(("erase", psid, before))

    def mask_codes(self, psid):
        if self.down:
            raise TrackerEraseError("ConnectionError")
        self.done.append(("mask", psid))


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'chores.db'}")
    Base.metadata.create_all(engine, tables=[m.TrackerChore.__table__])
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def owed(sessions) -> list[tuple]:
    with sessions() as session:
        return [(c.psid, c.kind, c.attempts) for c in session.scalars(select(m.TrackerChore))]


def test_an_erasure_rasa_missed_is_done_at_a_later_sweep_and_then_forgotten(sessions):
    eraser = FlakyEraser()
    chores = TrackerChores(sessions, eraser)
    chores.owe("psid-1", ERASE, NOW, "ConnectionError")
    assert owed(sessions) == [("psid-1", ERASE, 1)]
    assert chores.retry_due(NOW) == 0  # not yet due: the first wait is a minute
    assert chores.retry_due(NOW + timedelta(minutes=1)) == 0  # Rasa still down
    assert owed(sessions) == [("psid-1", ERASE, 2)]
    eraser.down = False
    assert chores.retry_due(NOW + timedelta(minutes=2)) == 0  # waits longer after each failure
    assert chores.retry_due(NOW + timedelta(minutes=3)) == 1
    assert eraser.done == [("erase", "psid-1", NOW)]  # only what was said before the request
    assert owed(sessions) == []  # the PSID is not kept once done


def test_a_newer_request_while_one_is_owed_moves_the_limit_forward(sessions):
    eraser = FlakyEraser()
    eraser.down = False
    chores = TrackerChores(sessions, eraser)
    chores.owe("psid-2", ERASE, NOW, "HTTP 503")
    chores.owe("psid-2", ERASE, NOW + timedelta(minutes=5), "HTTP 503")
    chores.owe("psid-2", MASK, NOW, "HTTP 503")
    assert chores.retry_due(NOW + timedelta(hours=1)) == 2
    assert sorted(eraser.done, key=str) == [("erase", "psid-2", NOW + timedelta(minutes=5)), ("mask", "psid-2")]


def test_waits_grow_and_are_capped():
    assert [wait_after(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert wait_after(40) == timedelta(hours=6)


def test_a_late_erasure_keeps_what_the_user_said_since_in_the_sql_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        columns = "id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, data TEXT"
        connection.execute(text(f"CREATE TABLE events ({columns})"))  # as Rasa's SQL store has it
        for sender, at in (
            ("psid-3", NOW - timedelta(hours=1)),
            ("psid-3", NOW + timedelta(hours=1)),
            ("other", NOW - timedelta(hours=1)),
        ):
            connection.execute(
                text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, '{}')"),
                {"s": sender, "t": at.timestamp()},
            )
    TrackerEraser("http://127.0.0.1:9", "token", tracker_database_url=url).erase("psid-3", before=NOW)
    with engine.connect() as connection:
        left = connection.execute(text("SELECT sender_id, timestamp FROM events ORDER BY id")).all()
    engine.dispose()
    assert left == [
        ("psid-3", (NOW + timedelta(hours=1)).timestamp()),
        ("other", (NOW - timedelta(hours=1)).timestamp()),
    ]
