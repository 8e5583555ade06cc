"""The agent panel and SMS outbox in a real browser (Chromium via Playwright): a hand-off from the
chat, standby while the agent holds the thread, the agent's reply in the chat, the hand back.
Skipped when Chromium is absent."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from handoff_helpers import MONDAY_10H

from bot.db.identity import SmsOutbox
from bot.services.handoff import escalations as service

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture
def page(dev_server, fake_rasa, sessions):
    def rasa(sender, text):
        if text == "un conseiller":  # what the conversation's hand-off action will do
            with sessions() as session:
                # graph=None: the webhook passes control to its stand-in after sending the reply.
                reply = service.request_handoff(session, sender, "user_request", ["help"], MONDAY_10H)
                session.commit()
            return [{"text": reply.text}]
        return [{"text": f"Vous avez dit : {text}"}]

    fake_rasa.reply = rasa
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        tab = browser.new_page()
        tab.set_default_timeout(8000)
        tab.goto(f"{dev_server.url}/dev/simulator")
        yield tab
        browser.close()


def test_agent_takes_over_then_hands_back(page, fake_rasa, dev_server):
    expect = playwright_sync.expect
    page.get_by_test_id("composer-input").fill("un conseiller")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("bubble-bot").last).to_contain_text("conseiller Mobilis")
    item = page.get_by_test_id("escalation-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("demande à parler à un conseiller")
    expect(item).to_contain_text("un conseiller")  # the transcript
    assert [c["path"] for c in dev_server.store.calls] == ["1234567890/pass_thread_control"]

    page.get_by_test_id("composer-input").fill("Vous êtes là ?")
    page.get_by_test_id("composer-input").press("Enter")
    expect(item).to_contain_text("Vous êtes là ?")  # stored (standby), shown to the agent
    assert fake_rasa.texts("dev-psid-0001") == ["un conseiller"]  # the bot said nothing

    page.get_by_test_id("agent-reply-input").fill("Bonjour, je suis Léa, conseillère Mobilis.")
    page.get_by_test_id("agent-send").click()
    expect(page.get_by_test_id("bubble-bot").last).to_have_text("Bonjour, je suis Léa, conseillère Mobilis.")
    expect(page.get_by_test_id("agent-label")).to_have_count(1)

    page.get_by_test_id("agent-release").click()
    expect(page.get_by_test_id("bubble-bot").last).to_contain_text("je reprends la conversation")
    expect(page.get_by_test_id("escalation-item")).to_have_count(0)
    page.get_by_test_id("composer-input").fill("mon solde")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("bubble-bot").last).to_have_text("Vous avez dit : mon solde")


def test_sms_outbox_panel_shows_sent_codes(page, sessions):
    with sessions() as session:
        session.add(
            SmsOutbox(
                msisdn="791234",
                text="Mobilis Assistant : votre code est 123456.",
                created_at=datetime.now(UTC),
            )
        )
        session.commit()
    sms = page.get_by_test_id("sms-item")
    playwright_sync.expect(sms).to_have_count(1)
    playwright_sync.expect(sms).to_contain_text("123456")
    playwright_sync.expect(page.get_by_test_id("sms-outbox")).to_contain_text("791234")
