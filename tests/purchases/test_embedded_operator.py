"""The embedded operator simulator (bot/services/operator/embedded.py): what a purchase does to
the line, refusals, and the same key never buying twice."""

from __future__ import annotations

from purchase_helpers import JEAN_EXPIRED, MARIE_LIBERTE, PAUL_BLOQUE, THOMAS_SUSPENDED, line_of
from sqlalchemy import func, select

from bot.db.account import Balance, BucketKind
from bot.db.operator import OperatorOperation
from bot.db.purchasing import PaymentSource, Product
from bot.services.operator.embedded import EmbeddedOperator
from bot.services.operator.port import FailureReason, OperationStatus
from bot.services.purchasing import ledger


def product(session, code) -> Product:
    return session.scalar(select(Product).where(Product.code == code))


def credit_rows(session, line) -> list[tuple[str, int]]:
    rows = session.scalars(select(Balance).where(Balance.line_id == line.id, Balance.kind == BucketKind.CREDIT))
    return sorted((b.label, b.remaining) for b in rows)


def test_expired_credit_pays_nothing(demo_session, demo_now):
    line, operator = line_of(demo_session, JEAN_EXPIRED), EmbeddedOperator(demo_session)  # 320 F, expired
    assert ledger.usable_credit(operator, line, demo_now) == 0
    done = operator.purchase(line, product(demo_session, "IMD_200MO"), PaymentSource.CREDIT, 100, "k1", demo_now)
    assert (done.status, done.reason) == (OperationStatus.FAILED, FailureReason.INSUFFICIENT_CREDIT)
    assert credit_rows(demo_session, line) == [("Crédit", 320)]
    demo_session.rollback()


def test_debit_is_conditional_on_the_remaining_credit(demo_session, demo_now):
    line, operator = line_of(demo_session, MARIE_LIBERTE), EmbeddedOperator(demo_session)  # 2 340 F
    imd = product(demo_session, "IMD_200MO")
    assert operator.purchase(line, imd, PaymentSource.CREDIT, 2000, "k1", demo_now).status == OperationStatus.SUCCEEDED
    refused = operator.purchase(line, imd, PaymentSource.CREDIT, 2000, "k2", demo_now)  # 340 left
    assert (refused.status, refused.reason) == (OperationStatus.FAILED, FailureReason.INSUFFICIENT_CREDIT)
    assert operator.purchase(line, imd, PaymentSource.CREDIT, 340, "k3", demo_now).status == OperationStatus.SUCCEEDED
    assert ledger.usable_credit(operator, line, demo_now) == 0
    demo_session.rollback()


def test_the_same_key_never_buys_twice(demo_session, demo_now):
    line, operator = line_of(demo_session, MARIE_LIBERTE), EmbeddedOperator(demo_session)
    imd = product(demo_session, "IMD_200MO")
    assert operator.find_operation(line, "quote-1") is None
    first = operator.purchase(line, imd, PaymentSource.CREDIT, 300, "quote-1", demo_now)
    again = operator.purchase(line, imd, PaymentSource.CREDIT, 300, "quote-1", demo_now)
    assert first == again == operator.find_operation(line, "quote-1")
    assert ledger.usable_credit(operator, line, demo_now) == 2340 - 300
    data = [b for b in operator.buckets(line) if b.kind == BucketKind.DATA and b.label == imd.name]
    assert len(data) == 1
    assert demo_session.scalar(select(func.count()).select_from(OperatorOperation)) == 1
    demo_session.rollback()


def test_a_suspended_line_buys_nothing(demo_session, demo_now):
    line, operator = line_of(demo_session, THOMAS_SUSPENDED), EmbeddedOperator(demo_session)
    before = operator.buckets(line)
    done = operator.purchase(line, product(demo_session, "RL_1000"), PaymentSource.CARD, 1000, "k", demo_now)
    assert (done.status, done.reason) == (OperationStatus.FAILED, FailureReason.LINE_NOT_ACTIVE)
    assert operator.buckets(line) == before
    demo_session.rollback()


def test_recharge_on_forfait_bloque_creates_its_own_credit_bucket(demo_session, demo_now):
    line, operator = line_of(demo_session, PAUL_BLOQUE), EmbeddedOperator(demo_session)
    assert ledger.credit_bucket(operator, line) is None  # the plan's monthly credit is not it
    operator.purchase(line, product(demo_session, "RL_1000"), PaymentSource.CARD, 1000, "k", demo_now)
    assert credit_rows(demo_session, line) == [("Crédit du forfait", 95), ("Crédit rechargé", 1050)]
    demo_session.rollback()


def test_recharge_extends_but_never_shortens_validity(demo_session, demo_now):
    line, operator = line_of(demo_session, MARIE_LIBERTE), EmbeddedOperator(demo_session)
    before = ledger.credit_bucket(operator, line).valid_until  # 130 days ahead
    operator.purchase(line, product(demo_session, "RL_1000"), PaymentSource.CARD, 1000, "k1", demo_now)  # 120 days
    bucket = ledger.credit_bucket(operator, line)
    assert bucket.remaining == 2340 + 1050 and bucket.valid_until == before
    operator.purchase(line, product(demo_session, "RL_5000"), PaymentSource.CARD, 5000, "k2", demo_now)  # 180 days
    assert ledger.credit_bucket(operator, line).valid_until > before
    demo_session.rollback()
