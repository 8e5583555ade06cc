"""Exactly once at the operator boundary (bot/services/purchasing/fulfilment.py): an operator that
does not answer leaves the purchase pending, shown as such; the settlement asks the operator about
the key before ever sending the purchase again; an operator refusal charges nothing; a card payment
the operator refuses is refunded."""

from __future__ import annotations

import pytest
from purchase_helpers import MARIE_LIBERTE, Faults, assistant_purchases, credit, data_buckets
from sqlalchemy import func, select

from bot.db.operator import OperatorOperation
from bot.db.purchasing import PaymentSession, PurchaseStatus
from bot.services.operator import backends
from bot.services.purchasing import payment_results, purchases
from bot.services.purchasing.payments import PaymentNotification, PaymentProviderError
from bot.services.purchasing.results import Outcome


@pytest.fixture
def faults(monkeypatch):
    faults = Faults()
    monkeypatch.setattr(backends, "EmbeddedOperator", faults.operator)
    return faults


def confirm(session, psid, code, clock, cfg):
    token = purchases.choose_product(session, psid, code, now=clock.now, settings=cfg).quote_token
    return token, purchases.confirm_purchase(session, psid, token, now=clock.now, settings=cfg)


def settle_all(session, clock, provider=None) -> list[tuple[str, object]]:
    later = clock.advance(minutes=2)
    owed = [
        purchases.settle_purchase(session, pid, later, provider=provider or Refunds())
        for pid in purchases.purchases_to_settle(session, later)
    ]
    return [o for o in owed if o is not None]


def test_a_lost_answer_is_pending_then_settled_by_looking_the_key_up(demo_session, linked, clock, cfg, faults):
    line = linked("lost", MARIE_LIBERTE)
    before = credit(demo_session, line)
    faults.mode = "lost_answer"  # the operator debits, but its answer never arrives
    token, result = confirm(demo_session, "lost", "IMD_1GO", clock, cfg)
    assert result.outcome == Outcome.DELIVERY_PENDING
    assert "en cours de confirmation" in result.reply.text and "jamais débité deux fois" in result.reply.text
    [purchase] = assistant_purchases(demo_session, line)
    assert purchase.status == PurchaseStatus.PENDING
    again = purchases.confirm_purchase(demo_session, "lost", token, now=clock.now, settings=cfg)
    assert (again.outcome, again.duplicate) == (Outcome.DELIVERY_PENDING, True)  # a second tap sends nothing

    faults.mode = "answer"
    [(psid, reply)] = settle_all(demo_session, clock)
    assert psid == "lost" and reply.text.startswith("Votre achat est confirmé.") and purchase.reference in reply.text
    assert faults.purchases_sent == 1  # found by its key: never sent again
    [purchase] = assistant_purchases(demo_session, line)
    assert purchase.status == PurchaseStatus.SUCCEEDED
    assert credit(demo_session, line) == before - 1000
    assert len(data_buckets(demo_session, line, "Pass Internet 1 Go")) == 2  # the demo pack + one new
    assert settle_all(demo_session, clock) == []  # nothing left, nothing said twice


def test_an_operator_down_buys_nothing_until_it_is_back(demo_session, linked, clock, cfg, faults):
    line = linked("down", MARIE_LIBERTE)
    before = credit(demo_session, line)
    faults.mode = "down"
    _, result = confirm(demo_session, "down", "IMD_1GO", clock, cfg)
    assert result.outcome == Outcome.DELIVERY_PENDING
    assert credit(demo_session, line) == before
    assert settle_all(demo_session, clock) == []  # still down: still pending, nothing said
    assert assistant_purchases(demo_session, line)[0].status == PurchaseStatus.PENDING

    faults.mode = "answer"
    [(_, reply)] = settle_all(demo_session, clock)
    assert "Votre achat est confirmé." in reply.text
    assert credit(demo_session, line) == before - 1000
    assert demo_session.scalar(select(func.count()).select_from(OperatorOperation)) == 1


def test_credit_promised_to_a_pending_purchase_is_not_spent_twice(demo_session, linked, clock, cfg, faults):
    line = linked("promise", MARIE_LIBERTE)  # 2 340 F
    faults.mode = "down"
    assert confirm(demo_session, "promise", "IMD_1GO", clock, cfg)[1].outcome == Outcome.DELIVERY_PENDING
    assert confirm(demo_session, "promise", "IMD_1GO", clock, cfg)[1].outcome == Outcome.DELIVERY_PENDING
    third = confirm(demo_session, "promise", "IMD_1GO", clock, cfg)[1]
    assert third.outcome == Outcome.INSUFFICIENT_CREDIT  # 340 F not promised yet
    faults.mode = "answer"
    assert len(settle_all(demo_session, clock)) == 2
    assert credit(demo_session, line) == 340


