"""TM Forum Open API messages for the operator port: the bodies the TM Forum adapter sends and how
it reads the answers. Pure functions (no HTTP); every field name and value below is in the official
documents (specs/tmf/, Swagger 2.0, v4), which tests/purchases/test_tmf_messages.py checks.

- a Recharge Liberté is a TMF654 top-up of the line's monetary bucket (`TopupBalance_Create`);
  TopupBalance has no external id, so the idempotency key travels in `description` and the
  look-up filters on it;
- an IMD pack or a TOP UP is a TMF622 product order (`ProductOrder_Create`) with the key as
  `externalId` and one "add" item naming the product offering (our catalogue code);
- buckets are TMF654 `Bucket`s: `usageType` monetary / sms / data / voice, `remainingValue` in the
  units the adapter asks for (XPF, SMS, MB, s), `validFor.endDateTime`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.db.account import BucketKind, LineStatus, PlanFamily
from bot.db.purchasing import PaymentSource, Product
from bot.services.operator.port import Bucket, Charge, FailureReason, LineInfo, Operation, OperationStatus, Period

KEY_PREFIX = "mobilis-assistant:"
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
    msisdn: str, account_id: str, bucket_id: str, amount_xpf: int, source: PaymentSource, key: str
) -> dict[str, Any]:
    """TMF654 POST /topupBalance: a Recharge Liberté (paid by card: the money is already taken)."""
    return {
        "description": key_description(key),
        "amount": {"amount": amount_xpf, "units": UNITS[BucketKind.CREDIT]},
        "usageType": USAGE_TYPES[BucketKind.CREDIT],
        "bucket": {"id": bucket_id},
        "partyAccount": {"id": account_id},
        "logicalResource": [{"id": msisdn, "name": "msisdn"}],
        "channel": {"id": CHANNEL_ID, "name": CHANNEL_NAME},
        "paymentMethod": {"id": PAYMENT_METHODS[source], "name": PAYMENT_METHODS[source]},
        "@type": "TopupBalance",
    }


def order_request(
    msisdn: str, account_id: str, product: Product, source: PaymentSource, price_xpf: int, key: str
) -> dict[str, Any]:
    """TMF622 POST /productOrder: an IMD pack or a TOP UP for the line."""
    method = PAYMENT_METHODS[source]
    return {
        "externalId": key,
        "description": product.name,
        "channel": [{"id": CHANNEL_ID, "name": CHANNEL_NAME, "role": "sales channel"}],
        "billingAccount": {"id": account_id},
        "payment": [{"id": method, "name": method}],
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
