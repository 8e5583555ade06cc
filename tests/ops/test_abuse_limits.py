"""Per-sender rate limit (WEBHOOK_USER_RATE) and the request size limit (413)."""

from __future__ import annotations

from channel_helpers import entry, page_body, signed_post, text_event, wait_idle
from sqlalchemy import select

from bot.channel.rate_limit import SLOW_DOWN_TEXT, limiter_for, parse_rate
from bot.db import messaging as m


def test_over_the_limit_events_are_stored_answered_once_and_not_sent_to_rasa(ops_app, fake_rasa, standin, sessions):
    app = ops_app(user_rate="3/minute")
    client = app.test_client()
    for i in range(6):
        assert (
            signed_post(
                client, page_body(entry(text_event("flood", f"msg {i}", f"mid.f{i}", ts=1700000000000 + i)))
            ).status_code
            == 200
        )
        wait_idle(app)  # one at a time: the order of the texts below is deterministic
    signed_post(client, page_body(entry(text_event("calm", "bonjour", "mid.calm"))))
    wait_idle(app)
    assert fake_rasa.texts("flood") == ["msg 0", "msg 1", "msg 2"]
    assert fake_rasa.texts("calm") == ["bonjour"], "another sender is not limited"
    texts = [r["message"]["text"] for r in standin.messages("flood")]
    assert texts.count(SLOW_DOWN_TEXT) == 1, texts
    with sessions() as session:
        rows = session.execute(
            select(m.InboundEvent.status, m.InboundEvent.error)
            .where(m.InboundEvent.sender_id == "flood")
            .order_by(m.InboundEvent.id)
        ).all()
    assert len(rows) == 6 and all(status == m.DONE for status, _ in rows)
    assert [error for _, error in rows[3:]] == ["rate limited: not sent to Rasa"] * 3


def test_rate_setting():
    assert parse_rate(None).amount == 20
    assert parse_rate("5").amount == 5 and parse_rate("5").GRANULARITY.name == "minute"
    assert parse_rate("100/hour").GRANULARITY.name == "hour"
    assert parse_rate("0") is None and limiter_for("off") is None
    limiter = limiter_for("2/minute")
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert [limiter.should_warn("a") for _ in range(2)] == [True, False]


def test_body_over_the_limit_is_413(ops_app, sessions):
    app = ops_app(start_worker=False)
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"object":"page","entry":[],"pad":"' + b"x" * limit + b'"}'
    response = signed_post(app.test_client(), body)
    assert response.status_code == 413
    with sessions() as session:
        assert session.scalar(select(m.InboundEvent.id)) is None
