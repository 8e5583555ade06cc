"""Applying card payment results (bot/services/purchasing/payment_results.py): only an approval credits
the line, once; declines and abandons charge nothing; replays change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from purchase_helpers import JEAN_EXPIRED, MARIE_LIBERTE, PAUL_BLOQUE, assistant_purchases, credit
from sqlalchemy import select

from bot.db.account import Line
from bot.db.purchasing import PaymentSession, PaymentStatus, Purchase, PurchaseStatus
from bot.services.purchasing import payment_results, purchases
from bot.services.purchasing.payment_results import ApplyStatus
from bot.services.purchasing.payments import PaymentNotification, PaymentProviderError


@pytest.fixture
def card(demo_session, linked, clock, cfg):
    """card(msisdn, code) → the pending PaymentSession of a confirmed card purchase."""

    def make(msisdn=MARIE_LIBERTE, code="RL_3000", psid="payer"):
        linked(psid, msisdn)
        token = purchases.choose_product(demo_session, psid, code, now=clock.now, settings=cfg).quote_token
        result = purchases.confirm_purchase(demo_session, psid, token, now=clock.now, settings=cfg)
        assert result.outcome == purchases.Outcome.PAYMENT_PENDING
        return demo_session.scalar(select(PaymentSession).where(PaymentSession.purchase_id == result.purchase_id))

    return make


class RecordingProvider:
    """The payment port's cancel and refund, recorded (or refused with `fail=True`)."""

    name = "test"

    def __init__(self, fail: bool = False):
        self.calls: list[tuple] = []
        self.fail = fail

    def cancel_session(self, provider_ref):
        self._call("cancel", provider_ref)

    def refund(self, provider_ref, amount_xpf, idempotency_key):
        self._call("refund", provider_ref, amount_xpf, idempotency_key)

    def _call(self, *call):
        if self.fail:
            raise PaymentProviderError(f"{call[0]} refused (test)")
        self.calls.append(call)


PROVIDER = RecordingProvider()


def note(row, status, amount=None, event="evt"):
    return PaymentNotification(event, row.token, status, row.amount_xpf if amount is None else amount, 0)


def fresh(session, row) -> PaymentSession:
    return session.get(PaymentSession, row.id, populate_existing=True)


def test_approval_credits_the_recharge_once(demo_session, card, clock):
    row = card()
    fresh_line = line_of_payment(demo_session, row)
    line_credit = credit(demo_session, fresh_line)
    first = payment_results.apply_notification(demo_session, note(row, "approved"), clock.now, PROVIDER)
    assert first.status == ApplyStatus.APPLIED and first.psid == "payer"
    assert credit(demo_session, fresh_line) == line_credit + 3150
    for _ in range(3):  # provider retries, replays
        again = payment_results.apply_notification(
            demo_session, note(row, "approved", event="evt2"), clock.now, PROVIDER
        )
        assert again.status == ApplyStatus.DUPLICATE
    assert credit(demo_session, fresh_line) == line_credit + 3150
    [purchase] = assistant_purchases(demo_session, fresh_line)
    assert purchase.status == PurchaseStatus.SUCCEEDED and purchase.completed_at == clock.now
    assert fresh(demo_session, row).status == PaymentStatus.APPROVED


def line_of_payment(session, row) -> Line:
    return session.get(Line, session.get(Purchase, row.purchase_id).line_id)


@pytest.mark.parametrize(
    "verdict, purchase_status, words",
    [
        ("declined", PurchaseStatus.FAILED, "refusé par la banque"),
        ("abandoned", PurchaseStatus.CANCELLED, "abandonné"),
    ],
)
def test_decline_and_abandon_charge_nothing_and_say_so(demo_session, card, clock, verdict, purchase_status, words):
    row = card()
    line = line_of_payment(demo_session, row)
    before = credit(demo_session, line)
    assert (
        payment_results.apply_notification(demo_session, note(row, verdict), clock.now, PROVIDER).status
        == ApplyStatus.APPLIED
    )
    assert (
        payment_results.apply_notification(demo_session, note(row, verdict), clock.now, PROVIDER).status
        == ApplyStatus.DUPLICATE
    )
    assert credit(demo_session, line) == before
    [purchase] = assistant_purchases(demo_session, line)
    assert purchase.status == purchase_status
    psid, reply = purchases.payment_notice(demo_session, row.id, clock.now)
    assert psid == "payer" and words in reply.text and "Rien n'a été débité" in reply.text
    assert reply.quick_replies[0].title == "Réessayer"


def test_a_decline_after_an_approval_is_ignored(demo_session, card, clock):
    row = card()
    payment_results.apply_notification(demo_session, note(row, "approved"), clock.now, PROVIDER)
    assert (
        payment_results.apply_notification(demo_session, note(row, "declined"), clock.now, PROVIDER).status
        == ApplyStatus.IGNORED
    )
    assert fresh(demo_session, row).status == PaymentStatus.APPROVED