def test_an_operator_refusal_charges_nothing_and_says_so(demo_session, linked, clock, cfg, faults):
    line = linked("refused", MARIE_LIBERTE)
    before = credit(demo_session, line)
    faults.mode = "refuse"
    _, result = confirm(demo_session, "refused", "IMD_1GO", clock, cfg)
    assert result.outcome == Outcome.DELIVERY_FAILED
    assert "n'a pas abouti" in result.reply.text and "Rien n'a été acheté ni débité" in result.reply.text
    assert result.reply.quick_replies[0].title == "Réessayer"
    assert assistant_purchases(demo_session, line)[0].status == PurchaseStatus.FAILED
    assert credit(demo_session, line) == before


class Refunds:
    name = "test"

    def __init__(self) -> None:
        self.refunded: list[tuple] = []

    def cancel_session(self, provider_ref):
        raise AssertionError("not expected")

    def refund(self, provider_ref, amount_xpf, idempotency_key):
        self.refunded.append((provider_ref, amount_xpf, idempotency_key))


def approve(session, clock, purchase_id, provider):
    row = session.scalar(select(PaymentSession).where(PaymentSession.purchase_id == purchase_id))
    note = PaymentNotification("evt-approve", row.token, "approved", row.amount_xpf, 0)
    return payment_results.apply_notification(session, note, clock.now, provider), row


def test_a_card_payment_the_operator_cannot_take_yet_is_settled_later(demo_session, linked, clock, cfg, faults):
    line = linked("cardwait", MARIE_LIBERTE)
    before = credit(demo_session, line)
    _, result = confirm(demo_session, "cardwait", "RL_3000", clock, cfg)
    assert result.outcome == Outcome.PAYMENT_PENDING
    faults.mode = "down"
    provider = Refunds()
    applied, row = approve(demo_session, clock, result.purchase_id, provider)
    assert applied.status == payment_results.ApplyStatus.APPLIED
    psid, notice = purchases.payment_notice(demo_session, row.id, clock.now)
    assert notice.text.startswith("Paiement reçu.") and "en cours de confirmation" in notice.text
    assert credit(demo_session, line) == before

    faults.mode = "answer"
    [(psid, reply)] = settle_all(demo_session, clock, provider)
    assert psid == "cardwait" and "Paiement reçu." in reply.text and "Nouveau crédit" in reply.text
    assert credit(demo_session, line) == before + 3150
    assert provider.refunded == []


def test_a_card_payment_the_operator_refuses_is_refunded(demo_session, linked, clock, cfg, faults):
    line = linked("cardno", MARIE_LIBERTE)
    before = credit(demo_session, line)
    _, result = confirm(demo_session, "cardno", "RL_3000", clock, cfg)
    faults.mode = "refuse"
    provider = Refunds()
    _, row = approve(demo_session, clock, result.purchase_id, provider)
    assert provider.refunded == [(row.provider_ref or row.token, 3000, row.token)]
    _, notice = purchases.payment_notice(demo_session, row.id, clock.now)
    assert "remboursés" in notice.text
    assert assistant_purchases(demo_session, line)[0].status == PurchaseStatus.FAILED
    assert credit(demo_session, line) == before


class FlakyRefunds(Refunds):
    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def refund(self, provider_ref, amount_xpf, idempotency_key):
        if self.down:
            raise PaymentProviderError("refund API down (test)")
        super().refund(provider_ref, amount_xpf, idempotency_key)


def test_a_refund_owed_after_an_operator_refusal_is_retried_by_the_settlement(demo_session, linked, clock, cfg, faults):
    line = linked("cardretry", MARIE_LIBERTE)
    before = credit(demo_session, line)
    _, result = confirm(demo_session, "cardretry", "RL_3000", clock, cfg)
    faults.mode = "refuse"
    provider = FlakyRefunds()
    applied, row = approve(demo_session, clock, result.purchase_id, provider)
    assert applied.status == payment_results.ApplyStatus.APPLIED  # the payment is recorded as received
    assert assistant_purchases(demo_session, line)[0].status == PurchaseStatus.PENDING  # refund still owed
    assert settle_all(demo_session, clock, provider) == []  # refund API still down: still owed, nothing said
    provider.down = False
    [(psid, reply)] = settle_all(demo_session, clock, provider)
    assert psid == "cardretry" and "remboursés" in reply.text
    assert provider.refunded == [(row.provider_ref or row.token, 3000, row.token)]
    assert assistant_purchases(demo_session, line)[0].status == PurchaseStatus.FAILED
    assert credit(demo_session, line) == before
    assert settle_all(demo_session, clock, provider) == []
