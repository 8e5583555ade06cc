"""Threshold crossings read through the operator port (embedded simulator, demo lines): one alert
per crossing, never twice, re-armed when the balance goes back up; only the most urgent level of a
jump is sent; nothing for a user who no longer holds the line."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, update

from bot.db.account import Balance, BucketKind, Line, LineStatus
from bot.db.alerts import Alert, AlertKind, AlertState
from bot.db.identity import MessengerLink
from bot.services.alerts import detection
from bot.services.alerts.subscriptions import Choice, subscribe
from bot.services.operator.embedded import EmbeddedOperator

MARIE_LIBERTE, MARIE_FORFAIT, PAUL_BLOQUE, SYLVIE = "791234", "874512", "781515", "797878"


def scan(session, now) -> list[Alert]:
    return detection.scan(session, EmbeddedOperator(session), now)


def alerts(session, psid: str) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.psid == psid).order_by(Alert.id)))


def test_low_credit_is_told_once_per_crossing_and_again_after_a_recharge(demo_session, demo_now, linked, set_credit):
    line = linked("low", MARIE_LIBERTE)
    subscribe(demo_session, "low", line, Choice(AlertKind.LOW_CREDIT, 500), demo_now)
    demo_session.commit()
    assert scan(demo_session, demo_now) == []  # 2 340 F: above the threshold
    set_credit(line, 300)
    [first] = scan(demo_session, demo_now)
    assert (first.kind, first.threshold, first.generation) == (AlertKind.LOW_CREDIT, 500, 1)
    assert json.loads(first.params) == {"amount": 300, "threshold": 500}
    assert scan(demo_session, demo_now + timedelta(hours=1)) == []  # the same crossing: nothing new
    set_credit(line, 3000)  # a recharge
    assert scan(demo_session, demo_now + timedelta(hours=2)) == []
    demo_session.refresh(first)
    assert first.rearmed_at is not None
    set_credit(line, 100)
    [second] = scan(demo_session, demo_now + timedelta(hours=3))
    assert second.generation == 2 and second.key != first.key


def test_a_forfait_nearly_used_up_says_90_percent_and_not_75_then_90(demo_session, demo_now, linked):
    line = linked("data", MARIE_FORFAIT)  # 9,6 Go of 10 Go used
    subscribe(demo_session, "data", line, Choice(AlertKind.DATA_USAGE, None), demo_now)
    demo_session.commit()
    created = scan(demo_session, demo_now)
    plan = [a for a in created if a.scope.startswith("period:")]
    assert [a.threshold for a in plan] == [90]
    superseded = [a for a in alerts(demo_session, "data") if a.scope == plan[0].scope and a.threshold == 75]
    assert [(a.state, a.reason) for a in superseded] == [(AlertState.SUPPRESSED, "superseded")]
    assert scan(demo_session, demo_now) == []


def test_a_data_pass_crosses_each_step_as_it_is_used(demo_session, demo_now, linked):
    line = linked("pass", MARIE_LIBERTE)
    subscribe(demo_session, "pass", line, Choice(AlertKind.DATA_USAGE, None), demo_now)
    demo_session.commit()
    pass_bucket = demo_session.scalars(
        select(Balance).where(Balance.line_id == line.id, Balance.kind == BucketKind.DATA).order_by(Balance.id)
    ).first()
    scope = f"bucket:{pass_bucket.id}"
    steps = []
    for used in (0.5, 0.8, 0.92, 1.0):
        remaining = pass_bucket.initial - int(pass_bucket.initial * used)
        demo_session.execute(update(Balance).where(Balance.id == pass_bucket.id).values(remaining=remaining))
        demo_session.commit()
        steps.append([a.threshold for a in scan(demo_session, demo_now) if a.scope == scope])
    assert steps == [[], [75], [90], [100]]


def test_expiry_three_days_before_then_on_the_day(demo_session, demo_now, linked):
    line = linked("exp", SYLVIE)  # credit expiring in 5 days
    subscribe(demo_session, "exp", line, Choice(AlertKind.EXPIRY, None), demo_now)
    demo_session.commit()
    assert [a for a in scan(demo_session, demo_now) if "bucket" in a.scope and a.params.count("Crédit")] == []
    [three_days] = [a for a in scan(demo_session, demo_now + timedelta(days=2)) if a.kind == AlertKind.EXPIRY]
    assert three_days.threshold == 3 and json.loads(three_days.params)["days"] == 3
    assert [a for a in scan(demo_session, demo_now + timedelta(days=3)) if a.kind == AlertKind.EXPIRY] == []
    [today] = [a for a in scan(demo_session, demo_now + timedelta(days=5)) if a.kind == AlertKind.EXPIRY]
    assert today.threshold == 0 and today.scope == three_days.scope


def test_out_of_plan_charges_above_the_chosen_threshold(demo_session, demo_now, linked):
    line = linked("hf", MARIE_FORFAIT)  # 2 965 F out of plan this period
    subscribe(demo_session, "hf", line, Choice(AlertKind.OUT_OF_PLAN, 5000), demo_now)
    demo_session.commit()
    assert scan(demo_session, demo_now) == []
    subscribe(demo_session, "hf", line, Choice(AlertKind.OUT_OF_PLAN, 2000), demo_now)
    demo_session.commit()
    [alert] = scan(demo_session, demo_now)
    assert (alert.kind, alert.threshold) == (AlertKind.OUT_OF_PLAN, 2000)
    assert json.loads(alert.params)["amount"] == 2965


def test_nothing_for_a_user_who_no_longer_holds_the_line_or_a_suspended_line(demo_session, demo_now, linked):
    line = linked("gone", PAUL_BLOQUE)  # 95 F of credit
    subscribe(demo_session, "gone", line, Choice(AlertKind.LOW_CREDIT, 500), demo_now)
    demo_session.execute(update(Line).where(Line.id == line.id).values(status=LineStatus.SUSPENDED))
    demo_session.commit()
    assert scan(demo_session, demo_now) == []
    demo_session.execute(update(Line).where(Line.id == line.id).values(status=LineStatus.ACTIVE))
    demo_session.execute(update(MessengerLink).where(MessengerLink.psid == "gone").values(via="revoked"))
    demo_session.commit()
    assert scan(demo_session, demo_now) == []


def test_two_scanners_racing_on_one_crossing_record_one_alert(demo_engine, demo_session, demo_now, linked):
    from sqlalchemy.orm import Session

    line = linked("twice", PAUL_BLOQUE)  # 95 F of credit
    sub = subscribe(demo_session, "twice", line, Choice(AlertKind.LOW_CREDIT, 500), demo_now)
    demo_session.commit()
    [reading] = detection.readings(demo_session, EmbeddedOperator(demo_session), line, sub, demo_now)
    with Session(demo_engine) as first, Session(demo_engine) as second:
        assert detection._insert(first, "twice", first.get_one(Line, line.id), reading, demo_now, False) is not None
        first.commit()
        # The second scanner read before the first committed: it tries the same crossing, same key.
        assert detection._insert(second, "twice", second.get_one(Line, line.id), reading, demo_now, False) is None
        second.commit()
    assert len(alerts(demo_session, "twice")) == 1


def test_a_card_purchase_made_elsewhere_is_told_once_and_one_made_in_the_chat_is_not(demo_session, demo_now, linked):
    from bot.db.purchasing import (
        PaymentSource,
        Product,
        ProductType,
        Purchase,
        PurchaseQuote,
        PurchaseStatus,
        QuoteStatus,
    )

    line = linked("card", MARIE_LIBERTE)
    subscribe(demo_session, "card", line, Choice(AlertKind.CARD_PURCHASE, None), demo_now)
    recharge = demo_session.scalar(select(Product).where(Product.code == "RL_3000"))

    def bought(reference: str, at, status=PurchaseStatus.SUCCEEDED) -> Purchase:
        row = Purchase(
            line_id=line.id,
            product_id=recharge.id,
            product_type=ProductType.RL,
            price_xpf=3000,
            payment_source=PaymentSource.CARD,
            status=status,
            reference=reference,
            created_at=at,
        )
        demo_session.add(row)
        demo_session.flush()
        return row

    bought("WEB-OLD", demo_now - timedelta(hours=1))  # before the user asked: not told
    bought("WEB-1", demo_now + timedelta(minutes=5))
    bought("WEB-FAILED", demo_now + timedelta(minutes=6), PurchaseStatus.FAILED)
    in_chat = bought("MOB-CHAT", demo_now + timedelta(minutes=7))
    demo_session.add(
        PurchaseQuote(
            token="chat-quote",
            psid="card",
            line_id=line.id,
            product_id=recharge.id,
            product_type=ProductType.RL,
            price_xpf=3000,
            payment_source=PaymentSource.CARD,
            status=QuoteStatus.CONFIRMED,
            created_at=demo_now,
            expires_at=demo_now + timedelta(minutes=10),
            purchase_id=in_chat.id,
        )
    )
    demo_session.commit()
    [told] = scan(demo_session, demo_now + timedelta(minutes=10))
    assert told.scope == "purchase:WEB-1" and json.loads(told.params) == {"label": recharge.name, "amount": 3000}
    assert scan(demo_session, demo_now + timedelta(minutes=20)) == []
