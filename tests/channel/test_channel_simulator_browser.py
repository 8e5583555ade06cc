"""The simulator page in a real browser (Chromium via Playwright): Get Started, quick replies,
templates, typing indicator, composer, persona switch, reset. Skipped when Chromium is absent."""

from __future__ import annotations

import shutil
import time

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


def scripted_rasa(sender, text):
    if text == "/get_started":
        return [
            {
                "text": "Bienvenue chez Mobilis ! Que souhaitez-vous faire ?",
                "buttons": [{"title": "Mon offre", "payload": "/show_offer"}, {"title": "Aide", "payload": "/help"}],
            }
        ]
    if text == "/show_offer":
        return [
            {
                "text": "Votre offre : Forfait M.",
                "buttons": [
                    {"title": "Voir sur le site", "url": "https://www.opt.nc"},
                    {"title": "Les passes", "payload": "/show_passes"},
                ],
            }
        ]
    if text == "/show_passes":
        return [
            {
                "custom": {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "generic",
                            "elements": [
                                {
                                    "title": "Pass 1 Go",
                                    "subtitle": "1 050 F · 7 jours",
                                    "buttons": [{"type": "postback", "title": "Acheter", "payload": "/buy_pass_1"}],
                                },
                                {
                                    "title": "Pass 5 Go",
                                    "subtitle": "3 150 F · 30 jours",
                                    "buttons": [{"type": "postback", "title": "Acheter", "payload": "/buy_pass_5"}],
                                },
                            ],
                        },
                    }
                }
            }
        ]
    time.sleep(1.0)  # long enough for the typing indicator to show
    return [{"text": f"Vous avez dit : {text}"}]


@pytest.fixture
def page(dev_server, fake_rasa):
    fake_rasa.reply = scripted_rasa
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        tab = browser.new_page()
        tab.set_default_timeout(8000)
        tab.goto(f"{dev_server.url}/dev/simulator")
        yield tab
        browser.close()


def test_full_conversation_in_the_simulator(page, fake_rasa):
    expect = playwright_sync.expect
    page.get_by_test_id("get-started").click()
    expect(page.get_by_test_id("bubble-user").last).to_have_text("Démarrer")
    expect(page.get_by_test_id("bubble-bot").last).to_contain_text("Bienvenue chez Mobilis")
    chips = page.get_by_test_id("quick-reply")
    expect(chips).to_have_count(2)

    chips.filter(has_text="Mon offre").click()
    expect(page.get_by_test_id("button-template")).to_contain_text("Votre offre : Forfait M.")
    expect(page.get_by_test_id("quick-reply")).to_have_count(0)  # chips go once one is tapped
    link = page.get_by_test_id("template-button").filter(has_text="Voir sur le site")
    expect(link).to_have_attribute("target", "_blank")

    page.get_by_test_id("template-button").filter(has_text="Les passes").click()
    expect(page.get_by_test_id("generic-card")).to_have_count(2)

    page.get_by_test_id("composer-input").fill("Quel est mon solde ?")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("typing-indicator")).to_be_visible()
    expect(page.get_by_test_id("bubble-bot").last).to_have_text("Vous avez dit : Quel est mon solde ?")
    expect(page.get_by_test_id("typing-indicator")).to_be_hidden()

    page.get_by_test_id("attach-button").click()
    expect(page.get_by_test_id("bubble-user").last).to_have_text("[Photo]")
    expect(page.get_by_test_id("bubble-bot").last).to_have_text("Vous avez dit : /attachment")
    assert fake_rasa.texts("dev-psid-0001") == [
        "/get_started",
        "/show_offer",
        "/show_passes",
        "Quel est mon solde ?",
        "/attachment",
    ]


def test_persona_switch_and_reset(page, fake_rasa):
    expect = playwright_sync.expect
    page.get_by_test_id("composer-input").fill("Bonjour")
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("bubble-bot")).to_have_count(1)

    page.get_by_test_id("persona-select").select_option("dev-psid-0002")
    expect(page.get_by_test_id("bubble-bot")).to_have_count(0)
    expect(page.get_by_test_id("get-started")).to_be_visible()

    page.get_by_test_id("persona-select").select_option("dev-psid-0001")
    expect(page.get_by_test_id("bubble-bot")).to_have_count(1)  # the thread was kept
    page.get_by_test_id("reset-button").click()
    expect(page.get_by_test_id("bubble-user")).to_have_count(0)
    expect(page.get_by_test_id("welcome")).to_be_visible()
    assert fake_rasa.texts("dev-psid-0001")[-1] == "/restart"
