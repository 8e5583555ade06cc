"""The operator's event hub notifying a usage or a top-up (TMF635 UsageCreateEvent, TMF654
TopupBalanceCreateEvent, checked against the official schemas): the line's alerts are read at
the next sweep instead of waiting for the periodic scan; the listener wants its bearer token."""

from __future__ import annotations

import pytest
from channel_helpers import fast_graph
from channel_helpers import standin as standin
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from tmf_contract import problems

from bot.channel.alert_sender import AlertSender
from bot.channel.operator_events import make_operator_events_blueprint
from bot.config import Settings
from bot.db.alerts import Alert, AlertKind
from bot.services.alerts.subscriptions import Choice, subscribe

TOKEN = "hub-token"
PAUL_BLOQUE = "781515"
USAGE_EVENT = {
    "eventId": "evt-1",
    "eventTime": "2026-03-15T01:00:00Z",
    "eventType": "UsageCreateEvent",
    "event": {
        "usage": {
            "id": "u-9",
            "usageType": "voice",
            "usageDate": "2026-03-15T00:59:00Z",
            "relatedParty": [{"id": PAUL_BLOQUE, "role": "user", "@referredType": "Individual"}],
        }
    },
}


class Ticks:
    """The sweep's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks():
    return Ticks()


@pytest.fixture
def sender(demo_engine, standin, ticks):
    settings = Settings.from_env({"ALERTS_SCAN_MINUTES": "15"})
    sessions = sessionmaker(bind=demo_engine, expire_on_commit=False)
    return AlertSender(sessions, fast_graph(standin.url), settings, clock=ticks)


@pytest.fixture
def hub(sender):
    app = Flask("listener")
    app.register_blueprint(make_operator_events_blueprint(TOKEN, sender.wake))
    return app.test_client()


def test_the_events_we_read_are_the_specs_own():
    assert problems("TMF635", "UsageCreateEvent", USAGE_EVENT) == []


def test_a_usage_event_wakes_the_line_before_the_periodic_scan(
    demo_session, demo_now, linked, sender, hub, ticks, monkeypatch
):
    from bot import clock

    monkeypatch.setattr(clock, "utcnow", lambda: demo_now)
    sender()  # the periodic scan: Paul has not asked for alerts yet
    line = linked("paul", PAUL_BLOQUE)
    subscribe(demo_session, "paul", line, Choice(AlertKind.LOW_CREDIT, 500), demo_now)
    demo_session.commit()
    ticks.now += 60
    sender()  # a minute later: no scan due, nothing woken
    assert demo_session.scalars(select(Alert)).all() == []
    answer = hub.post(
        "/operator/events/usageCreateEvent", json=USAGE_EVENT, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 201
    ticks.now += 60
    sender()
    [alert] = demo_session.scalars(select(Alert)).all()
    assert alert.kind == AlertKind.LOW_CREDIT


def test_the_listener_wants_its_token_and_a_line(hub):
    assert hub.post("/operator/events/usageCreateEvent", json=USAGE_EVENT).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert hub.post("/operator/events/usageCreateEvent", json=USAGE_EVENT, headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert hub.post("/operator/events/somethingElse", json=USAGE_EVENT, headers=right).status_code == 404
    nameless = {"event": {"usage": {"id": "u"}}}
    assert hub.post("/operator/events/usageCreateEvent", json=nameless, headers=right).status_code == 400
    topup = {"event": {"topupBalance": {"logicalResource": [{"id": PAUL_BLOQUE}]}}}
    assert hub.post("/operator/events/topupBalanceCreateEvent", json=topup, headers=right).status_code == 201


def test_without_a_token_the_listener_is_off():
    app = Flask("off")
    app.register_blueprint(make_operator_events_blueprint("", lambda msisdn: None))
    assert app.test_client().post("/operator/events/usageCreateEvent", json=USAGE_EVENT).status_code == 404
