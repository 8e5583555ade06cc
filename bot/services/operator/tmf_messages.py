"""TM Forum Open API messages for the operator port: the bodies the TM Forum adapter sends and how
it reads the answers. Pure functions (no HTTP); every field name and value below is in the official
documents (specs/tmf/, Swagger 2.0, v4), which tests/purchases/test_tmf_messages.py checks.

- a Recharge Liberté is a TMF654 top-up of the line's monetary bucket (`TopupBalance_Create`);
  TopupBalance has no external id, so the idempotency key travels in `description` and the
  look-up filters on it;
- an IMD pack or a TOP UP is a TMF622 product order (`ProductOrder_Create`) with the key as
  `externalId` and one "add" item naming the product offering (our catalogue code);
- buckets are TMF654 `Bucket`s: `usageType` monetary / sms / data / voice, `remainingValue` in the
  units the adapter asks for (XPF, SMS, MB, s), `validFor.endDateTime`;
- what a line may buy is the TMF620 `ProductOffering`s of its plan family's category, launched,
  sellable and valid now, each with its one-time `ProductOfferingPrice` in XPF;
- a card payment is a TMF676 `Payment` (`correlatorId` = the purchase's key) that the order
  names in `payment`; giving it back is a TMF676 `Refund` with the same correlator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.db.account import BucketKind, LineStatus, PlanFamily
from bot.db.purchasing import PaymentSource, Product
from bot.services.operator.port import (
    Bucket,
    CardPayment,
    Charge,
    FailureReason,
    LineInfo,
    Offering,
    Operation,
    OperationStatus,
    Period,
)

KEY_PREFIX = "mobilis-assistant:"
LAUNCHED = "Launched"  # TMF620 lifecycleStatus of an offering on sale
ONE_TIME = "oneTime"  # TMF620 priceType of a price paid once
CHANNEL_ID = "mobilis-assistant"
CHANNEL_NAME = "Messenger"
USAGE_TYPES = {
    BucketKind.CREDIT: "monetary",
    BucketKind.SMS: "sms",
    BucketKind.DATA: "data",
    BucketKind.VOICE: "voice",
}
KINDS = {usage: kind for kind, usage in USAGE_TYPES.items()}
UNITS = {BucketKind.CREDIT: "XPF", BucketKind.SMS: "SMS", BucketKind.DATA: "MB", BucketKind.VOICE: "s"}
PAYMENT_METHODS = {PaymentSource.CARD: "card", PaymentSource.CREDIT: "credit", PaymentSource.BILL: "bill"}
SOURCES = {method: source for source, method in PAYMENT_METHODS.items()}

# TMF654 ActionStatusType and TMF622 ProductOrderStateType → the port's view.
TOPUP_STATES = {
    "completed": OperationStatus.SUCCEEDED,
    "failed": OperationStatus.FAILED,
    "cancelled": OperationStatus.FAILED,
    "created": OperationStatus.PENDING,
}
ORDER_STATES = {
    "completed": OperationStatus.SUCCEEDED,
    "rejected": OperationStatus.FAILED,
    "failed": OperationStatus.FAILED,
    "cancelled": OperationStatus.FAILED,
}  # acknowledged, pending, held, inProgress, partial, …Cancellation: not final yet


def key_description(key: str) -> str:
    return KEY_PREFIX + key


def topup_request(
    msisdn: str, account_id: str, bucket_id: str, product: Product, amount_xpf: int, source: PaymentSource, key: str
) -> dict[str, Any]:
    """TMF654 POST /topupBalance: a Recharge Liberté (paid by card: the money is already taken,
    the TMF676 payment carries the same key). `product` names the recharge's offering."""
    return {
        "description": key_description(key),
        "amount": {"amount": amount_xpf, "units": UNITS[BucketKind.CREDIT]},
        "product": [{"id": product.code, "name": product.name, "@referredType": "ProductOffering"}],
        "usageType": USAGE_TYPES[BucketKind.CREDIT],
        "bucket": {"id": bucket_id},
        "partyAccount": {"id": account_id},
        "logicalResource": [{"id": msisdn, "name": "msisdn"}],
        "channel": {"id": CHANNEL_ID, "name": CHANNEL_NAME},
        "paymentMethod": {"id": PAYMENT_METHODS[source], "name": PAYMENT_METHODS[source]},
        "@type": "TopupBalance",
    }


