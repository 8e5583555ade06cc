"""Issue 17 in the browser, on the real stack: a message the assistant does not understand, typed in
the simulator, reaches the editors' review queue within a minute; an editor logs in, opens its
group and adds it to a FAQ entry (the stack's copy of faq/); an operator sees the session's figures.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot import clock
from bot.db.base import session_scope
from bot.services.assistance import faq_source
from bot.services.staff import accounts

# Misunderstood by today's model (nlu_fallback: give_code and faq are close): the assistant asks
# "vous voulez parler de…" instead of answering. It is a code PUK question.
MISUNDERSTOOD = "mon portable me demande un code a 8 chiffre"
PASSWORD = "mot de passe du test e2e"


@pytest.fixture
def browser_page(stack, chromium_path):
    with session_scope(stack.db_url) as session:
        for name, role in (("edith", accounts.EDITOR), ("oscar", accounts.OPERATOR)):
            if accounts.authenticate(session, name, PASSWORD, clock.utcnow()) is None:
                accounts.create_account(session, name, PASSWORD, role, clock.utcnow())
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        yield page
        browser.close()


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Identifiant").fill(name)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def wait_in_queue(page: Page, base: str, text: str, within: float = 60.0) -> None:
    """Reload the queue until the message is listed (the review queue is fed as turns end)."""
    deadline = time.monotonic() + within
    while True:
        page.goto(f"{base}/review")
        if page.get_by_role("link", name=text).count():
            return
        assert time.monotonic() < deadline, f"{text!r} not in the review queue after {within:.0f} s"
        page.wait_for_timeout(1000)


def test_a_misunderstood_message_is_reviewed_and_added_to_the_faq(stack, browser_page):
    page = browser_page
    page.goto(f"{stack.base_url}/dev/simulator")
    page.get_by_test_id("reset-button").click()
    page.get_by_test_id("composer-input").fill(MISUNDERSTOOD)
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("bubble-bot").first).to_be_visible(timeout=30_000)

    base = stack.backoffice_url
    page.goto(f"{base}/review")
    expect(page).to_have_url(f"{base}/login?next=%2Freview")  # nothing without a login
    log_in(page, base, "edith")
    wait_in_queue(page, base, MISUNDERSTOOD)
    page.get_by_role("link", name=MISUNDERSTOOD).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(MISUNDERSTOOD)
    page.get_by_label("Entrée").select_option("code_puk")
    expect(page.get_by_label("Questions à ajouter", exact=False)).to_have_value(MISUNDERSTOOD)
    page.get_by_role("button", name="Ajouter à cette entrée").click()
    expect(page.get_by_role("status")).to_contain_text("FAQ modifiée")
    expect(page.locator("pre.diff")).to_contain_text(f"+    - {MISUNDERSTOOD}")

    assert MISUNDERSTOOD in faq_source.check_dir(stack.faq_dir).entries["code_puk"].questions
    page.goto(f"{base}/review")
    expect(page.get_by_role("link", name=MISUNDERSTOOD)).to_have_count(0)
    assert page.goto(f"{base}/dashboard").status == 403  # an editor is not an operator

    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, base, "oscar")
    page.goto(f"{base}/dashboard")
    expect(page.locator("#conversations b")).not_to_have_text("0")
    expect(page.locator("#answer-time b")).to_contain_text(" s")
    expect(page.locator("#intents")).to_contain_text("nlu_fallback")
