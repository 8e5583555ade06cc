"""The operator's figures (bot/services/insights/dashboard.py) and the editors' queue
(bot/services/insights/review.py), computed from recorded turns and the existing tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db import handoff as h
from bot.db.account import Line
from bot.db.alerts import Alert, AlertKind, AlertState
from bot.db.purchasing import (
    PaymentSource,
    Product,
    Purchase,
    PurchaseQuote,
    PurchaseStatus,
    QuoteStatus,
)
from bot.services.insights import dashboard, feedback, review
from bot.services.insights.turns import ATTACHED, DISMISSED, OPEN, Reading, TurnFacts, record

NOW = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)


def turn(
    session,
    psid,
    minutes,
    text="solde",
    intent="show_balance",
    confidence=0.9,
    faq_key=None,
    asked=None,
    answer_ms=500,
    language="fr",
):
    facts = TurnFacts(
        psid,
        NOW + timedelta(minutes=minutes),
        language,
        "typed",
        text,
        Reading(intent, confidence, faq_key),
        asked,
        [{"text": "réponse"}],
        answer_ms,
    )
    return record(session, facts), facts


def test_conversations_containment_rates_and_answer_time(demo_session):
    s = demo_session
    turn(s, "a", 0)
    turn(s, "a", 2, "et en internet", answer_ms=900)  # a: one contained conversation
    turn(s, "b", 0, "zzz", "nlu_fallback", 0.2, answer_ms=300)
    turn(s, "b", 1, "blabla", "nlu_fallback", 0.3, answer_ms=300)  # b: a fallback loop
    turn(s, "b", 90, "solde")  # b again, 89 minutes later: a new, contained conversation
    turn(s, "c", 0, "un conseiller", "human", 0.99)  # c: hand-off
    s.add(
        h.Escalation(psid="d", reason=h.FRUSTRATION, status=h.OPEN, summary="", created_at=NOW + timedelta(minutes=1))
    )
    turn(s, "d", 0, "tu comprends rien", "faq", 0.4, "faq/reseau")  # d: frustration escalated by the action
    s.flush()
    f = dashboard.figures(s, NOW - timedelta(hours=1), NOW + timedelta(hours=3))
    assert f.conversations == {"contained": 2, "handoff": 2, "fallback_loop": 1}
    assert f.containment == 2 / 5 and f.handoff_rate == 2 / 5
    assert f.turns["fallback"] == 2 and f.fallback_rate == 2 / 7
    assert f.handoffs == {h.FRUSTRATION: 1}
    assert f.top_intents[0] == ("show_balance", 3)
    assert f.median_answer_seconds == 0.5
    # Outside the period: nothing.
    empty = dashboard.figures(s, NOW + timedelta(days=1), NOW + timedelta(days=2))
    assert empty.conversation_count == 0 and empty.containment is None and empty.median_answer_seconds is None


def test_faq_entries_with_their_satisfaction(demo_session):
    s = demo_session
    for i, rating in enumerate(("up", "up", "down", None)):
        row, facts = turn(s, f"u{i}", 0, "code puk", "faq", 0.95, "faq/code_puk")
        feedback.ask(s, row, facts)
        if rating:
            feedback.rate(s, f"u{i}", row.id, rating, NOW)
    turn(s, "u9", 0, "code pin", "faq", 0.95, "faq/code_pin")
    f = dashboard.figures(s, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    puk = f.top_faq[0]
    assert (puk.entry, puk.answers, puk.up, puk.down) == ("code_puk", 4, 2, 1)
    assert puk.satisfaction == 2 / 3
    assert f.top_faq[1].entry == "code_pin" and f.top_faq[1].satisfaction is None


def test_chat_purchases_started_confirmed_paid_and_alerts_sent(demo_session):
    s = demo_session
    line = s.scalar(select(Line).where(Line.msisdn == "791234"))
    product = s.scalar(select(Product).where(Product.code.like("RL%")))
    statuses = [
        (QuoteStatus.CONFIRMED, PurchaseStatus.SUCCEEDED),
        (QuoteStatus.CONFIRMED, PurchaseStatus.FAILED),
        (QuoteStatus.CANCELLED, None),
        (QuoteStatus.EXPIRED, None),
    ]
    for i, (quote_status, purchase_status) in enumerate(statuses):
        purchase_id = None
        if purchase_status is not None:
            purchase = Purchase(
                line_id=line.id,
                product_id=product.id,
                product_type=product.type,
                price_xpf=product.price_xpf,
                payment_source=PaymentSource.CREDIT,
                status=purchase_status,
                created_at=NOW,
            )
            s.add(purchase)
            s.flush()
            purchase_id = purchase.id
        s.add(
            PurchaseQuote(
                token=f"t{i}",
                psid="p",
                line_id=line.id,
                product_id=product.id,
                product_type=product.type,
                price_xpf=product.price_xpf,
                payment_source=PaymentSource.CREDIT,
                status=quote_status,
                created_at=NOW,
                expires_at=NOW + timedelta(minutes=10),
                purchase_id=purchase_id,
            )
        )
    s.add(
        Alert(
            key="k1",
            psid="p",
            line_id=line.id,
            kind=AlertKind.LOW_CREDIT,
            scope="credit",
            threshold=1,
            params="{}",
            state=AlertState.SENT,
            detected_at=NOW,
            send_after=NOW,
            sent_at=NOW,
        )
    )
    s.flush()
    f = dashboard.figures(s, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert f.purchases == {"started": 4, "confirmed": 2, "paid": 1}
    assert f.alerts_sent == 1


def test_the_queue_groups_open_items_by_language_and_similarity(session):
    for minutes, text in enumerate(["g pa de reseau a kone", "pas de réseau à Koné", "wifi sur le paquebot"]):
        turn(session, f"p{minutes}", minutes, text, "nlu_fallback", 0.2)
    turn(session, "e1", 5, "no signal in kone", "nlu_fallback", 0.2, language="en")
    turn(session, "q", 6, "solde")  # understood: not in the queue
    groups = review.open_groups(session)
    assert (groups[0].count, groups[0].language) == (2, "fr")
    assert sorted(g.example for g in groups[1:]) == ["no signal in kone", "wifi sur le paquebot"]
    kone = groups[0]
    assert kone.texts and set(kone.texts) == {"g pa de reseau a kone", "pas de réseau à Koné"}
    assert review.find_group(session, kone.items[-1].id).key == kone.key


def test_closing_a_group_takes_it_out_of_the_queue_once(session):
    rows = [turn(session, f"p{i}", i, "wifi paquebot", "nlu_fallback", 0.2)[0] for i in range(3)]
    ids = [row.id for row in rows]
    assert review.close(session, ids, ATTACHED, "marie", NOW, "wifi_bateau") == 3
    assert review.close(session, ids, DISMISSED, "paul", NOW) == 0  # already handled
    session.expire_all()
    assert {(r.review_status, r.reviewed_by, r.attached_to) for r in rows} == {(ATTACHED, "marie", "wifi_bateau")}
    assert review.open_groups(session) == []
    assert OPEN not in {r.review_status for r in rows}
