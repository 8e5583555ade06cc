"""`OperatorPort` over the operator's TM Forum Open APIs (OPERATOR_BACKEND=tmf).

- find_line, holder_lines: TMF637 GET /product?productSerialNumber={msisdn} / ?relatedParty.id={holder};
- buckets: TMF654 GET /bucket?logicalResource.id={msisdn}, with each bucket's initial size from
  TMF677 (its "allowance" counter);
- billing_period: TMF677 POST /queryUsageConsumption (the period in force at an instant; the
  allowances are bucket counters named "allowance");
- usage_totals, out_of_plan: TMF635 GET /usage?relatedParty.id={msisdn}&usageDate.gte=…&usageDate.lt=…;
- purchase_history: TMF622 GET /productOrder?productOrderItem.product.productSerialNumber={msisdn}
  &orderDate.gte=…&orderDate.lt=…, and TMF654 GET /topupBalance?logicalResource.id={msisdn}
  &requestedDate.gte=…&requestedDate.lt=…;
- purchase: a Recharge Liberté is TMF654 POST /topupBalance, an IMD or a TOP UP TMF622 POST /productOrder;
- find_operation: TMF622 GET /productOrder?externalId={key}, then TMF654
  GET /topupBalance?description=mobilis-assistant:{key};
- suspend: TMF622 POST /productOrder, one "modify" item setting the line's product to "suspended";
- sellable: TMF620 GET /productOffering?category.id={plan family}&lifecycleStatus=Launched and
  GET /productOfferingPrice?id={id},{id}… (one-time prices in XPF);
- a card payment: TMF676 GET /payment?correlatorId={key}, POST /payment when the operator does not
  have it yet, named by the order; its refund TMF676 POST /refund (looked up the same way first).

Filters on attributes follow the TM Forum design guidelines (TMF630); the operator must accept
those listed here (README, "what an operator must expose"). Product names and types come from our
catalogue (the operator's offering id is our product code).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.config.settings import Settings
from bot.db.account import BucketKind, Line
from bot.db.purchasing import PaymentSource, Product, ProductType, PurchaseStatus
from bot.services.operator import charging
from bot.services.operator import tmf_messages as tmf
from bot.services.operator.port import (
    Bucket,
    CardPayment,
    Charge,
    FailureReason,
    LineInfo,
    Offering,
    Operation,
    OperationStatus,
    OperatorRefused,
    Period,
    PurchaseRecord,
    UsageTotals,
)
from bot.services.operator.read_cache import BalanceCache, CatalogueCache
from bot.services.operator.tmf_client import TmfClient, breaker_for

ORDER_STATUSES = {
    "completed": PurchaseStatus.SUCCEEDED,
    "failed": PurchaseStatus.FAILED,
    "rejected": PurchaseStatus.FAILED,
    "cancelled": PurchaseStatus.CANCELLED,
}
TOPUP_STATUSES = {
    "completed": PurchaseStatus.SUCCEEDED,
    "failed": PurchaseStatus.FAILED,
    "cancelled": PurchaseStatus.CANCELLED,
}
EXPIRED_REASON = "expired"  # a cancelled order or top-up whose payment ran out of time
REFUSALS = {reason.value: reason for reason in FailureReason}


def client_from_settings(settings: Settings) -> TmfClient:
    if settings.operator_token_url:
        settings.require("OPERATOR_CLIENT_SECRET")
    return TmfClient(
        settings.operator_api_url,
        token_url=settings.operator_token_url,
        client_id=settings.operator_client_id,
        client_secret=settings.operator_client_secret,
        timeout=settings.operator_timeout_seconds,
        breaker=breaker_for(
            settings.operator_api_url, settings.operator_breaker_failures, settings.operator_breaker_seconds
        ),
    )


class TmfOperator:
    """One per unit of work: `session` reads our catalogue, `client` talks to the operator."""

    def __init__(
        self,
        session: Session,
        client: TmfClient,
        cache: BalanceCache | None = None,
        catalogue: CatalogueCache | None = None,
    ) -> None:
        self.session = session
        self.client = client
        self.cache = cache or BalanceCache(0)
        self.catalogue = catalogue or CatalogueCache(0)
        # What this unit of work already read (one request: one consistent view, re-read after its
        # own writes), so a summary that needs the credit, the SMS and the data reads them once.
        self._read: dict[str, list[Bucket]] = {}
        self._consumptions: dict[tuple[str, datetime], dict[str, Any]] = {}

    # ------------------------------------------------------------------------------ reads

    def find_line(self, msisdn: str) -> LineInfo | None:
        products = self.client.get("TMF637", "/product", {"productSerialNumber": msisdn}) or []
        return next((info for p in products if (info := tmf.line_from(p)) is not None), None)

    def holder_lines(self, holder: str) -> list[LineInfo]:
        products = self.client.get("TMF637", "/product", {"relatedParty.id": holder}) or []
        return sorted((info for p in products if (info := tmf.line_from(p))), key=lambda i: i.msisdn)

    def _bucket_answers(self, line: Line) -> list[dict[str, Any]]:
        return list(self.client.get("TMF654", "/bucket", {"logicalResource.id": line.msisdn}) or [])

    def buckets(self, line: Line, live: bool = False) -> list[Bucket]:
        """TMF654 says what remains; the initial size ("nearly used up" warnings) is TMF677's.
        Unless `live`, a figure read a moment ago (the cache's seconds) is given again, with its time."""
        if line.msisdn in self._read:
            return self._read[line.msisdn]
        cached = None if live else self.cache.get(line.msisdn)
        if cached is not None:
            read_at, kept = cached
            return [replace(b, as_of=read_at) for b in kept]
        found = [b for answer in self._bucket_answers(line) if (b := tmf.bucket_from(answer)) is not None]
        if found:
            initial = tmf.initial_values(self._consumption(line, utcnow()))
            found = [replace(b, initial=initial.get(b.ref, b.initial)) for b in found]
        self.cache.put(line.msisdn, found)
        self._read[line.msisdn] = found
        return found

    def billing_period(self, line: Line, now: datetime, back: int = 0) -> Period | None:
        period = self._period_at(line, now)
        for _ in range(max(0, back)):
            if period is None:
                return None
            period = self._period_at(line, period.starts_at - timedelta(seconds=1))
        return period

    def _period_at(self, line: Line, at: datetime) -> Period | None:
        return tmf.period_from(self._consumption(line, at))

    def _consumption(self, line: Line, at: datetime) -> dict[str, Any]:
        if (line.msisdn, at) not in self._consumptions:
            answer = self.client.post("TMF677", "/queryUsageConsumption", tmf.period_query(line.msisdn, at))
            self._consumptions[(line.msisdn, at)] = dict(answer or {})
        return self._consumptions[(line.msisdn, at)]

    def _usage(self, line: Line, start: datetime, end: datetime) -> list[tuple[BucketKind, int, bool, Charge]]:
        params = {"relatedParty.id": line.msisdn, "usageDate.gte": tmf.iso(start), "usageDate.lt": tmf.iso(end)}
        return [u for answer in self.client.get("TMF635", "/usage", params) or [] if (u := tmf.usage_from(answer))]

    def usage_totals(self, line: Line, start: datetime, end: datetime, in_plan: bool | None = True) -> UsageTotals:
        items = [u for u in self._usage(line, start, end) if in_plan is None or u[2] == in_plan]
        total = {kind: sum(q for k, q, _, _ in items if k == kind) for kind in BucketKind}
        return UsageTotals(
            voice_seconds=total[BucketKind.VOICE],
            sms=total[BucketKind.SMS],
            data_mb=total[BucketKind.DATA],
            amount_xpf=sum(charge.amount_xpf for _, _, _, charge in items),
        )

    def out_of_plan(self, line: Line, start: datetime, end: datetime) -> list[Charge]:
        charges = [charge for _, _, in_plan, charge in self._usage(line, start, end) if not in_plan]
        return sorted(charges, key=lambda c: c.occurred_at, reverse=True)

    def purchase_history(
        self, line: Line, start: datetime, end: datetime, product_type: ProductType | None = None
    ) -> list[PurchaseRecord]:
        window = {"gte": tmf.iso(start), "lt": tmf.iso(end)}
        records: list[PurchaseRecord] = []
        if product_type in (None, ProductType.IMD, ProductType.TOPUP):
            params = {"productOrderItem.product.productSerialNumber": line.msisdn}
            params.update({f"orderDate.{op}": value for op, value in window.items()})
            records += [r for o in self.client.get("TMF622", "/productOrder", params) or [] if (r := self._order(o))]
        if product_type in (None, ProductType.RL):
            params = {"logicalResource.id": line.msisdn}
            params.update({f"requestedDate.{op}": value for op, value in window.items()})
            records += [r for t in self.client.get("TMF654", "/topupBalance", params) or [] if (r := self._topup(t))]
        if product_type is not None:
            records = [r for r in records if r.product_type == product_type]
        return sorted(records, key=lambda r: r.created_at, reverse=True)

    def _product(self, code: str) -> Product | None:
        return self.session.scalar(select(Product).where(Product.code == code))

    def _order(self, order: dict[str, Any]) -> PurchaseRecord | None:
        items = order.get("productOrderItem") or [{}]
        offering = items[0].get("productOffering") or {}
        product = self._product(str(offering.get("id", "")))
        created = tmf.parse_datetime(order.get("orderDate"))
        if product is None or created is None:
            return None
        price = (order.get("orderTotalPrice") or [{}])[0].get("price") or {}
        status = ORDER_STATUSES.get(str(order.get("state")), PurchaseStatus.PENDING)
        if status == PurchaseStatus.CANCELLED and order.get("cancellationReason") == EXPIRED_REASON:
            status = PurchaseStatus.EXPIRED
        method = str(((order.get("payment") or [{}])[0]).get("name", ""))
        return PurchaseRecord(
            product_name=str(offering.get("name") or product.name),
            product_type=product.type,
            price_xpf=int((price.get("taxIncludedAmount") or {}).get("value") or product.price_xpf),
            payment_source=tmf.SOURCES.get(method, PaymentSource.BILL),
            status=status,
            created_at=created,
            reference=str(order.get("id")) if order.get("id") else None,
        )

    def _topup(self, topup: dict[str, Any]) -> PurchaseRecord | None:
        created = tmf.parse_datetime(topup.get("requestedDate"))
        if created is None:
            return None
        amount = int((topup.get("amount") or {}).get("amount") or 0)
        named = next((str(ref.get("id")) for ref in topup.get("product") or []), "")
        recharge = self._product(named)  # a recharge made elsewhere (shop, voucher) may name none
        status = TOPUP_STATUSES.get(str(topup.get("status")), PurchaseStatus.PENDING)
        if status == PurchaseStatus.CANCELLED and topup.get("reason") == EXPIRED_REASON:
            status = PurchaseStatus.EXPIRED
        method = str((topup.get("paymentMethod") or {}).get("name", ""))
        return PurchaseRecord(
            product_name=recharge.name if recharge is not None else f"Recharge {amount} F",
            product_type=ProductType.RL,
            price_xpf=amount,
            payment_source=tmf.SOURCES.get(method, PaymentSource.CARD),
            status=status,
            created_at=created,
            reference=str(topup.get("id")) if topup.get("id") else None,
        )

    # ----------------------------------------------------------------------------- writes

    def find_operation(self, line: Line, key: str) -> Operation | None:
        orders = self.client.get("TMF622", "/productOrder", {"externalId": key}) or []
        if orders:
            return tmf.order_operation(orders[0], key)
        topups = self.client.get("TMF654", "/topupBalance", {"description": tmf.key_description(key)}) or []
        return tmf.topup_operation(topups[0], key) if topups else None

    def _forget(self, line: Line) -> None:
        self.cache.forget(line.msisdn)
        self._read.pop(line.msisdn, None)
        self._consumptions = {k: v for k, v in self._consumptions.items() if k[0] != line.msisdn}

    def suspend(self, line: Line, reason: str, key: str, now: datetime) -> Operation:
        self._forget(line)
        done = self.find_operation(line, key)
        if done is not None:
            return done
        body = tmf.suspend_request(line.msisdn, self._account(self._bucket_answers(line), line), reason, key)
        try:
            return tmf.order_operation(self.client.post("TMF622", "/productOrder", body), key)
        except OperatorRefused as refused:
            return Operation(key, OperationStatus.FAILED, None, _refusal(refused))

    @staticmethod
    def _account(answers: list[dict[str, Any]], line: Line) -> str:
        """The line's account at the operator, as its buckets name it."""
        return next((str(a["partyAccount"]["id"]) for a in answers if a.get("partyAccount")), line.msisdn)

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
        self._forget(line)  # never a figure from before a purchase after it
        answers = self._bucket_answers(line)
        account = self._account(answers, line)
        try:
            payment_id = self._payment(account, card, key, product.name) if card is not None else None
            if product.type == ProductType.RL:
                monetary = [b for a in answers if (b := tmf.bucket_from(a)) and b.kind == BucketKind.CREDIT]
                bucket = charging.credit_bucket(monetary, line.plan_family) or next(iter(monetary), None)
                ref = bucket.ref if bucket else "new"
                body = tmf.topup_request(line.msisdn, account, ref, product, price_xpf, source, key)
                return tmf.topup_operation(self.client.post("TMF654", "/topupBalance", body), key)
            body = tmf.order_request(line.msisdn, account, product, source, price_xpf, key, payment_id)
            return tmf.order_operation(self.client.post("TMF622", "/productOrder", body), key)
        except OperatorRefused as refused:
            return Operation(key, OperationStatus.FAILED, None, _refusal(refused))

    def _payment(self, account: str, card: CardPayment, key: str, description: str) -> str:
        """The operator's id of the card payment made for `key`, recorded first if it has none
        (after a lost answer the payment may be there already: looked up before any resend)."""
        found = self.client.get("TMF676", "/payment", {"correlatorId": key}) or []
        if found:
            return str(found[0]["id"])
        return str(self.client.post("TMF676", "/payment", tmf.payment_request(account, card, key, description))["id"])

    def record_refund(self, line: Line, key: str, card: CardPayment, now: datetime) -> None:
        if self.client.get("TMF676", "/refund", {"correlatorId": key}):
            return
        payments = self.client.get("TMF676", "/payment", {"correlatorId": key}) or []
        if not payments:  # refused before the payment was recorded: nothing to give back there
            return
        account = str((payments[0].get("account") or {}).get("id") or line.msisdn)
        self.client.post("TMF676", "/refund", tmf.refund_request(account, card, key, str(payments[0]["id"])))

    def sellable(self, line: Line, live: bool = False) -> list[Offering]:
        family = line.plan_family.value
        cached = None if live else self.catalogue.get(family)
        if cached is not None:
            return cached[1]
        now = utcnow()
        params = {"category.id": family, "lifecycleStatus": tmf.LAUNCHED}
        offerings = list(self.client.get("TMF620", "/productOffering", params) or [])
        price_ids = sorted({str(ref["id"]) for o in offerings for ref in o.get("productOfferingPrice") or []})
        prices: dict[str, int] = {}
        if price_ids:
            for answer in self.client.get("TMF620", "/productOfferingPrice", {"id": ",".join(price_ids)}) or []:
                if (price := tmf.price_from(answer, now)) is not None:
                    prices[str(answer.get("id"))] = price
        found = [offer for o in offerings if (offer := tmf.offering_from(o, prices, now)) is not None]
        self.catalogue.put(family, found)
        return found


def _refusal(refused: OperatorRefused) -> FailureReason:
    """The TM Forum Error's `code` when it is one we know (insufficient_credit, line_not_active)."""
    try:
        code = str(json.loads(refused.detail).get("code", ""))
    except (ValueError, AttributeError):
        code = ""
    return REFUSALS.get(code, FailureReason.REFUSED)
