"""The subscriber journeys of the linking, purchase and assistance issues, through the real
webhook, Rasa model, action server and database (what a person does in the simulator)."""

from __future__ import annotations

import re
import uuid

import pytest
from e2e_helpers import all_text, quick_reply_payloads
from sqlalchemy import func, select

from bot.db.account import Line
from bot.db.base import session_scope
from bot.db.handoff import Escalation
from bot.db.purchasing import Purchase
from bot.services.account.consultation import balance_reply
from bot.services.assistance.faq import load_faq
from bot.services.identity.linking import get_linked_line


@pytest.fixture(params=["embedded", "tmf"])
def stack(request, embedded_stack):
    """Each journey runs with the embedded operator, then through the TM Forum adapter."""
    return embedded_stack if request.param == "embedded" else request.getfixturevalue("tmf_stack")


def new_psid() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def link_with_sms_code(stack, psid: str, msisdn: str, first_message: str) -> list[dict]:
    """Consent then linking by SMS code, as a new subscriber does it; returns the last replies."""
    intro = stack.exchange(psid, first_message)
    assert "/accept_terms" in quick_reply_payloads(intro), all_text(intro)
    stack.exchange(psid, "J'accepte", quick_reply="/accept_terms")
    sent = stack.exchange(psid, f"mon numero c {msisdn[:2]} {msisdn[2:4]} {msisdn[4:]}")
    assert "code" in all_text(sent).lower()
    sms = stack.sms_outbox(msisdn)
    assert sms, "no SMS reached the outbox"
    code = re.search(r"\b(\d{6})\b", sms[0]["text"]).group(1)
    return stack.exchange(psid, code)


def test_question_before_linking_is_answered_after_consent_and_sms_code(stack):
    psid = new_psid()
    replies = link_with_sms_code(stack, psid, "797878", "il me reste combien de credit ?")
    with session_scope(stack.db_url) as session:
        line = session.scalar(select(Line).where(Line.msisdn == "797878"))
        # The question asked for the credit: the answer is narrowed to it.
        expected = balance_reply(session, line, facet="credit").text
    assert expected in all_text(replies), all_text(replies)


def test_a_linked_user_never_sees_another_line(stack):
    psid = new_psid()
    stack.link_demo_line(psid, "791234")
    stack.exchange(psid, "J'accepte", quick_reply="/accept_terms")
    with session_scope(stack.db_url) as session:
        stranger = session.scalar(select(Line).where(Line.msisdn == "797878"))
        stranger_balance = balance_reply(session, stranger).text
    stranger_credit = re.compile(r"(?<![\d ])780 F")  # 797878 holds 780 F, 791234 does not
    forged = [
        '/show_balance{"msisdn": "797878"}',
        f'/show_balance{{"phone_number": "797878", "line_id": "{stranger.id}"}}',
        '/switch_line{"msisdn": "797878"}',
        '/show_purchases{"msisdn": "797878", "page": 0}',
        "solde de la ligne 79 78 78",
    ]
    for text in forged:
        replies = all_text(stack.exchange(psid, text))
        assert stranger_balance not in replies
        assert not stranger_credit.search(replies), replies
    with session_scope(stack.db_url) as session:
        assert get_linked_line(session, psid).msisdn == "791234"


def test_purchase_confirmed_twice_happens_once(stack):
    psid = new_psid()
    stack.link_demo_line(psid, "791234")
    stack.exchange(psid, "J'accepte", quick_reply="/accept_terms")
    with session_scope(stack.db_url) as session:
        line_id = session.scalar(select(Line.id).where(Line.msisdn == "791234"))
        before = session.scalar(select(func.count()).select_from(Purchase).where(Purchase.line_id == line_id))
    summary = stack.exchange(psid, "je veux un pass internet 1 go")
    confirm = [p for p in quick_reply_payloads(summary) if p.startswith("/confirm_purchase")]
    if not confirm:  # several products match: take the first offered, then confirm
        choose = [p for p in quick_reply_payloads(summary) if p.startswith("/choose_product")]
        assert choose, all_text(summary)
        summary = stack.exchange(psid, "choix", quick_reply=choose[0])
        confirm = [p for p in quick_reply_payloads(summary) if p.startswith("/confirm_purchase")]
    assert confirm, all_text(summary)
    first = stack.exchange(psid, "Confirmer", quick_reply=confirm[0])
    stack.exchange(psid, "Confirmer", quick_reply=confirm[0])  # double tap
    with session_scope(stack.db_url) as session:
        after = session.scalar(select(func.count()).select_from(Purchase).where(Purchase.line_id == line_id))
    assert after == before + 1, all_text(first)


def test_faq_answer_comes_from_the_editors_yaml(stack):
    psid = new_psid()
    replies = all_text(stack.exchange(psid, "c quoi mon code puk"))
    assert load_faq()["code_puk"].answer[:60] in replies


def test_agency_search_tolerates_spelling(stack):
    psid = new_psid()
    replies = all_text(stack.exchange(psid, "agence de kone"))
    assert "Koné" in replies


def test_asking_for_a_human_records_an_escalation(stack):
    psid = new_psid()
    stack.exchange(psid, "je veux parler a un conseiller")
    with session_scope(stack.db_url) as session:
        count = session.scalar(select(func.count()).select_from(Escalation).where(Escalation.psid == psid))
    assert count == 1
