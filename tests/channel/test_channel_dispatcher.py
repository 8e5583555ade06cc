"""Durable inbox and dispatcher: ordering per sender, parallel senders, claims, start-up resume."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from channel_helpers import entry, page_body, signed_post, text_event, wait_idle
from sqlalchemy import select, update

from bot import clock
from bot.channel.dispatcher import Dispatcher
from bot.channel.events import parse_webhook
from bot.channel.inbox import Inbox
from bot.db import messaging as m


def record(inbox, *items):
    return inbox.record(parse_webhook(page_body(entry(*items))).events)


def statuses(sessions):
    with sessions() as session:
        return [
            (r.id, r.status, r.attempts) for r in session.scalars(select(m.InboundEvent).order_by(m.InboundEvent.id))
        ]


class RecordingHandler:
    def __init__(self, delay=0.02, fail_on=None):
        self.delay, self.fail_on = delay, fail_on
        self.lock = threading.Lock()
        self.order: list[tuple[str, str]] = []
        self.running: dict[str, int] = {}
        self.max_per_sender = 0
        self.max_total = 0

    def __call__(self, event):
        with self.lock:
            self.running[event.sender_id] = self.running.get(event.sender_id, 0) + 1
            self.max_per_sender = max(self.max_per_sender, self.running[event.sender_id])
            self.max_total = max(self.max_total, sum(self.running.values()))
        time.sleep(self.delay)
        with self.lock:
            self.running[event.sender_id] -= 1
            self.order.append((event.sender_id, event.text))
        if event.text == self.fail_on:
            raise RuntimeError("boom")
        return m.DONE, None


def test_one_sender_in_order_and_senders_in_parallel(sessions):
    inbox = Inbox(sessions)
    handler = RecordingHandler(delay=0.05)
    dispatcher = Dispatcher(inbox, handler, workers=4, sweep_interval=None)
    dispatcher.start()
    items = []
    for i in range(5):
        items += [text_event("alice", f"a{i}", f"mid.a{i}"), text_event("bob", f"b{i}", f"mid.b{i}")]
    for accepted in record(inbox, *items):
        dispatcher.submit(accepted.sender_id, accepted.id)
    assert dispatcher.wait_idle(10)
    dispatcher.stop()
    assert [t for s, t in handler.order if s == "alice"] == [f"a{i}" for i in range(5)]
    assert [t for s, t in handler.order if s == "bob"] == [f"b{i}" for i in range(5)]
    assert handler.max_per_sender == 1  # never two events of one sender at once
    assert handler.max_total >= 2  # different senders did run side by side
    assert {s for _, s, _ in statuses(sessions)} == {m.DONE}


def test_handler_crash_marks_failed_and_worker_survives(sessions):
    inbox = Inbox(sessions)
    dispatcher = Dispatcher(inbox, RecordingHandler(delay=0, fail_on="boom"), workers=1, sweep_interval=None)
    dispatcher.start()
    for accepted in record(inbox, text_event("u", "boom", "mid.1"), text_event("u", "ok", "mid.2")):
        dispatcher.submit(accepted.sender_id, accepted.id)
    assert dispatcher.wait_idle(5)
    dispatcher.stop()
    with sessions() as session:
        rows = list(session.scalars(select(m.InboundEvent).order_by(m.InboundEvent.id)))
    assert [r.status for r in rows] == [m.FAILED, m.DONE]
    assert "RuntimeError: boom" in rows[0].error


def test_claim_is_exclusive_between_workers(sessions):
    first, second = Inbox(sessions), Inbox(sessions)
    [accepted] = record(first, text_event("u", "x", "mid.c"))
    assert first.claim(accepted.id) is not None
    assert second.claim(accepted.id) is None
    second.finish(accepted.id, m.DONE)  # not its claim: ignored
    assert statuses(sessions) == [(accepted.id, m.PROCESSING, 1)]


def test_startup_resumes_pending_and_in_progress_events(sessions):
    dead = Inbox(sessions, worker_id="dead-process")
    accepted = record(
        dead, text_event("u", "one", "mid.1"), text_event("u", "two", "mid.2"), text_event("v", "three", "mid.3")
    )
    dead.claim(accepted[0].id)  # the crashed process was handling "one"
    handler = RecordingHandler(delay=0)
    dispatcher = Dispatcher(Inbox(sessions), handler, sweep_interval=None)
    dispatcher.start()
    assert dispatcher.wait_idle(5)
    dispatcher.stop()
    assert [t for s, t in handler.order if s == "u"] == ["one", "two"]
    assert sorted(handler.order) == [("u", "one"), ("u", "two"), ("v", "three")]
    assert statuses(sessions) == [(accepted[0].id, m.DONE, 2), (accepted[1].id, m.DONE, 1), (accepted[2].id, m.DONE, 1)]


def test_claim_lease_leaves_live_claims_alone(sessions):
    other = Inbox(sessions, worker_id="other-process")
    fresh, stale = record(other, text_event("u", "fresh", "mid.f"), text_event("v", "stale", "mid.s"))
    other.claim(fresh.id)
    other.claim(stale.id)
    with sessions() as session:
        session.execute(
            update(m.InboundEvent)
            .where(m.InboundEvent.id == stale.id)
            .values(claimed_at=clock.utcnow() - timedelta(minutes=10))
        )
        session.commit()
    assert Inbox(sessions).requeue_in_progress(older_than=timedelta(minutes=2)) == 1
    assert [s for _, s, _ in statuses(sessions)] == [m.PROCESSING, m.PENDING]


def test_sweep_picks_up_pending_rows_nobody_queued(sessions):
    inbox = Inbox(sessions)
    handler = RecordingHandler(delay=0)
    dispatcher = Dispatcher(inbox, handler, sweep_interval=0.05, sweep_grace=0)
    dispatcher.start()
    record(inbox, text_event("u", "accepted elsewhere", "mid.e"))  # e.g. by another process
    deadline = time.monotonic() + 5
    while not handler.order and time.monotonic() < deadline:
        time.sleep(0.02)
    dispatcher.stop()
    assert handler.order == [("u", "accepted elsewhere")]


def test_events_accepted_while_down_are_answered_at_next_start(make_app, standin, fake_rasa):
    down = make_app(start_worker=False)  # accepts and stores, like a process that died right after
    signed_post(
        down.test_client(),
        page_body(entry(text_event("u1", "bonjour", "mid.r1"), text_event("u1", "mon solde", "mid.r2"))),
    )
    assert fake_rasa.received == []
    restarted = make_app()
    wait_idle(restarted)
    assert fake_rasa.texts("u1") == ["bonjour", "mon solde"]
    assert [r["message"]["text"] for r in standin.messages("u1")] == ["écho : bonjour", "écho : mon solde"]


def test_live_claims_are_renewed_so_a_long_turn_is_not_taken_by_another_process(sessions):
    inbox = Inbox(sessions)
    record(inbox, text_event("u1", "long", "mid.long"))
    release = threading.Event()

    def slow_handler(event):
        release.wait(5)
        return m.DONE, None

    dispatcher = Dispatcher(inbox, slow_handler, sweep_interval=0.05, claim_lease=0.3)
    dispatcher.start()
    try:
        time.sleep(1.0)  # three leases long: without the heartbeat the claim would be requeued
        other = Inbox(sessions)
        assert other.requeue_in_progress(older_than=timedelta(seconds=0.3)) == 0
        assert statuses(sessions) == [(1, m.PROCESSING, 1)]
    finally:
        release.set()
        assert dispatcher.wait_idle(5)
        dispatcher.stop()
    assert statuses(sessions) == [(1, m.DONE, 1)]
