"""POST/GET /webhook end to end: signature, batches, dedup, ignored items, payloads, standby."""

from __future__ import annotations

import json

from channel_helpers import (
    APP_SECRET,
    PAGE_ID,
    VERIFY_TOKEN,
    entry,
    page_body,
    postback_event,
    quick_reply_event,
    signed_post,
    text_event,
    wait_idle,
)
from sqlalchemy import select

from bot.channel.processing import APOLOGY_TEXT
from bot.channel.signature import SIGNATURE_HEADER, sign
from bot.db import messaging as m


def events(sessions):
    with sessions() as session:
        return list(session.scalars(select(m.InboundEvent).order_by(m.InboundEvent.id)))


# ---- verification handshake ----


def test_verification_handshake_returns_challenge_as_plain_text(make_app):
    client = make_app().test_client()
    response = client.get(
        "/webhook",
        query_string={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1158201444"
    assert response.mimetype == "text/plain"


def test_verification_refused_on_wrong_token_or_mode(make_app):
    client = make_app().test_client()
    wrong_token = {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "x"}
    wrong_mode = {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "x"}
    assert client.get("/webhook", query_string=wrong_token).status_code == 403
    assert client.get("/webhook", query_string=wrong_mode).status_code == 403
    assert client.get("/webhook").status_code == 403


# ---- signature ----


def test_good_signature_accepted(make_app, standin):
    app = make_app()
    response = signed_post(app.test_client(), page_body(entry(text_event("u1", "bonjour", "mid.1"))))
    assert response.status_code == 200
    wait_idle(app)
    assert standin.messages("u1")


def test_wrong_signature_refused_and_nothing_stored(make_app, sessions, fake_rasa):
    app = make_app()
    body = json.dumps(page_body(entry(text_event("u1", "bonjour", "mid.1")))).encode()
    response = app.test_client().post(
        "/webhook",
        data=body,
        headers={SIGNATURE_HEADER: sign("another-secret", body), "Content-Type": "application/json"},
    )
    assert response.status_code == 403
    assert events(sessions) == [] and fake_rasa.received == []


def test_missing_signature_refused(make_app, sessions):
    body = json.dumps(page_body(entry(text_event("u1", "bonjour", "mid.1")))).encode()
    response = make_app().test_client().post("/webhook", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 403
    assert events(sessions) == []


def test_signature_is_over_raw_bytes_not_reserialised_json(make_app, sessions):
    # Same JSON value, different bytes (spacing, escaped accent): only the exact bytes verify.
    raw = (
        b'{"object":  "page", "entry": [{"id": "1", "time": 1, "messaging": [{"sender": {"id": "u9"},'
        b' "recipient": {"id": "1"}, "timestamp": 5, "message": {"mid": "mid.raw", "text": "caf\\u00e9"}}]}]}'
    )
    client = make_app().test_client()
    assert signed_post(client, raw).status_code == 200
    reserialised = json.dumps(json.loads(raw)).encode()
    tampered = client.post("/webhook", data=raw, headers={SIGNATURE_HEADER: sign(APP_SECRET, reserialised)})
    assert tampered.status_code == 403


def test_oversized_body_gets_413(make_app):
    app = make_app(start_worker=False)
    big = b'{"object":"page","entry":[],"pad":"' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = signed_post(app.test_client(), big)
    assert response.status_code == 413


def test_invalid_json_with_valid_signature_is_400(make_app):
    assert signed_post(make_app().test_client(), b"{not json").status_code == 400


def test_non_page_object_ignored_with_200(make_app, sessions):
    body = {"object": "instagram", "entry": [{"id": "1", "messaging": [text_event("u1", "x", "mid.ig")]}]}
    assert signed_post(make_app().test_client(), body).status_code == 200
    assert events(sessions) == []


# ---- batches, dedup, ignored items ----


def test_batch_of_two_entries_and_three_events_gets_three_answers(make_app, standin, fake_rasa):
    app = make_app()
    body = page_body(
        entry(text_event("alice", "bonjour", "mid.a1"), text_event("bob", "salut", "mid.b1")),
        entry(text_event("carol", "mon solde", "mid.c1")),
    )
    assert signed_post(app.test_client(), body).status_code == 200
    wait_idle(app)
    assert sorted(fake_rasa.texts()) == ["bonjour", "mon solde", "salut"]
    for psid, text in (("alice", "bonjour"), ("bob", "salut"), ("carol", "mon solde")):
        sent = standin.messages(psid)
        assert [r["message"]["text"] for r in sent] == [f"écho : {text}"]
        assert sent[0]["messaging_type"] == "RESPONSE"
        assert [r["sender_action"] for r in standin.sent_to(psid, kind="sender_action")] == ["typing_on"]


def test_same_mid_posted_twice_is_answered_once(make_app, standin, fake_rasa, sessions):
    app = make_app()
    client = app.test_client()
    body = page_body(entry(text_event("u1", "forfait", "mid.dup")))
    assert signed_post(client, body).status_code == 200
    wait_idle(app)
    assert signed_post(client, body).status_code == 200  # Meta redelivers: still 200
    wait_idle(app)
    assert fake_rasa.texts() == ["forfait"]
    assert len(standin.messages("u1")) == 1
    assert len(events(sessions)) == 1


def test_duplicate_inside_one_batch_is_answered_once(make_app, fake_rasa):
    app = make_app()
    event = text_event("u1", "forfait", "mid.same")
    signed_post(app.test_client(), page_body(entry(event, event)))
    wait_idle(app)
    assert fake_rasa.texts() == ["forfait"]


def test_echoes_deliveries_and_reads_are_ignored(make_app, standin, fake_rasa, sessions):
    app = make_app()
    echo = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": "u1"},
        "timestamp": 1,
        "message": {"mid": "mid.echo", "is_echo": True, "app_id": 42, "text": "réponse du bot"},
    }
    delivery = {
        "sender": {"id": "u1"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 2,
        "delivery": {"mids": ["mid.echo"], "watermark": 2},
    }
    read = {"sender": {"id": "u1"}, "recipient": {"id": PAGE_ID}, "timestamp": 3, "read": {"watermark": 3}}
    assert signed_post(app.test_client(), page_body(entry(echo, delivery, read))).status_code == 200
    wait_idle(app)
    assert fake_rasa.received == [] and standin.sends == [] and events(sessions) == []


# ---- what goes to Rasa ----


def test_quick_reply_payload_is_sent_to_rasa_not_the_title(make_app, fake_rasa):
    app = make_app()
    signed_post(app.test_client(), page_body(entry(quick_reply_event("u1", "Mon offre", "/show_offer", "mid.q"))))
    wait_idle(app)
    assert fake_rasa.texts("u1") == ["/show_offer"]


def test_postback_payload_is_sent_to_rasa_and_deduplicated(make_app, fake_rasa, sessions):
    app = make_app()
    client = app.test_client()
    body = page_body(entry(postback_event("u1", "/get_started", ts=1700000000123)))
    signed_post(client, body)
    signed_post(client, body)
    wait_idle(app)
    assert fake_rasa.texts("u1") == ["/get_started"]
    assert events(sessions)[0].dedup_key.startswith("pb:u1:1700000000123:")


def test_attachment_becomes_attachment_intent(make_app, fake_rasa, sessions):
    app = make_app()
    item = {
        "sender": {"id": "u1"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 9,
        "message": {"mid": "mid.img", "attachments": [{"type": "image", "payload": {"url": "https://x/y.jpg"}}]},
    }
    signed_post(app.test_client(), page_body(entry(item)))
    wait_idle(app)
    assert fake_rasa.texts("u1") == ["/attachment"]
    assert events(sessions)[0].kind == "attachment"


# ---- standby and thread control ----


def test_standby_events_are_stored_but_never_answered(make_app, standin, fake_rasa, sessions):
    app = make_app()
    standby = [text_event("u2", "je veux parler à un conseiller", "mid.sb1")]
    signed_post(app.test_client(), page_body(entry(standby=standby)))
    wait_idle(app)
    assert fake_rasa.received == [] and standin.sends == []
    [row] = events(sessions)
    assert (row.channel, row.status, row.text) == ("standby", m.STORED, "je veux parler à un conseiller")


def test_thread_control_webhooks_are_recorded(make_app, fake_rasa, sessions):
    app = make_app()
    passed = {
        "sender": {"id": "u3"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 11,
        "pass_thread_control": {
            "previous_owner_app_id": "263902037430900",
            "new_owner_app_id": "42",
            "metadata": "retour au bot",
        },
    }
    taken = {
        "sender": {"id": "u3"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 12,
        "take_thread_control": {"previous_owner_app_id": "42", "new_owner_app_id": "263902037430900"},
    }
    signed_post(app.test_client(), page_body(entry(passed, taken)))
    wait_idle(app)
    rows = events(sessions)
    assert [(r.kind, r.status) for r in rows] == [("pass_thread_control", m.STORED), ("take_thread_control", m.STORED)]
    assert json.loads(rows[0].raw_json)["pass_thread_control"]["metadata"] == "retour au bot"
    assert fake_rasa.received == []


# ---- processing outcomes ----


def test_event_is_persisted_before_the_200_and_processed_later(make_app, sessions, fake_rasa):
    app = make_app(start_worker=False)  # no worker: only what the request itself did is visible
    assert signed_post(app.test_client(), page_body(entry(text_event("u1", "bonjour", "mid.p")))).status_code == 200
    [row] = events(sessions)
    assert (row.status, row.text, row.dedup_key) == (m.PENDING, "bonjour", "mid:mid.p")
    assert fake_rasa.received == []


def test_done_status_attempts_and_outbound_log(make_app, sessions):
    app = make_app()
    signed_post(app.test_client(), page_body(entry(text_event("u1", "bonjour", "mid.s"))))
    wait_idle(app)
    [row] = events(sessions)
    assert (row.status, row.attempts, row.error) == (m.DONE, 1, None)
    assert row.claimed_at is not None and row.finished_at is not None
    with sessions() as session:
        sent = list(session.scalars(select(m.OutboundMessage).order_by(m.OutboundMessage.id)))
    # Delivered typing indicators are not logged (a write per turn for nothing); failed ones are.
    assert [(s.kind, s.status) for s in sent] == [("message", "sent")]
    assert sent[0].message_id.startswith("m_standin_") and sent[0].inbound_event_id == row.id


def test_rasa_down_sends_french_apology_and_keeps_the_message(make_app, standin, sessions, closed_port_url):
    app = make_app(rasa_url=closed_port_url)
    signed_post(app.test_client(), page_body(entry(text_event("u1", "bonjour", "mid.down"))))
    wait_idle(app)
    [reply] = standin.messages("u1")
    assert reply["message"]["text"] == APOLOGY_TEXT and "1000" in APOLOGY_TEXT
    [row] = events(sessions)  # kept for a later attempt (tests/channel/test_channel_delivery.py)
    assert row.status == m.PENDING and row.not_before is not None and "rasa unavailable" in row.error


def test_rasa_buttons_reach_messenger_as_quick_replies(make_app, standin, fake_rasa):
    fake_rasa.reply = lambda sender, text: [
        {
            "text": "Que souhaitez-vous ?",
            "buttons": [
                {"title": "Mon offre", "payload": "/show_offer"},
                {"title": "Mon solde", "payload": "/show_balance"},
            ],
        }
    ]
    app = make_app()
    signed_post(app.test_client(), page_body(entry(text_event("u1", "aide", "mid.qr"))))
    wait_idle(app)
    [sent] = standin.messages("u1")
    assert sent["message"]["quick_replies"] == [
        {"content_type": "text", "title": "Mon offre", "payload": "/show_offer"},
        {"content_type": "text", "title": "Mon solde", "payload": "/show_balance"},
    ]


def test_permanent_send_error_stops_and_marks_failed(make_app, standin, fake_rasa, sessions):
    fake_rasa.reply = lambda s, t: [{"text": "un"}, {"text": "deux"}]
    standin.fail_next(code=100, count=1)  # the typing_on
    standin.fail_next(code=100, count=1)  # the first message
    app = make_app()
    signed_post(app.test_client(), page_body(entry(text_event("u1", "x", "mid.perm"))))
    wait_idle(app)
    assert standin.messages("u1") == []  # "deux" was not sent after "un" failed
    [row] = events(sessions)
    assert row.status == m.FAILED and "code=100" in row.error


def test_user_unavailable_drops_replies_without_failing(make_app, standin, fake_rasa, sessions):
    fake_rasa.reply = lambda s, t: [{"text": "un"}, {"text": "deux"}]
    standin.fail_next(code=551, subcode=1545041, count=2)
    app = make_app()
    signed_post(app.test_client(), page_body(entry(text_event("u1", "x", "mid.gone"))))
    wait_idle(app)
    [row] = events(sessions)
    assert row.status == m.DONE and "unavailable" in row.error
    assert standin.request_count == 2  # typing_on, first message; then nothing more


def test_health_endpoint(make_app):
    response = make_app(start_worker=False).test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_dev_endpoints_absent_outside_dev_mode(make_app):
    client = make_app(dev=False).test_client()
    assert client.get("/dev/simulator").status_code == 404
    assert client.post("/dev/api/sign", data=b"{}").status_code == 404
    assert client.post("/dev/graph/v26.0/me/messages", json={}).status_code == 404
