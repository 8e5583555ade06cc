"""Delivery under faults: Rasa down or slow, Send API outages, a worker that died mid-turn.

Every accepted message is answered once, in order, or the user is told once that it failed.
"""

from __future__ import annotations

import json
import time

import pytest
from channel_helpers import entry, fast_graph, fast_rasa, make_settings, page_body, signed_post, text_event
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bot.channel.app import ChannelOptions, create_app
from bot.channel.processing import APOLOGY_TEXT, NO_ANSWER_TEXT, SLOW_TEXT, RetryPolicy, gave_up_text
from bot.db import messaging as m

FAST_RETRY = RetryPolicy(first_delay=0.2, max_delay=0.4, window=30.0, slow_notice=None)


@pytest.fixture
def start_app(sessions, fake_rasa, standin):
    apps = []

    def factory(retry: RetryPolicy = FAST_RETRY, graph=None):
        settings = make_settings(GRAPH_API_URL=standin.url, RASA_URL=fake_rasa.url)
        app = create_app(
            settings,
            session_factory=sessions,
            rasa_client=fast_rasa(fake_rasa.url),
            graph_client=graph or fast_graph(standin.url),
            options=ChannelOptions(workers=4, sweep_interval=0.05, retry=retry),
        )
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["mobilis_channel"].dispatcher.stop(wait=True)


def texts(standin, psid):
    return [msg["message"].get("text") for msg in standin.messages(psid)]


def rows(sessions):
    with sessions() as session:
        return list(session.scalars(select(m.InboundEvent).order_by(m.InboundEvent.id)))


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def post(app, psid, text, mid, ts=1700000000001):
    assert signed_post(app.test_client(), page_body(entry(text_event(psid, text, mid, ts)))).status_code == 200


def test_rasa_down_apologises_once_then_answers_in_order_when_back(start_app, fake_rasa, standin, sessions):
    fake_rasa.down = True
    app = start_app()
    post(app, "u1", "solde", "mid.1", ts=1)
    post(app, "u1", "ma conso", "mid.2", ts=2)
    assert wait_until(lambda: texts(standin, "u1") == [APOLOGY_TEXT]), texts(standin, "u1")
    time.sleep(1.0)  # several retries while down: still one apology, the second message waits
    assert texts(standin, "u1") == [APOLOGY_TEXT]
    assert rows(sessions)[0].attempts >= 2 and rows(sessions)[1].attempts == 0

    fake_rasa.down = False
    expected = [APOLOGY_TEXT, "écho : solde", "écho : ma conso"]
    assert wait_until(lambda: texts(standin, "u1") == expected), texts(standin, "u1")
    time.sleep(0.5)
    assert texts(standin, "u1") == expected  # answered once each
    assert fake_rasa.texts("u1") == ["solde", "ma conso"]
    assert [r.status for r in rows(sessions)] == [m.DONE, m.DONE]


class SwitchableLocks:
    """The shared sender locks, with Redis that can be unplugged (`down = True`)."""

    def __init__(self, inner):
        self.inner, self.down = inner, False

    def acquire(self, sender_id):
        if self.down:
            raise ConnectionError("Redis unreachable (test)")
        return self.inner.acquire(sender_id)


def unplug_redis(app) -> SwitchableLocks:
    dispatcher = app.extensions["mobilis_channel"].dispatcher
    dispatcher.locks = SwitchableLocks(dispatcher.locks)
    dispatcher.locks.down = True
    return dispatcher.locks


def test_redis_down_apologises_once_then_answers_when_back(start_app, fake_rasa, standin, sessions):
    """Multi-process mode with Redis down: no turn may run without the sender lock, but the user
    is not left in silence (it was, for as long as Redis was down)."""
    app = start_app()
    locks = unplug_redis(app)
    post(app, "u3", "solde", "mid.r1", ts=1)
    assert wait_until(lambda: texts(standin, "u3") == [APOLOGY_TEXT]), texts(standin, "u3")
    assert wait_until(lambda: rows(sessions)[0].attempts >= 2)  # retried meanwhile, still one apology
    assert texts(standin, "u3") == [APOLOGY_TEXT] and fake_rasa.texts("u3") == []
    locks.down = False
    assert wait_until(lambda: texts(standin, "u3") == [APOLOGY_TEXT, "écho : solde"]), texts(standin, "u3")
    assert wait_until(lambda: rows(sessions)[0].status == m.DONE)
    assert texts(standin, "u3") == [APOLOGY_TEXT, "écho : solde"]


