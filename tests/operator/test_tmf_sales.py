"""What a line may buy (TMF620) and card payments at the operator (TMF676), through the TM Forum
adapter against the operator stub, every call checked against the official documents: the same
offers as the embedded simulator, an offer the operator changed never bought at the old terms, a
card payment recorded once and named by the purchase, its refund recorded when the operator
refuses the purchase."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tmf_helpers import MARIE_LIBERTE, catalogue, confirm, credit, faults, link, posts, settings

from bot.db.account import Line
from bot.db.purchasing import PaymentSession, Purchase, PurchaseStatus
from bot.services.operator import backends
from bot.services.operator.read_cache import CatalogueCache
from bot.services.operator.tmf_client import API_PATHS
from bot.services.purchasing import payment_results, purchases
from bot.services.purchasing.offers import offers_for_line
from bot.services.purchasing.payments import PaymentNotification
from bot.services.purchasing.results import Outcome

OFFERINGS = ("GET", "TMF620", "/productOffering")
PAYMENT = ("POST", "TMF676", "/payment")
REFUND = ("POST", "TMF676", "/refund")


def offered(session, line: Line) -> list[tuple[str, str]]:
    return [(o.product.code, o.payment_source.value) for o in offers_for_line(session, line)]


def test_every_demo_line_is_offered_the_same_through_tmf620(demo_session, use_tmf, contract):
    lines = demo_session.scalars(select(Line).order_by(Line.id)).all()
    embedded = {line.msisdn: offered(demo_session, line) for line in lines}
    assert all(embedded.values())
    use_tmf()
    for line in lines:
        assert offered(demo_session, line) == embedded[line.msisdn], line.msisdn
    assert {OFFERINGS, ("GET", "TMF620", "/productOfferingPrice")} <= set(contract.calls)


@pytest.mark.parametrize("change", [{"price": 1200}, {"sellable": False}], ids=["new price", "no longer sold"])
def test_an_offer_the_operator_changed_after_the_summary_is_not_bought(
    demo_session, demo_now, use_tmf, contract, stub, monkeypatch, change
):
    use_tmf()
    kept = CatalogueCache(300)  # the list shown a moment ago is still in the cache
    monkeypatch.setattr(backends, "catalogue_cache", lambda settings: kept)
    line = link(demo_session, "tmf-changed", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    summary = purchases.choose_product(demo_session, "tmf-changed", "IMD_1GO", now=demo_now, settings=settings())
    purchases.buy(demo_session, "tmf-changed", "un pass", now=demo_now, settings=settings())
    assert contract.calls.count(OFFERINGS) == 1  # shown twice, read once
    catalogue(stub, {"IMD_1GO": change})
    result = purchases.confirm_purchase(
        demo_session, "tmf-changed", summary.quote_token, now=demo_now, settings=settings()
    )
    assert result.outcome == Outcome.NOT_ELIGIBLE and "n'est plus proposé" in result.reply.text
    assert "Rien n'a été acheté ni débité" in result.reply.text
    assert contract.calls.count(OFFERINGS) == 2  # read again before money moves
    assert posts(contract) == [] and credit(demo_session, line) == before
    kept.forget("liberte")
    assert "IMD_1GO" not in [code for code, _ in offered(demo_session, line)]  # not shown at the old terms either


class Refunds:
    name = "test"

    def __init__(self) -> None:
        self.refunded: list[tuple] = []

    def refund(self, provider_ref, amount_xpf, idempotency_key):
        self.refunded.append((provider_ref, amount_xpf, idempotency_key))


def pay_by_card(session, psid: str, code: str, now, provider: Refunds) -> tuple[PaymentSession, Purchase]:
    """Confirm `code` (paid by card) and have the payment provider approve it."""
    _, result = confirm(session, psid, code, now)
    assert result.outcome == Outcome.PAYMENT_PENDING
    row = session.scalar(select(PaymentSession).where(PaymentSession.purchase_id == result.purchase_id))
    note = PaymentNotification("evt-" + psid, row.token, "approved", row.amount_xpf, 0)
    payment_results.apply_notification(session, note, now, provider)
    session.refresh(row)
    return row, session.get_one(Purchase, row.purchase_id, populate_existing=True)


def settle(session, now, provider: Refunds) -> list:
    owed = [
        purchases.settle_purchase(session, p, now, provider=provider)
        for p in purchases.purchases_to_settle(session, now)
    ]
    return [o for o in owed if o is not None]


def test_a_card_recharge_is_recorded_as_a_tmf676_payment_before_the_top_up(
    demo_session, demo_now, use_tmf, contract, client
):
    use_tmf()
    line = link(demo_session, "tmf-card", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    row, purchase = pay_by_card(demo_session, "tmf-card", "RL_3000", demo_now, Refunds())
    assert posts(contract) == [("TMF676", "/payment"), ("TMF654", "/topupBalance")]
    assert credit(demo_session, line) == before + 3150
    [payment] = client.get("TMF676", "/payment", {"correlatorId": purchase.idempotency_key})
    assert payment["totalAmount"] == {"unit": "XPF", "value": 3000}
    assert payment["authorizationCode"] == (row.provider_ref or row.token)


def test_a_payment_whose_answer_was_lost_is_found_by_its_correlator_not_recorded_twice(
    demo_session, demo_now, use_tmf, contract, stub
):
    use_tmf()
    line = link(demo_session, "tmf-card-lost", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    faults(stub, "lost_answer", count=1, on="POST " + API_PATHS["TMF676"] + "/payment")
    _, purchase = pay_by_card(demo_session, "tmf-card-lost", "RL_3000", demo_now, Refunds())
    assert purchase.status == PurchaseStatus.PENDING and credit(demo_session, line) == before
    [(psid, reply)] = settle(demo_session, demo_now + timedelta(minutes=5), Refunds())
    assert psid == "tmf-card-lost" and "Nouveau crédit" in reply.text
    assert contract.calls.count(PAYMENT) == 1  # looked up by its correlatorId, never sent again
    assert credit(demo_session, line) == before + 3150


@pytest.mark.parametrize("refused", [("TMF654", "/topupBalance"), ("TMF676", "/payment")], ids=["top-up", "payment"])
def test_a_card_purchase_the_operator_refuses_is_refunded_and_the_refund_recorded_once(
    demo_session, demo_now, use_tmf, contract, stub, refused
):
    use_tmf()
    line = link(demo_session, "tmf-card-no", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    faults(stub, "refuse", count=1, on=f"POST {API_PATHS[refused[0]]}{refused[1]}")
    provider = Refunds()
    row, purchase = pay_by_card(demo_session, "tmf-card-no", "RL_3000", demo_now, provider)
    assert purchase.status == PurchaseStatus.FAILED and credit(demo_session, line) == before
    assert provider.refunded == [(row.provider_ref or row.token, 3000, row.token)]
    # The operator's books: a payment it recorded is given back; one it refused has nothing to give back.
    assert contract.calls.count(REFUND) == (1 if refused[1] == "/topupBalance" else 0)
    assert settle(demo_session, demo_now + timedelta(minutes=5), provider) == []
    assert contract.calls.count(REFUND) <= 1
