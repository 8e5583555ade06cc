"""The retention job (bot/services/privacy/retention.py, `python -m bot.ops.retention`): texts, hand-offs,
quotes and payment sessions past their period go; what is younger, still open or needed for
accounting stays; a second pass changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.config import Settings
from bot.db import handoff as h
from bot.db import messaging as m
from bot.db.account import Line
from bot.db.purchasing import (
    PaymentSession,
    PaymentSource,
    PaymentStatus,
    Product,
    Purchase,
    PurchaseQuote,
    PurchaseStatus,
    QuoteStatus,
)
from bot.services.privacy.retention import RetentionSettings, purge

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=91), NOW - timedelta(days=3)
ROOT = Path(__file__).resolve().parents[2]


def add_message(session, when, text, status=m.DONE):
    event = m.InboundEvent(
        dedup_key=f"mid:{text}",
        channel="messaging",
        kind="text",
        sender_id="psid-r",
        recipient_id="PAGE",
        event_time=0,
        text=text,
        raw_json=f'{{"text": "{text}"}}',
        status=status,
        received_at=when,
        replies_json='[{"text": "réponse"}]',
    )
    session.add(event)
    session.flush()
    session.add(
        m.OutboundMessage(
            inbound_event_id=event.id,
            recipient_id="psid-r",
            kind="message",
            payload_json=f'{{"message": {{"text": "re {text}"}}}}',
            status="sent",
            created_at=when,
        )
    )
    return event


def add_purchase(session, when, quote_status, payment_status):
    line = session.scalar(select(Line).limit(1))
    product = session.scalar(select(Product).limit(1))
    purchase = Purchase(
        line_id=line.id,
        product_id=product.id,
        price_xpf=product.price_xpf,
        product_type=product.type,
        payment_source=PaymentSource.CARD,
        status=PurchaseStatus.SUCCEEDED if payment_status == PaymentStatus.APPROVED else PurchaseStatus.CANCELLED,
        created_at=when,
        reference=f"R-{when:%j}-{quote_status}",
    )
    session.add(purchase)
    session.flush()
    quote = PurchaseQuote(
        token=f"q-{when:%j}-{quote_status}-{payment_status}",
        psid="psid-r",
        line_id=line.id,
        product_id=product.id,
        product_type=product.type,
        price_xpf=product.price_xpf,
        payment_source=PaymentSource.CARD,
        status=quote_status,
        created_at=when,
        expires_at=when + timedelta(minutes=10),
        purchase_id=purchase.id if quote_status == QuoteStatus.CONFIRMED else None,
    )
    session.add(quote)
    session.add(
        PaymentSession(
            token=f"p-{when:%j}-{quote_status}-{payment_status}",
            purchase_id=purchase.id,
            psid="psid-r",
            provider="local",
            amount_xpf=purchase.price_xpf,
            status=payment_status,
            created_at=when,
            expires_at=when + timedelta(minutes=15),
        )
    )
    session.flush()


def test_purge_removes_what_is_past_its_period_and_keeps_the_rest(demo_session):
    s = demo_session
    add_message(s, OLD, "vieux message")
    add_message(s, OLD, "encore en file", status=m.PENDING)
    add_message(s, RECENT, "message recent")
    for when in (OLD, RECENT):
        add_purchase(s, when, QuoteStatus.EXPIRED, PaymentStatus.EXPIRED)
        add_purchase(s, when, QuoteStatus.CONFIRMED, PaymentStatus.APPROVED)
    s.add(
        h.Escalation(
            psid="psid-r",
            reason="user_request",
            status=h.CLOSED,
            summary="résumé",
            last_intents="",
            user_message="rappelez moi",
            created_at=OLD,
            closed_at=OLD,
        )
    )
    s.add(
        h.Escalation(
            psid="psid-r",
            reason="user_request",
            status=h.CLOSED,
            summary="résumé",
            last_intents="",
            created_at=RECENT,
            closed_at=RECENT,
        )
    )
    s.commit()
    purchases_before = s.scalar(select(func.count(Purchase.id)))

    counts = purge(s, NOW, RetentionSettings())
    s.commit()
    assert counts["inbound_texts"] == 1 and counts["outbound_texts"] == 2  # the pending one keeps its text
    texts = dict(s.execute(select(m.InboundEvent.dedup_key, m.InboundEvent.text)).all())
    assert texts == {
        "mid:vieux message": None,
        "mid:encore en file": "encore en file",
        "mid:message recent": "message recent",
    }
    payloads = s.scalars(select(m.OutboundMessage.payload_json).order_by(m.OutboundMessage.id)).all()
    assert payloads[:2] == ["{}", "{}"] and "message recent" in payloads[2]
    assert s.scalar(select(func.count(h.Escalation.id))) == 1
    sessions = {(row.created_at.date(), row.status): row.psid for row in s.scalars(select(PaymentSession))}
    assert sessions == {
        (OLD.date(), PaymentStatus.APPROVED): "effacé",
        (RECENT.date(), PaymentStatus.EXPIRED): "psid-r",
        (RECENT.date(), PaymentStatus.APPROVED): "psid-r",
    }
    quotes = {(q.created_at.date(), q.status) for q in s.scalars(select(PurchaseQuote))}
    assert (OLD.date(), QuoteStatus.EXPIRED) not in quotes and (RECENT.date(), QuoteStatus.EXPIRED) in quotes
    assert s.scalar(select(func.count(Purchase.id))) == purchases_before  # accounting stays

    again = purge(s, NOW, RetentionSettings())
    assert all(value == 0 for value in again.values()), again


def test_turn_records_go_with_the_message_texts(demo_session):
    from bot.db.insights import TurnRecord
    from bot.services.insights.turns import Reading, TurnFacts, record

    for when in (OLD, RECENT):
        facts = TurnFacts("psid-r", when, "fr", "typed", "zorglub", Reading("nlu_fallback", 0.2), None, [], 100)
        record(demo_session, facts)
    counts = purge(demo_session, NOW, RetentionSettings())
    assert counts["insight_turns"] == 1
    assert demo_session.scalars(select(TurnRecord.at)).all() == [RECENT]
    assert purge(demo_session, NOW, RetentionSettings())["insight_turns"] == 0


def test_retention_periods_come_from_the_environment():
    settings = RetentionSettings.from_settings(
        Settings.from_env({"MESSAGE_RETENTION_DAYS": "30", "QUOTE_RETENTION_DAYS": "2"})
    )
    assert settings.messages == timedelta(days=30) and settings.quotes == timedelta(days=2)
    assert RetentionSettings.from_settings(Settings.from_env({})).messages == timedelta(days=90)


def test_the_command_runs_a_pass(db_url):
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.ops.retention"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "retention pass: inbound_texts=0" in result.stderr
