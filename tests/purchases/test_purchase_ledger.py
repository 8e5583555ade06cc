"""Balances before/after a purchase (bot/services/purchasing/ledger.py): projection, debit, delivery."""

from __future__ import annotations

from datetime import timedelta

from purchase_helpers import EMMA_TOURISM, JEAN_EXPIRED, LEA_DATA, MARIE_FORFAIT, MARIE_LIBERTE, PAUL_BLOQUE, line_of
from sqlalchemy import select

from bot.db.account import Balance, BucketKind
from bot.db.purchasing import PaymentSource, Product
from bot.services.purchasing import ledger


def product(session, code) -> Product:
    return session.scalar(select(Product).where(Product.code == code))


def test_projection_for_an_imd_paid_from_credit(demo_session, demo_now):
    line, imd = line_of(demo_session, EMMA_TOURISM), product(demo_session, "IMD_200MO")
    p = ledger.project(demo_session, line, imd, PaymentSource.CREDIT, imd.price_xpf, demo_now)
    assert (p.credit_now, p.credit_after, p.shortfall) == (430, 130, 0)
    assert (p.data_now_mb, p.data_after_mb) == (450, 650)
    assert p.valid_until == demo_now + timedelta(days=1)


def test_projection_shortfall(demo_session, demo_now):
    line, imd = line_of(demo_session, EMMA_TOURISM), product(demo_session, "IMD_1GO")
    assert ledger.project(demo_session, line, imd, PaymentSource.CREDIT, 1000, demo_now).shortfall == 570


def test_expired_credit_pays_nothing(demo_session, demo_now):
    line = line_of(demo_session, JEAN_EXPIRED)  # 320 F, expired 6 days ago
    assert ledger.usable_credit(demo_session, line, demo_now) == 0
    assert ledger.debit_credit(demo_session, line, 100, demo_now) is False
    demo_session.rollback()


def test_debit_is_conditional_on_the_remaining_credit(demo_session, demo_now):
    line = line_of(demo_session, MARIE_LIBERTE)  # 2 340 F
    assert ledger.debit_credit(demo_session, line, 2000, demo_now) is True
    assert ledger.debit_credit(demo_session, line, 2000, demo_now) is False  # 340 left: refused, unchanged
    assert ledger.debit_credit(demo_session, line, 340, demo_now) is True
    assert ledger.usable_credit(demo_session, line, demo_now) == 0
    demo_session.rollback()


def test_topup_projection_counts_plan_allowance_and_reserve(demo_session, demo_now):
    line, topup = line_of(demo_session, MARIE_FORFAIT), product(demo_session, "TOPUP_1GO")
    p = ledger.project(demo_session, line, topup, PaymentSource.BILL, 1000, demo_now)
    # 10 Go plan with 9 830 Mo used → 410 Mo left, plus the 1 Go TOP UP bought ahead.
    assert (p.data_now_mb, p.data_after_mb) == (410 + 1024, 410 + 2048)
    assert p.credit_after is None and p.shortfall == 0


def test_topup_lasts_until_the_end_of_the_billing_period(demo_session, demo_now):
    line = line_of(demo_session, LEA_DATA)
    until = ledger.pack_validity(demo_session, line, product(demo_session, "TOPUP_5GO"), demo_now)
    period = ledger.accounts.current_period(demo_session, line, demo_now)
    assert until == period.ends_at - timedelta(seconds=1)


def test_recharge_on_forfait_bloque_creates_its_own_credit_bucket(demo_session, demo_now):
    line = line_of(demo_session, PAUL_BLOQUE)
    assert ledger.credit_bucket(demo_session, line) is None  # the plan's monthly credit is not it
    ledger.deliver(demo_session, line, product(demo_session, "RL_1000"), demo_now)
    buckets = demo_session.scalars(
        select(Balance).where(Balance.line_id == line.id, Balance.kind == BucketKind.CREDIT)
    ).all()
    assert sorted((b.label, b.remaining) for b in buckets) == [("Crédit du forfait", 95), ("Crédit rechargé", 1050)]
    demo_session.rollback()


def test_recharge_extends_but_never_shortens_validity(demo_session, demo_now):
    line = line_of(demo_session, MARIE_LIBERTE)
    before = ledger.credit_bucket(demo_session, line).valid_until  # 130 days ahead
    ledger.deliver(demo_session, line, product(demo_session, "RL_1000"), demo_now)  # 120 days
    bucket = ledger.credit_bucket(demo_session, line)
    assert bucket.remaining == 2340 + 1050 and bucket.valid_until == before
    ledger.deliver(demo_session, line, product(demo_session, "RL_5000"), demo_now)  # 180 days
    assert ledger.credit_bucket(demo_session, line).valid_until > before
    demo_session.rollback()


def test_daily_usage_counts_only_today_and_live_purchases(demo_session, demo_now):
    line = line_of(demo_session, MARIE_LIBERTE)  # demo purchases are all before today
    assert ledger.daily_usage(demo_session, line, demo_now) == ledger.DailyUsage(0, 0)
