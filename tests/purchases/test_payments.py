"""Provider interface: notification signatures and age, settings, and the HTTP provider skeleton
against a stand-in provider API on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, jsonify, request
from purchase_helpers import SECRET, LocalServer, settings

from bot.config import ConfigError, Settings
from bot.services.purchasing.payments import (
    HttpPaymentProvider,
    InvalidNotification,
    LocalTestPaymentProvider,
    PaymentConfigError,
    PaymentProviderError,
    SessionRequest,
    notification_body,
    provider_from_settings,
    safe_payment_url,
    sign,
    verify_notification,
)
from bot.services.purchasing.settings import DEV_PAYMENT_SECRET, PurchaseSettings

NOW = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)


def body_at(moment: datetime, **overrides) -> bytes:
    return notification_body(
        overrides.pop("session_id", "sess"),
        overrides.pop("status", "approved"),
        overrides.pop("amount", 1000),
        int(moment.timestamp()),
        event_id="evt_1",
    )


def test_a_correctly_signed_fresh_notification_is_accepted():
    body = body_at(NOW)
    note = verify_notification(SECRET, body, sign(SECRET, body), NOW, 300)
    assert (note.session_id, note.status, note.amount_xpf, note.event_id) == ("sess", "approved", 1000, "evt_1")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, sig: (body, sign("another-secret", body)),  # wrong key
        lambda body, sig: (body.replace(b"1000", b"9000"), sig),  # body changed after signing
        lambda body, sig: (body, sig.replace("sha256=", "")),  # malformed header
        lambda body, sig: (body, None),  # no header
        lambda body, sig: (body, sig.upper()),
        lambda body, sig: (body, "sha256=é"),  # non-ASCII must not crash compare_digest
    ],
)
def test_wrong_signatures_are_refused(tamper):
    body = body_at(NOW)
    body, signature = tamper(body, sign(SECRET, body))
    with pytest.raises(InvalidNotification) as err:
        verify_notification(SECRET, body, signature, NOW, 300)
    assert err.value.reason == "signature"


@pytest.mark.parametrize("age", [timedelta(seconds=301), timedelta(hours=5), -timedelta(seconds=301)])
def test_stale_or_future_notifications_are_refused_even_well_signed(age):
    body = body_at(NOW - age)
    with pytest.raises(InvalidNotification) as err:
        verify_notification(SECRET, body, sign(SECRET, body), NOW, 300)
    assert err.value.reason == "stale"


def test_a_notification_just_inside_the_window_is_accepted():
    body = body_at(NOW - timedelta(seconds=299))
    assert verify_notification(SECRET, body, sign(SECRET, body), NOW, 300).status == "approved"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"session_id": "s"}',
        b'{"event_id":"e","session_id":"s","status":"refund","amount_xpf":1,"timestamp":1}',
        b'{"event_id":"e","session_id":"s","status":"approved","amount_xpf":"1","timestamp":1}',
        b'{"event_id":"e","session_id":"s","status":"approved","amount_xpf":true,"timestamp":1}',
    ],
)
def test_malformed_but_signed_notifications_are_refused(raw):
    with pytest.raises(InvalidNotification) as err:
        verify_notification(SECRET, raw, sign(SECRET, raw), NOW, 300)
    assert err.value.reason == "malformed"


def test_no_secret_no_verification():
    with pytest.raises(PaymentConfigError):
        verify_notification("", b"{}", "sha256=00", NOW, 300)


# ------------------------------------------------------------------------------ settings


def test_settings_defaults_and_env():
    s = PurchaseSettings.from_settings(Settings.from_env({}))
    assert (s.quote_ttl, s.daily_count, s.daily_xpf, s.provider) == (timedelta(minutes=10), 5, 20000, "http")
    assert s.card_payment_problem == "MOBILIS_PAYMENT_SECRET is not set"
    s = PurchaseSettings.from_settings(
        Settings.from_env(
            {
                "MOBILIS_DAILY_PURCHASE_COUNT": "3",
                "MOBILIS_DAILY_PURCHASE_XPF": "9000",
                "MOBILIS_QUOTE_TTL_MINUTES": "2",
                "MOBILIS_DEV_MODE": "1",
                "PUBLIC_URL": "https://bot.example.nc/",
            }
        )
    )
    assert (s.daily_count, s.daily_xpf, s.quote_ttl, s.provider) == (3, 9000, timedelta(minutes=2), "local")
    assert s.payment_secret == DEV_PAYMENT_SECRET and s.card_payment_problem is None
    assert s.payment_link("abc") == "https://bot.example.nc/payments/pay/abc"
    with pytest.raises(ConfigError, match="MOBILIS_DAILY_PURCHASE_COUNT must be an integer"):
        Settings.from_env({"MOBILIS_DAILY_PURCHASE_COUNT": "cinq"})


def test_local_provider_is_refused_outside_dev_mode():
    with pytest.raises(PaymentConfigError, match="MOBILIS_DEV_MODE"):
        provider_from_settings(settings(dev_mode=False))
    with pytest.raises(PaymentConfigError, match="MOBILIS_PAYMENT_API_URL"):
        provider_from_settings(settings(provider="http"))
    assert isinstance(provider_from_settings(settings()), LocalTestPaymentProvider)


# ------------------------------------------------------------------- HTTP provider skeleton


@pytest.fixture
def provider_api():
    """A stand-in payment provider API that records the session creations it receives."""
    app = Flask("provider")
    app.received = []
    app.answer = lambda: (jsonify({"id": f"ps_{len(app.received)}", "url": "https://pay.example.nc/p/1"}), 201)

    @app.post("/v1/sessions")
    def create():
        app.received.append({"json": request.get_json(), "headers": dict(request.headers)})
        return app.answer()

    server = LocalServer(app)
    app.url = server.url + "/v1/sessions"
    yield app
    server.close()


def session_request() -> SessionRequest:
    return SessionRequest(
        session_id="tok123",
        amount_xpf=3000,
        description="Mobilis - Recharge Liberté 3 000",
        reference="MOB-260315-ABCDEF",
        expires_at=NOW + timedelta(minutes=15),
        notify_url="https://bot.example.nc/payments/notify",
        return_url="https://bot.example.nc/payments/return/tok123",
    )


def test_http_provider_creates_a_session_with_idempotency_key(provider_api):
    provider = HttpPaymentProvider(settings(provider="http", payment_api_url=provider_api.url, payment_api_key="k1"))
    created = provider.create_session(session_request())
    assert (created.provider_ref, created.url) == ("ps_1", "https://pay.example.nc/p/1")
    [call] = provider_api.received
    assert call["headers"]["Authorization"] == "Bearer k1" and call["headers"]["Idempotency-Key"] == "tok123"
    assert call["json"]["amount"] == 3000 and call["json"]["currency"] == "XPF"
    assert call["json"]["notify_url"] == "https://bot.example.nc/payments/notify"


@pytest.mark.parametrize(
    "answer",
    [
        lambda: ("boom", 500),
        lambda: (jsonify({"id": "x"}), 200),  # no url
        lambda: (jsonify({"id": "x", "url": "http://evil.example/pay"}), 200),  # not https
        lambda: ("not json", 200),
    ],
)
def test_http_provider_errors_become_provider_errors(provider_api, answer):
    provider_api.answer = answer
    provider = HttpPaymentProvider(settings(provider="http", payment_api_url=provider_api.url))
    with pytest.raises(PaymentProviderError):
        provider.create_session(session_request())


def test_http_provider_unreachable(closed_port_url):
    provider = HttpPaymentProvider(settings(provider="http", payment_api_url=closed_port_url))
    with pytest.raises(PaymentProviderError, match="unreachable"):
        provider.create_session(session_request())


def test_http_provider_verifies_notifications_with_the_shared_rule():
    provider = HttpPaymentProvider(settings(provider="http", payment_api_url="https://x"))
    body = body_at(NOW)
    assert provider.verify_notification(body, sign(SECRET, body), NOW).session_id == "sess"
    with pytest.raises(InvalidNotification):
        provider.verify_notification(body, sign("nope", body), NOW)


@pytest.fixture
def closed_port_url():
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, Flask("closed"))
    url = f"http://127.0.0.1:{server.server_port}/v1/sessions"
    server.server_close()
    return url


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://pay.example.nc/session/abc", True),
        ("https://pay.example.nc:8443/s?x=1", True),
        ("http://127.0.0.1:8080/dev/pay/abc", True),
        ("http://localhost:9000/pay", True),
        ("http://127.0.0.1.evil.tld/pay", False),  # prefix-matched before
        ("http://127.0.0.1@evil.tld/pay", False),
        ("https://pay.example.nc@evil.tld/pay", False),
        ("https://user:pw@pay.example.nc/pay", False),
        ("http://pay.example.nc/pay", False),
        ("javascript:alert(1)", False),
        ("https:///nohost", False),
        ("https://pay.example.nc:99999/", False),
        ("https://pay.example.nc/a b", False),
        ("ftp://pay.example.nc/", False),
    ],
)
def test_payment_urls_are_parsed_not_prefix_matched(url, allowed):
    assert safe_payment_url(url) is allowed
