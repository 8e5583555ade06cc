"""The operator played on our own tables: the local simulator behind `./mobilis run` and the demo.

It works in the caller's session and never commits: a write is decided together with the caller's
own records, and a rollback undoes both. Its record of each write (`operator_operations`, by the
caller's key) is what a real operator keeps as an order's external id, so `find_operation` answers
from the operator side.

Money moves with SQL arithmetic and the debit is a conditional UPDATE (… WHERE remaining >= price):
even two workers that both passed the caller's checks cannot spend the same credit twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.db.account import Balance, BillingPeriod, BucketKind, Line, LineStatus, UsageKind, UsageRecord
from bot.db.base import changed_rows
from bot.db.operator import OperatorOperation
from bot.db.purchasing import PaymentSource, Product, ProductType, Purchase, eligible_for
from bot.services.operator import charging
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
    PurchaseRecord,
    UsageTotals,
)

PURCHASE = "purchase"
SUSPENSION = "suspension"
REFUND = "refund"


def _bucket(row: Balance) -> Bucket:
    return Bucket(
        ref=str(row.id),
        kind=row.kind,
        label=row.label,
        remaining=row.remaining,
        initial=row.initial,
        unit=row.unit,
        valid_until=row.valid_until,
    )


def _period(row: BillingPeriod) -> Period:
    return Period(
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        voice_seconds_allowance=row.voice_seconds_allowance,
        sms_allowance=row.sms_allowance,
        data_mb_allowance=row.data_mb_allowance,
    )


def holder_of(line: Line) -> str:
    """The simulated operator's customer id of the line's subscriber."""
    return f"SUB-{line.subscriber_id}"


def account_of(line: Line) -> str:
    """The simulated operator's billing account id of the line."""
    return f"ACC-{line.subscriber_id}"


def _info(line: Line) -> LineInfo:
    return LineInfo(line.msisdn, line.plan_family, line.offer_code, line.status, holder_of(line), account_of(line))


