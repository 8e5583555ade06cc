"""POST /payments/notify and GET /payments/pay/<token> through the real app (create_app, not in
dev mode) with the Flask test client, a stand-in Graph API and a stand-in provider API, both on
127.0.0.1. Real time is used: the endpoint checks notification age against the clock."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, jsonify
from purchase_helpers import (
    MARIE_FORFAIT,
    MARIE_LIBERTE,
    SECRET,
    Faults,
    LocalServer,
    assistant_purchases,
    credit,
    link,
    settings,
    signed_notification,
)
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.channel.app import ChannelOptions, create_app
from bot.channel.graph import GraphClient
from bot.config import Settings
from bot.db import messaging as m
from bot.db.purchasing import PaymentSession, PaymentStatus
from bot.devtools.graph_standin import StandinStore, create_standin_app
from bot.services.purchasing import purchases

PAGE_TOKEN = "EAApaymenttestpagetoken"
APP_SECRET = "test-app-secret"


@pytest.fixture
def standin():
    store = StandinStore(expected_token=PAGE_TOKEN)
    server = LocalServer(create_standin_app(store))
    store.url = server.url
    yield store
    server.close()


@pytest.fixture
def provider_api():
    app = Flask("provider")
    app.calls = 0

    @app.post("/sessions")
    def create():
        app.calls += 1
        return jsonify({"id": f"ps_{app.calls}", "url": "https://pay.example.nc/checkout/abc"})

    server = LocalServer(app)
    app.url = server.url + "/sessions"
    yield app
    server.close()


@pytest.fixture
def app(demo_engine, standin, provider_api):
    app_settings = Settings.from_env(
        {
            "MOBILIS_PAYMENT_SECRET": SECRET,
            "MOBILIS_PAYMENT_PROVIDER": "http",
            "MOBILIS_PAYMENT_API_URL": provider_api.url,
            "FB_APP_SECRET": APP_SECRET,
            "FB_VERIFY_TOKEN": "v",
            "FB_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
            "MOBILIS_INTERNAL_TOKEN": "internal-token",
            "RASA_API_TOKEN": "rasa-api-token",
            "GRAPH_API_URL": standin.url,
            "PUBLIC_URL": "http://127.0.0.1:8080",
            "DATABASE_URL": "sqlite://",
        }
    )
    graph = GraphClient(PAGE_TOKEN, APP_SECRET, standin.url, "v26.0", backoff=0, attempts=2)
    app = create_app(
        app_settings,
        session_factory=sessionmaker(bind=demo_engine, expire_on_commit=False),
        graph_client=graph,
        options=ChannelOptions(workers=1, sweep_interval=None),
        start_worker=False,
    )
    yield app
    app.extensions["mobilis_channel"].dispatcher.stop(wait=True)


@pytest.fixture
def pending(demo_engine):
    """A confirmed Recharge Liberté 3 000 waiting for its card payment (real time)."""
    with sessionmaker(bind=demo_engine, expire_on_commit=False)() as session:
        line = link(session, "psid-pay", MARIE_LIBERTE)
        cfg = settings(provider="http", dev_mode=False, payment_api_url="https://provider.invalid")
        token = purchases.choose_product(session, "psid-pay", "RL_3000", settings=cfg).quote_token
        result = purchases.confirm_purchase(session, "psid-pay", token, settings=cfg)
        row = session.scalar(select(PaymentSession).where(PaymentSession.purchase_id == result.purchase_id))
        return {
            "row": row,
            "line": line,
            "credit": credit(session, line),
            "link": result.payment_url,
            "sessions": sessionmaker(bind=demo_engine, expire_on_commit=False),
        }


def post(client, token, status="approved", amount=3000, at=None, secret=SECRET, event_id=None):
    body, headers = signed_notification(token, status, amount, at or datetime.now(UTC), secret, event_id)
    return client.post("/payments/notify", data=body, headers=headers)


def messages_to(store, psid):
    return store.messages(psid)


def test_approval_posted_twice_credits_once_and_sends_one_receipt(app, pending, standin):
    client = app.test_client()
    first = post(client, pending["row"].token, event_id="evt_1")
    second = post(client, pending["row"].token, event_id="evt_1")  # the provider's retry
    assert first.status_code == second.status_code == 200
    assert first.get_json() == {"result": "applied", "notice": "sent"}
    assert second.get_json() == {"result": "duplicate", "notice": "none"}
    [sent] = messages_to(standin, "psid-pay")
    text = sent["message"]["text"]
    assert "Paiement reçu" in text and "Recharge Liberté 3 000" in text and "Référence : MOB-" in text
    assert [q["title"] for q in sent["message"]["quick_replies"]] == ["Mon solde", "Mes achats", "Aide"]
    assert sent["messaging_type"] == "MESSAGE_TAG"  # the user has not written in the last 24 h
    with pending["sessions"]() as session:
        assert credit(session, pending["line"]) == pending["credit"] + 3150
        [purchase] = assistant_purchases(session, pending["line"])
        assert purchase.status.value == "succeeded"
        [logged] = session.scalars(select(m.OutboundMessage).where(m.OutboundMessage.recipient_id == "psid-pay"))
        assert json.loads(logged.payload_json)["tag"] == "POST_PURCHASE_UPDATE" and logged.status == "sent"


def test_concurrent_duplicate_notifications_send_one_message(app, pending, standin):
    barrier, codes = threading.Barrier(8), []

    def worker():
        client = app.test_client()
        barrier.wait()
        codes.append(post(client, pending["row"].token, event_id="evt_same").status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == [200] * 8
    assert len(messages_to(standin, "psid-pay")) == 1
    with pending["sessions"]() as session:
        assert credit(session, pending["line"]) == pending["credit"] + 3150


def test_receipt_is_a_response_when_the_user_wrote_within_24_hours(app, pending, standin):
    with pending["sessions"]() as session:
        session.add(
            m.InboundEvent(
                dedup_key="mid:x1",
                channel="messaging",
                kind="quick_reply",
                sender_id="psid-pay",
                raw_json="{}",
                status=m.DONE,
                received_at=datetime.now(UTC) - timedelta(hours=1),
            )
        )
        session.commit()
    assert post(app.test_client(), pending["row"].token).status_code == 200
    [sent] = messages_to(standin, "psid-pay")
    assert sent["messaging_type"] == "RESPONSE"


def test_decline_sends_nothing_charged(app, pending, standin):
    response = post(app.test_client(), pending["row"].token, status="declined")
    assert response.get_json() == {"result": "applied", "notice": "sent"}
    [sent] = messages_to(standin, "psid-pay")
    assert "refusé par la banque" in sent["message"]["text"] and "Rien n'a été débité" in sent["message"]["text"]
    with pending["sessions"]() as session:
        assert credit(session, pending["line"]) == pending["credit"]


@pytest.mark.parametrize(
    "kwargs, code, error",
    [
        ({"secret": "not-the-secret"}, 403, "signature"),
        ({"at": datetime.now(UTC) - timedelta(minutes=6)}, 400, "stale"),
        ({"amount": 1}, 409, "amount_mismatch"),
    ],
)
def test_refused_notifications_change_nothing(app, pending, standin, kwargs, code, error):
    response = post(app.test_client(), pending["row"].token, **kwargs)
    assert (response.status_code, response.get_json()) == (code, {"error": error})
    assert messages_to(standin, "psid-pay") == []
    with pending["sessions"]() as session:
        assert session.get(PaymentSession, pending["row"].id).status == PaymentStatus.PENDING
        assert credit(session, pending["line"]) == pending["credit"]


def test_a_replay_of_an_old_notification_is_refused(app, pending, standin):
    client = app.test_client()
    body, headers = signed_notification(
        pending["row"].token, "approved", 3000, datetime.now(UTC) - timedelta(minutes=10)
    )
    assert client.post("/payments/notify", data=body, headers=headers).status_code == 400
    assert messages_to(standin, "psid-pay") == []


def test_unknown_session(app, pending):
    assert post(app.test_client(), "no-such-session").status_code == 404


def test_a_failed_send_is_retried_by_the_providers_next_attempt(app, pending, standin):
    standin.fail_next(code=100, count=1)  # a permanent Graph error on the first send
    client = app.test_client()
    assert post(client, pending["row"].token).get_json() == {"result": "applied", "notice": "failed"}
    assert messages_to(standin, "psid-pay") == []
    assert post(client, pending["row"].token).get_json() == {"result": "duplicate", "notice": "sent"}
    assert len(messages_to(standin, "psid-pay")) == 1
    with pending["sessions"]() as session:
        assert credit(session, pending["line"]) == pending["credit"] + 3150


def test_payment_link_redirects_to_the_provider_page_created_once(app, pending, provider_api):
    client = app.test_client()
    path = pending["link"].replace("http://127.0.0.1:8080", "")
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["Location"] == "https://pay.example.nc/checkout/abc"
    assert provider_api.calls == 1
    with pending["sessions"]() as session:
        assert session.get(PaymentSession, pending["row"].id).provider_ref == "ps_1"


def test_payment_link_after_payment_or_unknown(app, pending):
    client = app.test_client()
    post(client, pending["row"].token)
    path = pending["link"].replace("http://127.0.0.1:8080", "")
    response = client.get(path)
    assert response.status_code == 410 and "plus valable" in response.get_data(as_text=True)
    assert client.get("/payments/pay/nope").status_code == 404
    assert "Paiement reçu" in client.get(f"/payments/return/{pending['row'].token}").get_data(as_text=True)


def test_without_payment_settings_the_app_starts_and_refuses_notifications(demo_engine, standin, pending):
    app_settings = Settings.from_env(
        {
            "FB_APP_SECRET": APP_SECRET,
            "FB_VERIFY_TOKEN": "v",
            "FB_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
            "MOBILIS_INTERNAL_TOKEN": "internal-token",
            "RASA_API_TOKEN": "rasa-api-token",
            "GRAPH_API_URL": standin.url,
            "DATABASE_URL": "sqlite://",
        }
    )
    app = create_app(
        app_settings,
        session_factory=sessionmaker(bind=demo_engine),
        start_worker=False,
        options=ChannelOptions(workers=1, sweep_interval=None),
    )
    try:
        assert post(app.test_client(), pending["row"].token).status_code == 503
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        app.extensions["mobilis_channel"].dispatcher.stop(wait=True)


def test_resend_notices_delivers_what_a_failed_send_left_owed(app, pending, standin, demo_engine):
    from bot.channel.payment_notifications import resend_notices

    standin.fail_next(code=100, count=1)
    assert post(app.test_client(), pending["row"].token).get_json()["notice"] == "failed"
    graph = app.extensions["mobilis_channel"].graph
    later = datetime.now(UTC) + timedelta(minutes=2)
    assert resend_notices(pending["sessions"], graph, now=later) == 1
    assert resend_notices(pending["sessions"], graph, now=later) == 0  # nothing owed any more
    assert len(messages_to(standin, "psid-pay")) == 1


def test_the_sweep_resends_a_notice_a_dead_process_left_sending(app, pending, standin, demo_engine):
    """Claimed, then the process died before sending: the next sweeps deliver it, once."""
    from bot.services.purchasing import payment_results

    standin.fail_next(code=100, count=1)
    post(app.test_client(), pending["row"].token)  # the result is applied; its send failed
    now = datetime.now(UTC)
    with pending["sessions"]() as session:
        assert payment_results.claim_notice(session, pending["row"].id, now)  # ...and a process took it, then died
    dispatcher = app.extensions["mobilis_channel"].dispatcher

    def chore() -> None:  # the sweep's periodic jobs: payment notices, then purchases to settle
        for job in dispatcher.periodic:
            job()

    chore()
    assert messages_to(standin, "psid-pay") == []  # within the lease: maybe still being sent
    with pending["sessions"]() as session:
        session.execute(
            update(PaymentSession)
            .where(PaymentSession.id == pending["row"].id)
            .values(notice_sent_at=now - payment_results.NOTICE_LEASE - timedelta(seconds=1))
        )
        session.commit()
    chore()
    chore()
    assert len(messages_to(standin, "psid-pay")) == 1


def test_the_sweep_settles_a_purchase_the_operator_had_not_confirmed_and_tells_the_user(
    app, demo_engine, standin, monkeypatch
):
    """The operator's answer to a confirmation was lost: the sweep looks the purchase up by its
    key, records it and sends the receipt, once."""
    from bot.channel.payment_notifications import settle_purchases
    from bot.services.operator import backends

    faults = Faults()
    monkeypatch.setattr(backends, "EmbeddedOperator", faults.operator)
    sessions = sessionmaker(bind=demo_engine, expire_on_commit=False)
    with sessions() as session:
        line = link(session, "psid-wait", MARIE_FORFAIT)  # a TOP UP on the bill (this test runs in real time)
        chosen = purchases.choose_product(session, "psid-wait", "TOPUP_1GO", settings=settings())
        assert chosen.quote_token, chosen.reply.text
        token = chosen.quote_token
        faults.mode = "lost_answer"
        result = purchases.confirm_purchase(session, "psid-wait", token, settings=settings())
        assert result.outcome == purchases.Outcome.DELIVERY_PENDING
    faults.mode = "answer"
    graph = app.extensions["mobilis_channel"].graph
    later = datetime.now(UTC) + timedelta(minutes=2)
    assert settle_purchases(sessions, graph, now=later) == 1
    assert settle_purchases(sessions, graph, now=later) == 0
    [sent] = messages_to(standin, "psid-wait")
    assert (
        sent["message"]["text"].startswith("Votre achat est confirmé.") and result.reference in sent["message"]["text"]
    )
    assert sent["messaging_type"] == "MESSAGE_TAG" and sent["tag"] == "POST_PURCHASE_UPDATE"
    assert faults.purchases_sent == 1
    with sessions() as session:
        assert assistant_purchases(session, session.merge(line))[0].status.value == "succeeded"
