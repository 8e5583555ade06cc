"""Handing a purchase to the operator exactly once, and settling the ones left pending.

A purchase row is committed `pending`, with its idempotency key, before the operator hears of it.
`deliver` sends it. When the outcome is not known (the operator timed out, or the process died
between the two commits) the row stays `pending`; `settle`, run by a periodic job, first asks the
operator whether it received the key and sends the purchase again (same key) only if it did not.
The row leaves `pending` by one conditional UPDATE, so concurrent settlers agree on one outcome
and only the winner tells the user.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.account import Line
from bot.db.base import changed_rows
from bot.db.purchasing import (
    PaymentSession,
    PaymentSource,
    PaymentStatus,
    Product,
    Purchase,
    PurchaseStatus,
)
from bot.services.operator.port import CardPayment, Operation, OperationStatus, OperatorError, OperatorPort

log = logging.getLogger(__name__)

FINAL = {OperationStatus.SUCCEEDED: PurchaseStatus.SUCCEEDED, OperationStatus.FAILED: PurchaseStatus.FAILED}


def key_of(purchase: Purchase) -> str:
    if purchase.idempotency_key is None:
        raise ValueError(f"purchase {purchase.id} has no idempotency key: it cannot be sent to the operator")
    return purchase.idempotency_key


def send(
    operator: OperatorPort,
    line: Line,
    product: Product,
    purchase: Purchase,
    now: datetime,
    *,
    look_up: bool,
    card: CardPayment | None = None,
) -> Operation:
    """The operator's answer for this purchase (paid by `card` when the card payment is taken);
    PENDING when it could not be reached. With `look_up`, the operator is asked first whether it
    already has the key (never a blind resend)."""
    key = key_of(purchase)
    try:
        done = operator.find_operation(line, key) if look_up else None
        if done is not None:
            return done
        return operator.purchase(line, product, purchase.payment_source, purchase.price_xpf, key, now, card)
    except OperatorError as exc:  # unreachable, or a look-up it refused: the outcome is not known
        log.warning("purchase %s: no answer from the operator, outcome left pending: %s", purchase.id, exc)
        return Operation(key, OperationStatus.PENDING)


def record(session: Session, purchase_id: int, operation: Operation, now: datetime) -> bool:
    """Move the purchase out of `pending` to the operator's verdict (flushed, not committed).
    False when the verdict is still pending or another worker recorded it first."""
    status = FINAL.get(operation.status)
    if status is None:
        return False
    result = session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.status == PurchaseStatus.PENDING)
        .values(
            status=status,
            completed_at=now,
            failure_reason=operation.reason.value if operation.reason else None,
        )
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result) == 1


def stale_pending(session: Session, now: datetime, older_than: timedelta) -> list[int]:
    """Purchases whose operator outcome is still owed: pending for a while, and either not paid by
    card or paid by card with the payment approved (a card purchase waiting for its payment is the
    payment's business)."""
    approved = select(PaymentSession.purchase_id).where(PaymentSession.status == PaymentStatus.APPROVED)
    return list(
        session.scalars(
            select(Purchase.id)
            .where(
                Purchase.status == PurchaseStatus.PENDING,
                Purchase.idempotency_key.is_not(None),
                Purchase.created_at <= now - older_than,
                (Purchase.payment_source != PaymentSource.CARD) | Purchase.id.in_(approved),
            )
            .order_by(Purchase.id)
        )
    )


def settle(session: Session, operator: OperatorPort, purchase_id: int, now: datetime) -> Purchase | None:
    """Settle one pending purchase (commits). The purchase when this call recorded the operator's
    verdict (the caller owes the user a message); None when it is still pending or was settled
    by someone else."""
    purchase = session.get(Purchase, purchase_id, populate_existing=True)
    if purchase is None or purchase.status != PurchaseStatus.PENDING:
        session.rollback()
        return None
    line = session.get_one(Line, purchase.line_id)
    product = session.get_one(Product, purchase.product_id)
    try:
        operation = send(operator, line, product, purchase, now, look_up=True)
        won = record(session, purchase.id, operation, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if not won:
        return None
    log.info("purchase %s settled: %s", purchase.id, operation.status.value)
    session.refresh(purchase)
    return purchase
