"""The simulator's alert control (development mode): the linked demo line crosses the threshold,
the alert is detected and sent at once, and the simulator draws a utility template as the card the
user would see (the stand-in Page has the templates approved)."""

from __future__ import annotations

import shutil

import pytest
import requests
from channel_helpers import dev_server as dev_server
from channel_helpers import fake_rasa as fake_rasa
from sqlalchemy.orm import sessionmaker

from bot import clock
from bot.services.alerts.subscriptions import set_night_ok


@pytest.fixture(autouse=True)
def dev_mode(set_env, demo_now, monkeypatch):
    set_env("MOBILIS_DEV_MODE", "1")  # the simulator's link shortcut checks it
    monkeypatch.setattr(clock, "utcnow", lambda: demo_now)  # the demo lines' own day, at noon in Nouméa


@pytest.fixture
def sessions(demo_engine):
    """The dev server's database: the demo lines."""
    return sessionmaker(bind=demo_engine, expire_on_commit=False)


@pytest.mark.parametrize(
    "msisdn, kind, shown",
    [
        ("781515", "low_credit", "il reste 100 F de crédit sur votre ligne …15"),
        ("874512", "out_of_plan", "vos consommations hors forfait atteignent"),
        ("791234", "data_usage", "est utilisé à 90 %"),
        ("797878", "expiry", "expire le"),
        ("951177", "card_purchase", "payé par carte, est confirmé sur votre ligne …77"),
    ],
)
def test_each_alert_can_be_triggered_from_the_simulator(dev_server, sessions, demo_now, msisdn, kind, shown):
    base = f"{dev_server.url}/dev/api"
    assert requests.post(f"{base}/link-line", json={"psid": "demo", "msisdn": msisdn}, timeout=5).json()["ok"]
    answer = requests.post(f"{base}/alerts/trigger", json={"psid": "demo", "kind": kind}, timeout=10).json()
    assert answer["ok"] and answer["state"] == "sent", answer
    [sent] = dev_server.store.sent_to("demo")
    assert sent["messaging_type"] == "UTILITY"  # the user has not written: outside the window
    assert shown in sent["rendered"]["text"], sent["rendered"]
    assert [b["title"] for b in sent["rendered"]["buttons"]][-1] == "Mes alertes"
    with sessions() as session:
        set_night_ok(session, "demo", True, demo_now)
        session.commit()
    again = requests.post(f"{base}/alerts/trigger", json={"psid": "demo", "kind": kind}, timeout=10).json()
    assert again["state"] == "sent" and len(dev_server.store.sent_to("demo")) == 2  # each crossing, once


def test_the_control_needs_a_linked_line_and_an_alert_of_its_plan(dev_server):
    base = f"{dev_server.url}/dev/api"
    assert (
        requests.post(f"{base}/alerts/trigger", json={"psid": "nobody", "kind": "low_credit"}, timeout=5).status_code
        == 400
    )
    requests.post(f"{base}/link-line", json={"psid": "m", "msisdn": "874512"}, timeout=5)
    refused = requests.post(f"{base}/alerts/trigger", json={"psid": "m", "kind": "low_credit"}, timeout=5)
    assert refused.status_code == 400 and "offre" in refused.json()["error"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_in_the_browser_the_alert_arrives_as_the_card_the_subscriber_would_see(dev_server):
    playwright_sync = pytest.importorskip("playwright.sync_api")
    expect = playwright_sync.expect
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.set_default_timeout(8000)
        page.goto(f"{dev_server.url}/dev/simulator")
        page.get_by_test_id("demo-line-select").select_option("781515")
        page.get_by_test_id("link-line-button").click()
        expect(page.get_by_test_id("link-status")).to_contain_text("781515")
        page.get_by_test_id("alert-kind-select").select_option("low_credit")
        page.get_by_test_id("alert-trigger-button").click()
        expect(page.get_by_test_id("alert-status")).to_contain_text("alerte envoyée")
        card = page.get_by_test_id("button-template").last
        expect(card).to_contain_text("il reste 100 F de crédit sur votre ligne …15")
        expect(card.get_by_test_id("template-button").last).to_have_text("Mes alertes")
        browser.close()


def test_at_night_the_panel_says_the_alert_waits_for_seven(dev_server, monkeypatch):
    from datetime import UTC, datetime

    night = datetime(2026, 3, 15, 11, 30, tzinfo=UTC)  # 22:30 in Nouméa
    monkeypatch.setattr(clock, "utcnow", lambda: night)
    base = f"{dev_server.url}/dev/api"
    requests.post(f"{base}/link-line", json={"psid": "owl", "msisdn": "781515"}, timeout=5)
    answer = requests.post(f"{base}/alerts/trigger", json={"psid": "owl", "kind": "low_credit"}, timeout=10).json()
    assert answer["state"] == "pending" and "en attente jusqu'à 07:00 (heures calmes" in answer["status"]
    assert dev_server.store.sent_to("owl") == []
