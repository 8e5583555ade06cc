"""The TM Forum messages of the operator port (bot/services/operator/tmf_messages.py) against the
official documents in specs/tmf/: every request we build validates against its `_Create` schema
with no field the spec does not have (objects closed: the TM Forum schemas leave them open, so a
plain check would accept a misspelt field), and what we read from an answer is what the spec says."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from tmf_contract import problems, spec

from bot.db.account import BucketKind
from bot.db.purchasing import PaymentSource, Product
from bot.services.operator import tmf_messages as tmf
from bot.services.operator.port import CardPayment, Offering, OperationStatus

TMF620, TMF622, TMF654, TMF676 = "TMF620", "TMF622", "TMF654", "TMF676"
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def product(session, code: str) -> Product:
    return session.scalar(select(Product).where(Product.code == code))


def test_a_recharge_is_a_valid_topup_balance_create(demo_session):
    recharge = product(demo_session, "RL_3000")
    body = tmf.topup_request("791234", "acct-12", "bucket-7", recharge, 3000, PaymentSource.CARD, "quote:abc")
    assert problems(TMF654, "TopupBalance_Create", body) == []
    assert body["description"] == "mobilis-assistant:quote:abc"  # the key: TopupBalance has no externalId
    assert body["product"] == [{"id": "RL_3000", "name": recharge.name, "@referredType": "ProductOffering"}]


@pytest.mark.parametrize("code, source", [("IMD_1GO", PaymentSource.CREDIT), ("TOPUP_1GO", PaymentSource.BILL)])
def test_a_pack_or_a_top_up_is_a_valid_product_order_create(demo_session, code, source):
    body = tmf.order_request("874512", "cust-3", product(demo_session, code), source, 1000, "quote:xyz")
    assert problems(TMF622, "ProductOrder_Create", body) == []
    assert body["externalId"] == "quote:xyz"
    assert body["productOrderItem"][0]["productOffering"]["id"] == code


def test_the_check_refuses_a_field_the_spec_does_not_have_and_a_missing_required_one(demo_session):
    recharge = product(demo_session, "RL_1000")
    body = tmf.topup_request("791234", "acct-12", "bucket-7", recharge, 1000, PaymentSource.CARD, "k")
    misspelt = {**body, "externalId": "k"}  # not in TopupBalance_Create
    assert problems(TMF654, "TopupBalance_Create", misspelt, strict=False) == []  # the spec alone lets it through
    assert any("externalId" in p for p in problems(TMF654, "TopupBalance_Create", misspelt))
    nested = copy.deepcopy(body)
    nested["amount"]["currency"] = "XPF"
    assert any("currency" in p for p in problems(TMF654, "TopupBalance_Create", nested))
    missing = {k: v for k, v in body.items() if k != "partyAccount"}
    assert any("partyAccount" in p for p in problems(TMF654, "TopupBalance_Create", missing))


def test_states_and_usage_types_are_the_specs_own_values():
    definitions654, definitions622 = spec(TMF654)["definitions"], spec(TMF622)["definitions"]
    assert set(tmf.TOPUP_STATES) == set(definitions654["ActionStatusType"]["enum"])
    assert set(tmf.ORDER_STATES) <= set(definitions622["ProductOrderStateType"]["enum"])
    assert set(tmf.USAGE_TYPES.values()) <= set(definitions654["UsageType"]["enum"])


def test_a_bucket_answer_is_read_as_the_spec_describes_it():
    answer = {
        "id": "b-1",
        "name": "Pass Internet 1 Go",
        "usageType": "data",
        "status": "active",
        "remainingValue": {"amount": 512, "units": "MB"},
        "validFor": {"startDateTime": "2026-12-01T00:00:00Z", "endDateTime": "2026-12-31T12:59:59Z"},
        "logicalResource": [{"id": "791234", "name": "msisdn"}],
    }
    assert problems(TMF654, "Bucket", answer) == []
    bucket = tmf.bucket_from(answer)
    assert (bucket.kind, bucket.remaining, bucket.unit) == (BucketKind.DATA, 512, "MB")
    assert bucket.valid_until == datetime(2026, 12, 31, 12, 59, 59, tzinfo=UTC)
    assert tmf.bucket_from({**answer, "usageType": "other"}) is None


@pytest.mark.parametrize(
    "state, expected",
    [
        ("completed", OperationStatus.SUCCEEDED),
        ("rejected", OperationStatus.FAILED),
        ("acknowledged", OperationStatus.PENDING),
        ("inProgress", OperationStatus.PENDING),
    ],
)
def test_an_order_answer_gives_the_operation_state(state, expected):
    answer = {"id": "po-9", "state": state, "externalId": "k", "productOrderItem": [{"id": "1", "action": "add"}]}
    assert problems(TMF622, "ProductOrder", answer) == []
    operation = tmf.order_operation(answer, "k")
    assert (operation.status, operation.operator_ref) == (expected, "po-9")


def test_a_card_payment_and_its_refund_are_valid_tmf676_requests(demo_session):
    card = CardPayment("psp-123", 1000)
    payment = tmf.payment_request("ACC-1", card, "quote:card", "Pass Internet 1 Go")
    assert problems(TMF676, "Payment_Create", payment) == []
    assert (payment["correlatorId"], payment["totalAmount"], payment["authorizationCode"]) == (
        "quote:card",
        {"unit": "XPF", "value": 1000},
        "psp-123",
    )
    refund = tmf.refund_request("ACC-1", card, "quote:card", "PAY-1")
    assert problems(TMF676, "Refund_Create", refund) == []
    assert refund["payment"] == {"id": "PAY-1"}
    order = tmf.order_request(
        "874512", "ACC-1", product(demo_session, "TOPUP_1GO"), PaymentSource.CARD, 1000, "quote:card", "PAY-1"
    )
    assert problems(TMF622, "ProductOrder_Create", order) == []
    assert order["payment"] == [{"id": "PAY-1", "name": "card", "@referredType": "Payment"}]


OFFERING = {
    "id": "IMD_1GO",
    "name": "Pass Internet 1 Go",
    "isSellable": True,
    "lifecycleStatus": "Launched",
    "category": [{"id": "liberte"}],
    "productOfferingPrice": [{"id": "IMD_1GO-oneTime"}],
}
PRICE = {"id": "IMD_1GO-oneTime", "priceType": "oneTime", "price": {"unit": "XPF", "value": 1000}}


def test_an_offering_is_sold_when_launched_sellable_in_force_and_priced_once_in_xpf():
    assert problems(TMF620, "ProductOffering", OFFERING) == []
    assert problems(TMF620, "ProductOfferingPrice", PRICE) == []
    prices = {"IMD_1GO-oneTime": tmf.price_from(PRICE, NOW)}
    assert tmf.offering_from(OFFERING, prices, NOW) == Offering("IMD_1GO", 1000)
    past = {"endDateTime": "2026-12-01T00:00:00Z"}
    future = {"startDateTime": "2027-01-01T00:00:00Z"}
    for unsold in (
        {**OFFERING, "isSellable": False},
        {**OFFERING, "lifecycleStatus": "Retired"},
        {**OFFERING, "validFor": past},
        {**OFFERING, "validFor": future},
        {**OFFERING, "productOfferingPrice": [{"id": "unknown"}]},
    ):
        assert tmf.offering_from(unsold, prices, NOW) is None, unsold


@pytest.mark.parametrize(
    "change",
    [
        {"priceType": "recurring"},
        {"price": {"unit": "EUR", "value": 8}},
        {"price": {"unit": "XPF", "value": 999.5}},
        {"price": {"unit": "XPF"}},
        {"validFor": {"endDateTime": "2026-12-04T08:00:00Z"}},
    ],
)
def test_a_price_the_assistant_cannot_show_as_a_one_time_xpf_amount_is_not_read(change):
    assert tmf.price_from({**PRICE, **change}, NOW) is None