def order_request(
    msisdn: str,
    account_id: str,
    product: Product,
    source: PaymentSource,
    price_xpf: int,
    key: str,
    payment_id: str | None = None,
) -> dict[str, Any]:
    """TMF622 POST /productOrder: an IMD pack or a TOP UP for the line. Paid by card, `payment`
    names the TMF676 payment (`payment_id`); otherwise how the operator charges it (credit, bill)."""
    method = PAYMENT_METHODS[source]
    paid_with = {"id": payment_id, "name": method, "@referredType": "Payment"} if payment_id else None
    return {
        "externalId": key,
        "description": product.name,
        "channel": [{"id": CHANNEL_ID, "name": CHANNEL_NAME, "role": "sales channel"}],
        "billingAccount": {"id": account_id},
        "payment": [paid_with or {"id": method, "name": method}],
        "orderTotalPrice": [
            {"priceType": "oneTime", "price": {"taxIncludedAmount": {"unit": "XPF", "value": price_xpf}}}
        ],
        "productOrderItem": [
            {
                "id": "1",
                "action": "add",
                "quantity": 1,
                "productOffering": {"id": product.code, "name": product.name},
                "product": {"productSerialNumber": msisdn, "isBundle": False},
            }
        ],
        "@type": "ProductOrder",
    }


def suspend_request(msisdn: str, account_id: str, reason: str, key: str) -> dict[str, Any]:
    """TMF622 POST /productOrder: the line's product modified to "suspended" (TMF622 has no
    suspend action: add / modify / delete / noChange)."""
    return {
        "externalId": key,
        "description": f"Suspension ({reason})",
        "category": "suspension",
        "channel": [{"id": CHANNEL_ID, "name": CHANNEL_NAME, "role": "sales channel"}],
        "billingAccount": {"id": account_id},
        "productOrderItem": [
            {"id": "1", "action": "modify", "product": {"productSerialNumber": msisdn, "status": "suspended"}}
        ],
        "@type": "ProductOrder",
    }


def payment_request(account_id: str, card: CardPayment, key: str, description: str) -> dict[str, Any]:
    """TMF676 POST /payment: a card payment our payment provider took, for the operator's accounts."""
    return {
        "correlatorId": key,
        "name": "Paiement par carte (Messenger)",
        "description": description,
        "authorizationCode": card.reference,
        "account": {"id": account_id},
        "paymentMethod": {"id": PAYMENT_METHODS[PaymentSource.CARD], "name": "Carte bancaire"},
        "totalAmount": {"unit": "XPF", "value": card.amount_xpf},
        "channel": {"id": CHANNEL_ID, "name": CHANNEL_NAME},
        "@type": "Payment",
    }


def refund_request(account_id: str, card: CardPayment, key: str, payment_id: str) -> dict[str, Any]:
    """TMF676 POST /refund: the card payment `payment_id` given back (the operator refused the
    purchase)."""
    return {
        "correlatorId": key,
        "name": "Remboursement (achat refusé)",
        "authorizationCode": card.reference,
        "account": {"id": account_id},
        "payment": {"id": payment_id},
        "paymentMethod": {"id": PAYMENT_METHODS[PaymentSource.CARD], "name": "Carte bancaire"},
        "totalAmount": {"unit": "XPF", "value": card.amount_xpf},
        "channel": {"id": CHANNEL_ID, "name": CHANNEL_NAME},
        "@type": "Refund",
    }