def test_redis_down_past_the_window_tells_the_user_once(start_app, fake_rasa, standin, sessions):
    app = start_app(RetryPolicy(first_delay=0.1, max_delay=0.1, window=0.6, slow_notice=None))
    unplug_redis(app)
    post(app, "u4", "mon offre stp", "mid.r2")
    expected = [APOLOGY_TEXT, gave_up_text("mon offre stp")]
    assert wait_until(lambda: texts(standin, "u4") == expected), texts(standin, "u4")
    assert wait_until(lambda: rows(sessions)[0].status == m.FAILED)
    assert texts(standin, "u4") == expected and fake_rasa.texts("u4") == []


def test_rasa_down_past_the_window_tells_the_user_once(start_app, fake_rasa, standin, sessions):
    fake_rasa.down = True
    app = start_app(RetryPolicy(first_delay=0.1, max_delay=0.1, window=0.6, slow_notice=None))
    post(app, "u2", "mon offre stp", "mid.w")
    gave_up = gave_up_text("mon offre stp")
    assert "« mon offre stp »" in gave_up and "1000" in gave_up
    assert wait_until(lambda: texts(standin, "u2") == [APOLOGY_TEXT, gave_up]), texts(standin, "u2")
    time.sleep(0.4)
    assert texts(standin, "u2") == [APOLOGY_TEXT, gave_up]
    [row] = rows(sessions)
    assert row.status == m.FAILED and row.error.startswith("gave up")
    assert gave_up_text("/show_balance").startswith("Désolé, je n'ai pas pu traiter votre message à cause")


def test_slow_rasa_gets_a_notice_within_seconds_then_the_answer_once(start_app, fake_rasa, standin, sessions):
    fake_rasa.delay = 0.8
    app = start_app(RetryPolicy(first_delay=0.2, window=30.0, slow_notice=0.2))
    started = time.monotonic()
    post(app, "u3", "solde", "mid.s")
    assert wait_until(lambda: texts(standin, "u3")[:1] == [SLOW_TEXT], timeout=3)
    assert time.monotonic() - started < 0.7  # before Rasa answered
    assert wait_until(lambda: texts(standin, "u3") == [SLOW_TEXT, "écho : solde"])
    time.sleep(0.3)
    assert texts(standin, "u3") == [SLOW_TEXT, "écho : solde"] and fake_rasa.texts("u3") == ["solde"]
    [row] = rows(sessions)
    assert row.status == m.DONE and row.apologised


def test_send_api_outage_resends_only_what_is_left_without_a_second_turn(start_app, fake_rasa, standin, sessions):
    fake_rasa.reply = lambda sender, text: [{"text": "bulle 1"}, {"text": "bulle 2"}, {"text": "bulle 3"}]
    app = start_app(graph=fast_graph(standin.url, attempts=1))
    calls = {"n": 0}
    original = standin.record_send

    def flaky(payload):  # typing_on, bubble 1 pass; bubble 2 hits a Graph outage once
        calls["n"] += 1
        if calls["n"] == 2:
            standin.fail_next(2, http_status=500)
        return original(payload)

    standin.record_send = flaky
    post(app, "u4", "aide", "mid.g")
    assert wait_until(lambda: texts(standin, "u4") == ["bulle 1", "bulle 2", "bulle 3"]), texts(standin, "u4")
    time.sleep(0.3)
    assert texts(standin, "u4") == ["bulle 1", "bulle 2", "bulle 3"]
    assert fake_rasa.texts("u4") == ["aide"]  # the turn was not played twice
    [row] = rows(sessions)
    assert (row.status, row.replies_sent, row.attempts) == (m.DONE, 3, 2)


def test_a_turn_interrupted_after_rasa_answered_is_finished_from_the_stored_answer(
    sessions, fake_rasa, standin, start_app
):
    # What a worker killed mid-turn leaves: a claimed row with Rasa's answer and one bubble sent.
    app = start_app()
    app.extensions["mobilis_channel"].dispatcher.stop(wait=True)
    post(app, "u5", "achat", "mid.k")
    stored = [{"text": "déjà envoyé"}, {"text": "reste à envoyer"}]
    with sessions() as session:
        session.execute(
            update(m.InboundEvent).values(
                status=m.PROCESSING,
                claimed_by="dead-worker",
                attempts=1,
                replies_json=json.dumps(stored),
                replies_sent=1,
            )
        )
        session.commit()
    restarted = start_app()  # start-up puts the dead worker's claim back in the queue
    assert wait_until(lambda: texts(standin, "u5") == ["reste à envoyer"]), texts(standin, "u5")
    assert restarted.extensions["mobilis_channel"].dispatcher.wait_idle(5)
    assert fake_rasa.texts("u5") == []
    [row] = rows(sessions)
    assert (row.status, row.replies_sent, row.attempts) == (m.DONE, 2, 2)


