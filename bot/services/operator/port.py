"""What the assistant asks of the operator's systems, as plain data (no SQLAlchemy rows, no HTTP).

The services keep their rules (eligibility, quotes, limits, confirmation); an adapter does the I/O:
`embedded.py` plays the operator on our own tables for the default run; a TM Forum adapter talks to
the operator's Open APIs (docs/operator-port.md has the mapping).

Exactly once: every write carries a `key` derived from the business action (a quote's idempotency
key). An adapter that cannot tell whether a write happened answers `PENDING`; the caller then asks
`find_operation(key)` before ever sending the write again, with the same key.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.db.account import BucketKind, Line, LineStatus, PlanFamily
from bot.db.purchasing import PaymentSource, Product, ProductType, PurchaseStatus


class OperatorError(RuntimeError):
    """The operator's systems could not give an answer; the user is told to try again later."""


class OperatorUnavailable(OperatorError):
    """The operator could not be reached or did not answer in time. For a write, whether it
    happened is unknown: ask `find_operation` before sending it again."""


class OperatorRefused(OperatorError):
    """The operator answered with a refusal (HTTP 4xx): it understood the request and said no."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Bucket:
    """What remains of one balance: credit (XPF), SMS, data (MB) or voice (seconds)."""

    ref: str  # the operator's id for the bucket
    kind: BucketKind
    label: str
    remaining: int
    initial: int
    unit: str
    valid_until: datetime | None  # None: never expires
    as_of: datetime | None = None  # when the operator gave this figure, if it was not just read

    def alive(self, now: datetime) -> bool:
        return self.valid_until is None or self.valid_until > now


@dataclass(frozen=True)
class LineInfo:
    """A line as the operator knows it: its plan family and offer, whether it works, and who
    holds it (the holder groups the lines one person may switch between)."""

    msisdn: str
    plan_family: PlanFamily
    offer_code: str
    status: LineStatus
    holder: str  # the operator's customer id
    account: str  # the operator's billing account id


@dataclass(frozen=True)
class Period:
    """A forfait's billing period [starts_at, ends_at) and its allowances (None: unlimited)."""

    starts_at: datetime
    ends_at: datetime
    voice_seconds_allowance: int | None
    sms_allowance: int | None
    data_mb_allowance: int | None


@dataclass(frozen=True)
class UsageTotals:
    voice_seconds: int = 0
    sms: int = 0
    data_mb: int = 0
    amount_xpf: int = 0  # credit used (prepaid) or out-of-plan charges, depending on the query


@dataclass(frozen=True)
class Charge:
    """One out-of-plan (hors forfait) item."""

    occurred_at: datetime
    description: str
    amount_xpf: int


@dataclass(frozen=True)
class PurchaseRecord:
    """One purchase of the line, whatever the channel (chat, shop, USSD)."""

    product_name: str
    product_type: ProductType
    price_xpf: int
    payment_source: PaymentSource
    status: PurchaseStatus
    created_at: datetime
    reference: str | None


@dataclass(frozen=True)
class Offering:
    """A product the operator sells to a line now, at the price it charges."""

    code: str  # the operator's offering id: our catalogue's product code
    price_xpf: int


@dataclass(frozen=True)
class CardPayment:
    """A card payment our payment provider took for a purchase. The operator is told of it before
    it delivers (its accounts must show what paid for the order) and when it is given back."""

    reference: str  # the payment provider's reference of the payment
    amount_xpf: int


class OperationStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # refused by the operator: nothing was charged
    PENDING = "pending"  # accepted but not finished, or the outcome is not known yet


class FailureReason(enum.StrEnum):
    INSUFFICIENT_CREDIT = "insufficient_credit"
    LINE_NOT_ACTIVE = "line_not_active"
    REFUSED = "refused"  # any other refusal


@dataclass(frozen=True)
class Operation:
    key: str
    status: OperationStatus
    operator_ref: str | None = None
    reason: FailureReason | None = None  # set when FAILED


class OperatorPort(Protocol):
    """One instance per unit of work (the embedded adapter works in the caller's session)."""

    def find_line(self, msisdn: str) -> LineInfo | None:
        """The line with this number, or None when the operator has no working line by that
        number (unknown, cancelled, terminated: the same answer for all)."""
        ...

    def holder_lines(self, holder: str) -> list[LineInfo]:
        """Every working line of one holder."""
        ...

    def buckets(self, line: Line, live: bool = False) -> list[Bucket]:
        """Every balance of the line, expired ones included (the answer says they expired).
        `live`: read now, never a figure kept from a moment ago (anything about money)."""
        ...

    def billing_period(self, line: Line, now: datetime, back: int = 0) -> Period | None:
        """The forfait period in force at `now` (back=0), or the one `back` periods before it."""
        ...

    def usage_totals(self, line: Line, start: datetime, end: datetime, in_plan: bool | None = True) -> UsageTotals:
        """Usage in [start, end): within the plan (True), out of it (False) or all (None)."""
        ...

    def out_of_plan(self, line: Line, start: datetime, end: datetime) -> list[Charge]:
        """Out-of-plan charges in [start, end), newest first."""
        ...

    def purchase_history(
        self, line: Line, start: datetime, end: datetime, product_type: ProductType | None = None
    ) -> list[PurchaseRecord]:
        """Purchases in [start, end), newest first."""
        ...

    def sellable(self, line: Line, live: bool = False) -> list[Offering]:
        """What the operator sells to this line (its plan family) and at what price. Unless `live`,
        a list read a few minutes ago may be given (showing offers); `live` before money moves."""
        ...

    def purchase(
        self,
        line: Line,
        product: Product,
        source: PaymentSource,
        price_xpf: int,
        key: str,
        now: datetime,
        card: CardPayment | None = None,
    ) -> Operation:
        """Buy `product` for the line: a recharge credits it, a pack or TOP UP adds its data; paid
        from the line's credit (CREDIT), on the bill (BILL) or already paid by card (CARD, with
        `card`). Sending the same key again never buys twice."""
        ...

    def record_refund(self, line: Line, key: str, card: CardPayment, now: datetime) -> None:
        """Tell the operator that the card payment of the purchase made with `key` was given back
        (the operator refused the purchase). Sending it again records nothing more. Raises
        OperatorError when the operator could not be told."""
        ...

    def find_operation(self, line: Line, key: str) -> Operation | None:
        """The write made with `key`, or None when the operator never received it."""
        ...

    def suspend(self, line: Line, reason: str, key: str, now: datetime) -> Operation:
        """Bar the line (lost or stolen phone): no call, SMS, data or purchase. Sending the same key
        again suspends nothing more."""
        ...
