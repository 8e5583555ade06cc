"""The local Messenger simulator in headless Chromium, against the real stack."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright


@pytest.fixture
def page(stack, chromium_path):
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"],
        )
        page = browser.new_page(viewport={"width": 420, "height": 860})
        page.goto(f"{stack.base_url}/dev/simulator")
        yield page
        browser.close()


def test_type_a_message_see_the_reply_click_a_quick_reply(page):
    page.get_by_test_id("reset-button").click()
    page.get_by_test_id("composer-input").fill("bonjour")
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("bubble-user").last).to_contain_text("bonjour")
    expect(page.get_by_test_id("bubble-bot").first).to_be_visible(timeout=30_000)
    bot_bubbles_before = page.get_by_test_id("bubble-bot").count()

    chip = page.get_by_test_id("quick-reply").first
    expect(chip).to_be_visible(timeout=30_000)
    chip_title = chip.inner_text()
    chip.click()
    expect(page.get_by_test_id("bubble-user").last).to_contain_text(chip_title)
    expect(page.get_by_test_id("bubble-bot")).not_to_have_count(bot_bubbles_before, timeout=30_000)