def offering_from(body: dict[str, Any], prices: dict[str, int], now: datetime) -> Offering | None:
    """A TMF620 ProductOffering as the port's Offering, when it may be sold at `now`: launched,
    sellable, within `validFor`, with a one-time price in XPF among `prices` (price id → XPF)."""
    if body.get("lifecycleStatus") != LAUNCHED or body.get("isSellable") is False or not body.get("id"):
        return None
    if not _in_force(body, now):
        return None
    found = [prices[ref["id"]] for ref in body.get("productOfferingPrice") or [] if ref.get("id") in prices]
    return Offering(str(body["id"]), found[0]) if len(found) == 1 else None


def price_from(body: dict[str, Any], now: datetime) -> int | None:
    """A TMF620 ProductOfferingPrice in XPF: one-time, in force at `now`; None otherwise."""
    money = body.get("price") or {}
    value = money.get("value")
    if body.get("priceType") != ONE_TIME or money.get("unit") != "XPF" or not isinstance(value, int | float):
        return None
    if not _in_force(body, now) or value != int(value):  # the franc Pacifique has no cents
        return None
    return int(value)


def _in_force(body: dict[str, Any], now: datetime) -> bool:
    valid = body.get("validFor") or {}
    start, end = parse_datetime(valid.get("startDateTime")), parse_datetime(valid.get("endDateTime"))
    return (start is None or start <= now) and (end is None or end > now)


def sms_request(phone_number: str, text: str, sender: str) -> dict[str, Any]:
    """TMF681 POST /communicationMessage: one SMS (a linking code)."""
    return {
        "messageType": "SMS",
        "content": text,
        "receiver": [{"phoneNumber": phone_number}],
        "sender": {"name": sender},
        "@type": "CommunicationMessage",
    }


