"""The purchase summary's projection and the daily limits (bot/services/purchasing/ledger.py),
read through the embedded operator."""

from __future__ import annotations

from datetime import timedelta

from purchase_helpers import EMMA_TOURISM, LEA_DATA, MARIE_FORFAIT, MARIE_LIBERTE, line_of
from sqlalchemy import select

from bot.db.purchasing import PaymentSource, Product
from bot.services.operator.embedded import EmbeddedOperator
from bot.services.purchasing import ledger


def product(session, code) -> Product:
    return session.scalar(select(Product).where(Product.code == code))


def test_projection_for_an_imd_paid_from_credit(demo_session, demo_now):
    line, imd = line_of(demo_session, EMMA_TOURISM), product(demo_session, "IMD_200MO")
    p = ledger.project(EmbeddedOperator(demo_session), line, imd, PaymentSource.CREDIT, imd.price_xpf, demo_now)
    assert (p.credit_now, p.credit_after, p.shortfall) == (430, 130, 0)
    assert (p.data_now_mb, p.data_after_mb) == (450, 650)
    assert p.valid_until == demo_now + timedelta(days=1)


def test_projection_shortfall(demo_session, demo_now):
    line, imd = line_of(demo_session, EMMA_TOURISM), product(demo_session, "IMD_1GO")
    operator = EmbeddedOperator(demo_session)
    assert ledger.project(operator, line, imd, PaymentSource.CREDIT, 1000, demo_now).shortfall == 570


def test_topup_projection_counts_plan_allowance_and_reserve(demo_session, demo_now):
    line, topup = line_of(demo_session, MARIE_FORFAIT), product(demo_session, "TOPUP_1GO")
    p = ledger.project(EmbeddedOperator(demo_session), line, topup, PaymentSource.BILL, 1000, demo_now)
    # 10 Go plan with 9 830 Mo used → 410 Mo left, plus the 1 Go TOP UP bought ahead.
    assert (p.data_now_mb, p.data_after_mb) == (410 + 1024, 410 + 2048)
    assert p.credit_after is None and p.shortfall == 0


def test_topup_lasts_until_the_end_of_the_billing_period(demo_session, demo_now):
    line, operator = line_of(demo_session, LEA_DATA), EmbeddedOperator(demo_session)
    until = ledger.pack_validity(operator, line, product(demo_session, "TOPUP_5GO"), demo_now)
    period = operator.billing_period(line, demo_now)
    assert until == period.ends_at - timedelta(seconds=1)


def test_daily_usage_counts_only_today_and_live_purchases(demo_session, demo_now):
    line = line_of(demo_session, MARIE_LIBERTE)  # demo purchases are all before today
    assert ledger.daily_usage(demo_session, line, demo_now) == ledger.DailyUsage(0, 0)
