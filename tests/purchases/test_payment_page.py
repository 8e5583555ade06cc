"""The local test payment page, end to end on 127.0.0.1: the Messenger link → our redirect →
/dev/pay/<session> → a button → signed server-to-server notification → credit → receipt sent
through the dev app's own stand-in Graph API."""

from __future__ import annotations

import pytest
import requests
from purchase_helpers import MARIE_LIBERTE, SECRET, LateApp, LocalServer, assistant_purchases, credit, link, settings
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot import devtools
from bot.channel.app import ChannelOptions, create_app
from bot.clock import utcnow
from bot.config import Settings
from bot.db.base import make_engine
from bot.db.purchasing import PurchaseQuote
from bot.services.language import preference
from bot.services.purchasing import purchases
from bot.services.purchasing.purchases import Outcome


@pytest.fixture
def dev(demo_db_url):
    engine = make_engine(demo_db_url)
    late = LateApp()
    server = LocalServer(late)
    app_settings = Settings.from_env(
        {
            "MOBILIS_DEV_MODE": "1",
            "MOBILIS_PAYMENT_SECRET": SECRET,
            "PUBLIC_URL": server.url,
            "DATABASE_URL": "sqlite://",
            "RASA_URL": "http://127.0.0.1:9",
        }
    )
    late.app = devtools.install(
        create_app(
            app_settings,
            session_factory=sessionmaker(bind=engine, expire_on_commit=False),
            options=ChannelOptions(workers=1, sweep_interval=None),
            start_worker=False,
        )
    )
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions() as session:
        line = link(session, "dev-payer", MARIE_LIBERTE)
        before = credit(session, line)
    yield server.url, late.app.extensions["graph_standin"], sessions, line, before
    late.app.extensions["mobilis_channel"].dispatcher.stop(wait=True)
    server.close()
    engine.dispose()


def confirmed_link(sessions, base_url: str, code: str = "RL_3000") -> str:
    cfg = settings(public_url=base_url)
    with sessions() as session:
        token = purchases.choose_product(session, "dev-payer", code, settings=cfg).quote_token
        return purchases.confirm_purchase(session, "dev-payer", token, settings=cfg).payment_url


def test_the_link_leads_to_the_test_page(dev):
    base, _store, sessions, _line, _before = dev
    url = confirmed_link(sessions, base)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "/dev/pay/" in page.url
    html = page.text
    for part in ("Recharge Liberté 3 000", "3 000 F", "Approuver", "Refuser", "Abandonner", "en attente"):
        assert part in html


def test_an_english_speaker_pays_on_an_english_page(dev):
    base, store, sessions, _line, _before = dev
    with sessions() as session:
        preference.choose(session, "dev-payer", "en", utcnow())
        session.commit()
    page = requests.get(confirmed_link(sessions, base), timeout=10)
    assert page.status_code == 200 and page.url.endswith("?lang=en") and "<html lang='en'>" in page.text
    for part in ("Liberté top-up 3,000", "Amount: <strong>3,000 XPF</strong>", "Approve", "Status: pending"):
        assert part in page.text
    result = requests.post(page.url, data={"action": "approve"}, timeout=10)
    assert "Payment approved. You can go back to Messenger." in result.text
    assert store.wait_for(lambda s: s.messages("dev-payer"), timeout=5)
    [sent] = store.messages("dev-payer")
    assert sent["message"]["text"].startswith("Payment received")
    token = page.url.split("/dev/pay/")[1].split("?")[0]
    back = requests.get(f"{base}/payments/return/{token}", timeout=10).text
    assert "Payment received: your receipt is waiting for you in Messenger." in back


def test_approve_credits_the_line_and_sends_the_receipt(dev):
    base, store, sessions, line, before = dev
    page_url = requests.get(confirmed_link(sessions, base), timeout=10).url
    result = requests.post(page_url, data={"action": "approve"}, timeout=10)
    assert result.status_code == 200 and "Paiement accepté" in result.text and "HTTP 200" in result.text
    assert store.wait_for(lambda s: s.messages("dev-payer"), timeout=5)
    [sent] = store.messages("dev-payer")
    assert "Paiement reçu" in sent["message"]["text"] and "Nouveau crédit" in sent["message"]["text"]
    with sessions() as session:
        assert credit(session, line) == before + 3150
    # The page now shows the session as paid, without buttons; a second approval changes nothing.
    again = requests.get(page_url, timeout=10).text
    assert "payé" in again and "Approuver" not in again
    requests.post(page_url, data={"action": "approve"}, timeout=10)
    assert len(store.messages("dev-payer")) == 1
    with sessions() as session:
        assert credit(session, line) == before + 3150


@pytest.mark.parametrize(
    "action, words, status", [("decline", "refusé", "failed"), ("abandon", "abandonné", "cancelled")]
)
def test_decline_and_abandon_charge_nothing(dev, action, words, status):
    base, store, sessions, line, before = dev
    page_url = requests.get(confirmed_link(sessions, base), timeout=10).url
    result = requests.post(page_url, data={"action": action}, timeout=10)
    assert result.status_code == 200 and "HTTP 200" in result.text
    assert store.wait_for(lambda s: s.messages("dev-payer"), timeout=5)
    [sent] = store.messages("dev-payer")
    assert words in sent["message"]["text"] and "Rien n'a été débité" in sent["message"]["text"]
    with sessions() as session:
        assert credit(session, line) == before
        [purchase] = assistant_purchases(session, line)
        assert purchase.status.value == status


def test_the_page_refuses_proxied_requests_and_bad_actions(dev):
    base, _store, sessions, _line, _before = dev
    page_url = requests.get(confirmed_link(sessions, base), timeout=10).url
    assert requests.get(page_url, headers={"X-Forwarded-For": "1.2.3.4"}, timeout=10).status_code == 404
    assert requests.post(page_url, data={"action": "steal"}, timeout=10).status_code == 400
    assert requests.get(f"{base}/dev/pay/unknown", timeout=10).status_code == 404


def test_a_cancelled_payment_cannot_be_paid_on_the_test_page(dev):
    """The local provider honours a cancellation in the chat: the session is closed there too."""
    base, _store, sessions, line, before = dev
    page_url = requests.get(confirmed_link(sessions, base), timeout=10).url
    with sessions() as session:
        token = session.scalar(select(PurchaseQuote.token).order_by(PurchaseQuote.id.desc()))
        assert (
            purchases.cancel_purchase(session, "dev-payer", token, settings=settings(public_url=base)).outcome
            == Outcome.CANCELLED
        )
    result = requests.post(page_url, data={"action": "approve"}, timeout=10)
    assert result.status_code == 410 and "plus possible" in result.text
    with sessions() as session:
        assert credit(session, session.merge(line)) == before