class EmbeddedOperator:
    """`OperatorPort` on the tables of bot.db.account (balances, periods, usage) and purchases."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------------------ reads

    def find_line(self, msisdn: str) -> LineInfo | None:
        line = self.session.scalar(select(Line).where(Line.msisdn == msisdn))
        return _info(line) if line is not None else None

    def holder_lines(self, holder: str) -> list[LineInfo]:
        subscriber = holder.removeprefix("SUB-")
        if not subscriber.isdigit():
            return []
        rows = self.session.scalars(select(Line).where(Line.subscriber_id == int(subscriber)).order_by(Line.msisdn))
        return [_info(line) for line in rows]

    def buckets(self, line: Line, live: bool = False) -> list[Bucket]:  # always live: our own tables
        rows = self.session.scalars(
            select(Balance)
            .where(Balance.line_id == line.id)
            .order_by(Balance.id)
            .execution_options(populate_existing=True)
        )
        return [_bucket(row) for row in rows]

    def billing_period(self, line: Line, now: datetime, back: int = 0) -> Period | None:
        current = self.session.scalars(
            select(BillingPeriod)
            .where(BillingPeriod.line_id == line.id, BillingPeriod.starts_at <= now, BillingPeriod.ends_at > now)
            .order_by(BillingPeriod.starts_at.desc())
        ).first()
        if back > 0 and current is not None:
            current = self.session.scalars(
                select(BillingPeriod)
                .where(BillingPeriod.line_id == line.id, BillingPeriod.starts_at < current.starts_at)
                .order_by(BillingPeriod.starts_at.desc())
                .offset(back - 1)
                .limit(1)
            ).first()
        return _period(current) if current is not None else None

    def usage_totals(self, line: Line, start: datetime, end: datetime, in_plan: bool | None = True) -> UsageTotals:
        query = (
            select(UsageRecord.kind, func.sum(UsageRecord.quantity), func.sum(UsageRecord.amount_xpf))
            .where(UsageRecord.line_id == line.id, UsageRecord.occurred_at >= start, UsageRecord.occurred_at < end)
            .group_by(UsageRecord.kind)
        )
        if in_plan is not None:
            query = query.where(UsageRecord.in_plan.is_(in_plan))
        sums = {kind: (int(qty or 0), int(amount or 0)) for kind, qty, amount in self.session.execute(query)}
        return UsageTotals(
            voice_seconds=sums.get(UsageKind.VOICE, (0, 0))[0],
            sms=sums.get(UsageKind.SMS, (0, 0))[0],
            data_mb=sums.get(UsageKind.DATA, (0, 0))[0],
            amount_xpf=sum(amount for _, amount in sums.values()),
        )

    def out_of_plan(self, line: Line, start: datetime, end: datetime) -> list[Charge]:
        rows = self.session.scalars(
            select(UsageRecord)
            .where(
                UsageRecord.line_id == line.id,
                UsageRecord.in_plan.is_(False),
                UsageRecord.occurred_at >= start,
                UsageRecord.occurred_at < end,
            )
            .order_by(UsageRecord.occurred_at.desc(), UsageRecord.id.desc())
        )
        return [Charge(r.occurred_at, r.description, r.amount_xpf) for r in rows]

    def purchase_history(
        self, line: Line, start: datetime, end: datetime, product_type: ProductType | None = None
    ) -> list[PurchaseRecord]:
        query = (
            select(Purchase, Product.name)
            .join(Product, Product.id == Purchase.product_id)
            .where(Purchase.line_id == line.id, Purchase.created_at >= start, Purchase.created_at < end)
            .order_by(Purchase.created_at.desc(), Purchase.id.desc())
        )
        if product_type is not None:
            query = query.where(Purchase.product_type == product_type)
        return [
            PurchaseRecord(
                product_name=name,
                product_type=p.product_type,
                price_xpf=p.price_xpf,
                payment_source=p.payment_source,
                status=p.status,
                created_at=p.created_at,
                reference=p.reference,
            )
            for p, name in self.session.execute(query)
        ]

    # ----------------------------------------------------------------------------- writes

    def find_operation(self, line: Line, key: str) -> Operation | None:
        row = self.session.scalar(
            select(OperatorOperation).where(OperatorOperation.key == key, OperatorOperation.line_id == line.id)
        )
        if row is None:
            return None
        reason = FailureReason(row.reason) if row.reason else None
        return Operation(row.key, OperationStatus(row.status), f"SIM-{row.id}", reason)

    def sellable(self, line: Line, live: bool = False) -> list[Offering]:
        """The simulated operator sells what the catalogue file lets the plan family buy."""
        return [Offering(p.code, p.price_xpf) for p, _ in self.session.execute(eligible_for(line.plan_family))]

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
        # Serialise writes on the line, as a charging system does per account.
        self.session.execute(select(Line.id).where(Line.id == line.id).with_for_update(key_share=True))
        done = self.find_operation(line, key)
        if done is not None:
            return done
        status = self.session.scalar(select(Line.status).where(Line.id == line.id))
        if status != LineStatus.ACTIVE:
            return self._record(line, key, OperationStatus.FAILED, FailureReason.LINE_NOT_ACTIVE, now)
        if source == PaymentSource.CREDIT and not self._debit(line, price_xpf, now):
            return self._record(line, key, OperationStatus.FAILED, FailureReason.INSUFFICIENT_CREDIT, now)
        self._deliver(line, product, now)
        return self._record(line, key, OperationStatus.SUCCEEDED, None, now)

    def record_refund(self, line: Line, key: str, card: CardPayment, now: datetime) -> None:
        """Recorded only: the simulator keeps no accounts receivable (card payments are the local
        payment provider's)."""
        refund_key = f"{REFUND}:{key}"
        if self.find_operation(line, refund_key) is None:
            self._record(line, refund_key, OperationStatus.SUCCEEDED, None, now, kind=REFUND)

    def suspend(self, line: Line, reason: str, key: str, now: datetime) -> Operation:
        """Recorded only: `lines.status`, which the assistant's suspension sets, is the simulated
        network's own state (one table plays both)."""
        done = self.find_operation(line, key)
        return done or self._record(line, key, OperationStatus.SUCCEEDED, None, now, kind=SUSPENSION)

    def _record(
        self,
        line: Line,
        key: str,
        status: OperationStatus,
        reason: FailureReason | None,
        now: datetime,
        kind: str = PURCHASE,
    ) -> Operation:
        row = OperatorOperation(key=key, line_id=line.id, kind=kind, status=status.value, reason=reason, created_at=now)
        self.session.add(row)
        self.session.flush()
        return Operation(key, status, f"SIM-{row.id}", reason)

    def _debit(self, line: Line, amount: int, now: datetime) -> bool:
        """Take `amount` from the line's valid credit; False (nothing changed) if it is short."""
        bucket = charging.credit_bucket(self.buckets(line), line.plan_family)
        if bucket is None or not bucket.alive(now):
            return False
        result = self.session.execute(
            update(Balance)
            .where(
                Balance.id == int(bucket.ref),
                Balance.remaining >= amount,
                or_(Balance.valid_until.is_(None), Balance.valid_until > now),
            )
            .values(remaining=Balance.remaining - amount, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return changed_rows(result) == 1

    def _deliver(self, line: Line, product: Product, now: datetime) -> None:
        until = charging.pack_validity(product, self.billing_period(line, now), now)
        if product.type == ProductType.RL:
            buckets = self.buckets(line)
            credit = charging.credit_bucket(buckets, line.plan_family)
            label = charging.recharge_label(line.plan_family)
            self._top_up(line, credit, BucketKind.CREDIT, label, product.credit_xpf, until, now)
            if product.sms:
                sms = charging.sms_bucket(buckets)
                self._top_up(line, sms, BucketKind.SMS, charging.SMS_LABEL, product.sms, until, now)
        elif product.data_mb:
            self._new_bucket(line, BucketKind.DATA, product.name[:80], product.data_mb, until, now)

    def _new_bucket(
        self, line: Line, kind: BucketKind, label: str, amount: int, until: datetime | None, now: datetime
    ) -> None:
        self.session.add(
            Balance(
                line_id=line.id,
                kind=kind,
                label=label,
                remaining=amount,
                initial=amount,
                unit=charging.UNITS[kind],
                valid_until=until,
                updated_at=now,
            )
        )
        self.session.flush()

    def _top_up(
        self,
        line: Line,
        bucket: Bucket | None,
        kind: BucketKind,
        label: str,
        amount: int,
        until: datetime | None,
        now: datetime,
    ) -> None:
        if bucket is None:
            self._new_bucket(line, kind, label, amount, until, now)
            return
        self.session.execute(
            update(Balance)
            .where(Balance.id == int(bucket.ref))
            # `initial` follows the last top-up: it is the reference for "nearly used up" warnings.
            .values(
                remaining=Balance.remaining + amount,
                initial=Balance.remaining + amount,
                valid_until=charging.new_validity(bucket, until, now),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