def test_an_approval_after_expiry_is_refunded_not_credited(demo_session, card, clock):
    """The expired session no longer counted towards the limits: a late payment is given back."""
    provider = RecordingProvider()
    row = card(JEAN_EXPIRED, "RL_1000")
    line = line_of_payment(demo_session, row)
    before = credit(demo_session, line)
    later = clock.now + timedelta(minutes=20)
    assert purchases.expire_stale(demo_session, later) >= 1
    assert fresh(demo_session, row).status == PaymentStatus.EXPIRED
    [purchase] = assistant_purchases(demo_session, line)
    assert purchase.status == PurchaseStatus.EXPIRED
    assert (
        payment_results.apply_notification(demo_session, note(row, "approved"), later, provider).status
        == ApplyStatus.APPLIED
    )
    assert provider.calls == [("refund", row.token, row.amount_xpf, row.token)]
    assert credit(demo_session, line) == before
    demo_session.refresh(purchase)
    assert purchase.status == PurchaseStatus.EXPIRED and purchase.failure_reason == payment_results.REFUNDED_REASON
    assert fresh(demo_session, row).notice_state == "pending"  # the user is told
    _psid, reply = purchases.payment_notice(demo_session, row.id, later)
    assert "remboursé" in reply.text
    # the provider repeating its notification refunds nothing more
    assert (
        payment_results.apply_notification(demo_session, note(row, "approved", event="evt2"), later, provider).status
        == ApplyStatus.DUPLICATE
    )
    assert len(provider.calls) == 1


def test_a_refund_not_confirmed_changes_nothing_and_is_retried(demo_session, card, clock):
    row = card(JEAN_EXPIRED, "RL_1000")
    later = clock.now + timedelta(minutes=20)
    purchases.expire_stale(demo_session, later)
    with pytest.raises(PaymentProviderError):
        payment_results.apply_notification(demo_session, note(row, "approved"), later, RecordingProvider(fail=True))
    assert fresh(demo_session, row).last_event_id is None
    retried = RecordingProvider()
    assert (
        payment_results.apply_notification(demo_session, note(row, "approved"), later, retried).status
        == ApplyStatus.APPLIED
    )
    assert [c[0] for c in retried.calls] == ["refund"]


def test_amount_mismatch_and_unknown_session_change_nothing(demo_session, card, clock):
    row = card()
    assert (
        payment_results.apply_notification(demo_session, note(row, "approved", amount=1), clock.now, PROVIDER).status
        == ApplyStatus.AMOUNT_MISMATCH
    )
    ghost = PaymentNotification("e", "no-such-session", "approved", 3000, 0)
    assert (
        payment_results.apply_notification(demo_session, ghost, clock.now, PROVIDER).status
        == ApplyStatus.UNKNOWN_SESSION
    )
    assert fresh(demo_session, row).status == PaymentStatus.PENDING


def test_receipt_after_approval(demo_session, card, clock):
    row = card()
    payment_results.apply_notification(demo_session, note(row, "approved"), clock.now, PROVIDER)
    psid, reply = purchases.payment_notice(demo_session, row.id, clock.now)
    assert psid == "payer"
    text = reply.text
    for part in (
        "Paiement reçu",
        "Référence : MOB-260315-",
        "Recharge Liberté 3 000",
        "3 000 F (carte bancaire)",
        "Nouveau crédit : 5 490 F, valable jusqu'au 12/08/2026",
        "SMS : 94",
    ):
        assert part in text


def test_recharge_on_a_forfait_bloque_goes_to_its_own_bucket(demo_session, card, clock):
    row = card(PAUL_BLOQUE, "RL_1000")
    payment_results.apply_notification(demo_session, note(row, "approved"), clock.now, PROVIDER)
    _psid, reply = purchases.payment_notice(demo_session, row.id, clock.now)
    assert "Nouveau crédit : 1 050 F" in reply.text  # the plan's 95 F stays in the monthly bucket


def test_the_notice_is_claimed_once(demo_session, card, clock):
    row = card()
    payment_results.apply_notification(demo_session, note(row, "approved"), clock.now, PROVIDER)
    assert payment_results.claim_notice(demo_session, row.id, clock.now) is True
    assert payment_results.claim_notice(demo_session, row.id, clock.now) is False
    payment_results.finish_notice(demo_session, row.id, "failed", clock.now)
    assert payment_results.claim_notice(demo_session, row.id, clock.now) is True  # a failed send may be retried
    payment_results.finish_notice(demo_session, row.id, "sent", clock.now)
    assert payment_results.claim_notice(demo_session, row.id, clock.now) is False


def test_a_notice_left_sending_by_a_dead_process_is_taken_over_after_the_lease(demo_session, card, clock):
    row = card()
    payment_results.apply_notification(demo_session, note(row, "approved"), clock.now, PROVIDER)
    assert payment_results.claim_notice(demo_session, row.id, clock.now) is True  # then the process dies
    soon = clock.now + payment_results.NOTICE_LEASE - timedelta(seconds=1)
    assert payment_results.stale_notices(demo_session, soon, timedelta(minutes=1)) == []
    assert payment_results.claim_notice(demo_session, row.id, soon) is False  # maybe still sending: wait
    later = clock.now + payment_results.NOTICE_LEASE + timedelta(seconds=1)
    assert payment_results.stale_notices(demo_session, later, timedelta(minutes=1)) == [row.id]
    assert payment_results.claim_notice(demo_session, row.id, later) is True
    assert payment_results.claim_notice(demo_session, row.id, later) is False  # one taker


def test_the_notice_speaks_the_payer_s_language(demo_session, card, clock):
    """Sent outside any conversation turn: the language is the one kept for the payer."""
    from bot.services.language import preference

    row = card()
    preference.choose(demo_session, "payer", "en", clock.now)
    payment_results.apply_notification(demo_session, note(row, "declined"), clock.now, PROVIDER)
    psid, reply = purchases.payment_notice(demo_session, row.id, clock.now)
    assert psid == "payer" and "Rien" not in reply.text and "XPF" in reply.text
    assert reply.quick_replies[0].title == "Try again"