def test_answer_refused_outside_the_24_hour_window_is_dropped_not_retried(start_app, fake_rasa, standin, sessions):
    # E.g. Rasa came back a day later: Messenger refuses a RESPONSE (code 10, subcode 2018278).
    standin.fail_next(code=10, subcode=2018278, count=1)  # the typing indicator is best effort
    standin.fail_next(code=10, subcode=2018278, count=1)
    app = start_app()
    post(app, "u6", "solde", "mid.late")
    assert app.extensions["mobilis_channel"].dispatcher.wait_idle(5)
    time.sleep(0.3)
    [row] = rows(sessions)
    assert (row.status, row.error, row.attempts) == (m.DONE, "outside the 24-hour window: replies dropped", 1)
    assert texts(standin, "u6") == [] and fake_rasa.texts("u6") == ["solde"]
    with sessions() as session:
        logged = [o.status for o in session.scalars(select(m.OutboundMessage))]
    assert logged == ["dropped", "dropped"]  # the typing indicator and the answer


def test_an_empty_rasa_answer_still_answers_the_user_with_a_way_out(start_app, fake_rasa, standin, sessions):
    # What Rasa returns when a custom action failed (action server down): nothing at all.
    fake_rasa.reply = lambda sender, text: []
    app = start_app()
    post(app, "u7", "mon solde", "mid.empty")
    assert wait_until(lambda: texts(standin, "u7") == [NO_ANSWER_TEXT])
    assert "1000" in NO_ANSWER_TEXT
    assert wait_until(lambda: [r.status for r in rows(sessions)] == [m.DONE])


def test_database_down_at_reception_gets_a_500_then_the_redelivery_is_answered_once(
    start_app, fake_rasa, standin, sessions, monkeypatch
):
    app = start_app()
    inbox = app.extensions["mobilis_channel"].inbox
    real_record = inbox.record

    def database_down(events):
        raise OperationalError("INSERT", {}, Exception("could not connect to server"))

    monkeypatch.setattr(inbox, "record", database_down)
    body = page_body(entry(text_event("u8", "solde", "mid.db")))
    assert signed_post(app.test_client(), body).status_code == 500  # Meta will deliver it again
    assert rows(sessions) == [] and standin.sends == []

    monkeypatch.setattr(inbox, "record", real_record)
    for _ in range(2):  # Meta's redelivery, and a duplicate of it
        assert signed_post(app.test_client(), body).status_code == 200
    assert wait_until(lambda: texts(standin, "u8") == ["écho : solde"])
    time.sleep(0.3)
    assert texts(standin, "u8") == ["écho : solde"] and len(rows(sessions)) == 1


def test_an_echoed_bubble_is_not_sent_again_when_a_killed_turn_resumes(sessions, fake_rasa, standin, start_app):
    # A worker killed after Facebook accepted bubble 1 but before its cursor commit: the row still
    # says 1 bubble sent. Meta's echo of bubble 1 (its metadata tag) moves the cursor instead.
    app = start_app()
    app.extensions["mobilis_channel"].dispatcher.stop(wait=True)
    post(app, "u9", "aide", "mid.echo")
    stored = [{"text": "un"}, {"text": "deux"}, {"text": "trois"}]
    [row] = rows(sessions)
    with sessions() as session:
        session.execute(
            update(m.InboundEvent).values(
                status=m.PROCESSING,
                claimed_by="dead-worker",
                attempts=1,
                replies_json=json.dumps(stored),
                replies_sent=1,
            )
        )
        session.commit()
    echo = {
        "sender": {"id": "PAGE"},
        "recipient": {"id": "u9"},
        "timestamp": 7,
        "message": {"is_echo": True, "app_id": 1, "mid": "m_echo_2", "text": "deux", "metadata": f"mobilis:{row.id}:1"},
    }
    stale = dict(echo, message=dict(echo["message"], mid="m_echo_1", metadata=f"mobilis:{row.id}:0"))
    for item in (echo, stale):  # an older echo arriving late never moves the cursor back
        assert signed_post(app.test_client(), page_body(entry(item))).status_code == 200
    assert rows(sessions)[0].replies_sent == 2
    restarted = start_app()
    assert wait_until(lambda: texts(standin, "u9") == ["trois"]), texts(standin, "u9")
    assert restarted.extensions["mobilis_channel"].dispatcher.wait_idle(5)
    assert [msg["message"]["metadata"] for msg in standin.messages("u9")] == [f"mobilis:{row.id}:2"]
    assert (rows(sessions)[0].status, rows(sessions)[0].replies_sent) == (m.DONE, 3)