def period_query(msisdn: str, at: datetime) -> dict[str, Any]:
    """TMF677 POST /queryUsageConsumption: the billing period in force at `at`, with allowances."""
    return {
        "searchCriteria": {
            "logicalResource": [{"id": msisdn, "name": "msisdn"}],
            "validPeriod": {"startDateTime": iso(at)},
        },
        "@type": "QueryUsageConsumption",
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def bucket_from(body: dict[str, Any]) -> Bucket | None:
    """A TMF654 Bucket as the port's Bucket; None for a usage type the assistant does not show."""
    kind = KINDS.get(str(body.get("usageType", "")))
    if kind is None:
        return None
    remaining = body.get("remainingValue") or {}
    valid_for = body.get("validFor") or {}
    return Bucket(
        ref=str(body["id"]),
        kind=kind,
        label=str(body.get("name") or ""),
        remaining=int(remaining.get("amount") or 0),
        initial=int(remaining.get("amount") or 0),  # TMF654 says what remains; the adapter adds the initial size
        unit=str(remaining.get("units") or UNITS[kind]),
        valid_until=parse_datetime(valid_for.get("endDateTime")),
    )


def topup_operation(body: dict[str, Any], key: str) -> Operation:
    status = TOPUP_STATES.get(str(body.get("status")), OperationStatus.PENDING)
    reason = FailureReason.REFUSED if status is OperationStatus.FAILED else None
    return Operation(key, status, str(body.get("id") or "") or None, reason)


def order_operation(body: dict[str, Any], key: str) -> Operation:
    status = ORDER_STATES.get(str(body.get("state")), OperationStatus.PENDING)
    reason = FailureReason.REFUSED if status is OperationStatus.FAILED else None
    return Operation(key, status, str(body.get("id") or "") or None, reason)


ALLOWANCE = "allowance"
UNLIMITED = "unlimited"


def period_from(body: dict[str, Any]) -> Period | None:
    """The first usage consumption report of a TMF677 answer: its `validPeriod` (none: the line has
    no billing period, e.g. prepaid) and, per usage type, the plan's bucket counter named
    "allowance" (`valueName` "unlimited": no limit)."""
    reports = body.get("usageConsumption") or []
    if not reports:
        return None
    report = reports[0]
    valid = report.get("validPeriod") or {}
    start, end = parse_datetime(valid.get("startDateTime")), parse_datetime(valid.get("endDateTime"))
    if start is None or end is None:
        return None
    allowances: dict[BucketKind, int | None] = {}
    for bucket in report.get("bucketRefOrValue") or []:
        if bucket.get("id"):  # a bucket of the line (a pack): its own counters, not the plan's
            continue
        kind = KINDS.get(str(bucket.get("usageType", "")))
        for counter in bucket.get("bucketCounter") or []:
            if kind is not None and counter.get("counterType") == ALLOWANCE:
                value = counter.get("value") or {}
                allowances[kind] = None if counter.get("valueName") == UNLIMITED else int(value.get("amount") or 0)
    return Period(
        starts_at=start,
        ends_at=end,
        voice_seconds_allowance=allowances.get(BucketKind.VOICE, 0),
        sms_allowance=allowances.get(BucketKind.SMS, 0),
        data_mb_allowance=allowances.get(BucketKind.DATA, 0),
    )


IN_PLAN = "inPlan"  # RatedProductUsage.offerTariffType of usage within the plan; anything else is out of plan


def usage_from(body: dict[str, Any]) -> tuple[BucketKind, int, bool, Charge] | None:
    """A TMF635 Usage: (kind, quantity, within the plan, the charge). Quantity is the usage
    characteristic "quantity" (seconds, SMS, MB); the charge is the rated amount in XPF."""
    kind = KINDS.get(str(body.get("usageType", "")))
    occurred = parse_datetime(body.get("usageDate"))
    if kind is None or kind is BucketKind.CREDIT or occurred is None:
        return None
    characteristics = {c.get("name"): c.get("value") for c in body.get("usageCharacteristic") or []}
    rated = (body.get("ratedProductUsage") or [{}])[0]
    amount = (rated.get("taxIncludedRatingAmount") or {}).get("value") or 0
    charge = Charge(occurred, str(body.get("description") or ""), int(amount))
    return kind, int(characteristics.get("quantity") or 0), rated.get("offerTariffType", IN_PLAN) == IN_PLAN, charge


def initial_values(body: dict[str, Any]) -> dict[str, int]:
    """Bucket id → its initial size, from a TMF677 answer: the "allowance" counter of each bucket
    of the line (TMF654 Bucket only says what remains)."""
    found: dict[str, int] = {}
    for report in body.get("usageConsumption") or []:
        for bucket in report.get("bucketRefOrValue") or []:
            for counter in bucket.get("bucketCounter") or []:
                value = counter.get("value") or {}
                if bucket.get("id") and counter.get("counterType") == ALLOWANCE and "amount" in value:
                    found[str(bucket["id"])] = int(value["amount"])
    return found


LINE_STATUSES = {"active": LineStatus.ACTIVE, "suspended": LineStatus.SUSPENDED}  # anything else: no working line
FAMILIES = {family.value: family for family in PlanFamily}


def line_from(product: dict[str, Any]) -> LineInfo | None:
    """A TMF637 Product as the port's LineInfo: the mobile line is the product whose
    `productSpecification.id` is a plan family (liberte, forfait_m…); its `productOffering.id` is
    the offer code, `relatedParty[role=customer].id` the holder, `billingAccount.id` the account."""
    family = FAMILIES.get(str((product.get("productSpecification") or {}).get("id", "")))
    status = LINE_STATUSES.get(str(product.get("status", "")))
    offer = (product.get("productOffering") or {}).get("id")
    holder = next((p.get("id") for p in product.get("relatedParty") or [] if p.get("role") == "customer"), None)
    number = product.get("productSerialNumber")
    if family is None or status is None or not offer or not holder or not number:
        return None
    account = (product.get("billingAccount") or {}).get("id") or str(holder)
    return LineInfo(str(number), family, str(offer), status, str(holder), str(account))
