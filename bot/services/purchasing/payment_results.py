"""Card payment sessions: opening one for a purchase, applying the provider's verdict, and the
message owed to the user afterwards.

Rules:
- only a verified provider notification changes a session (bot/services/purchasing/payments.py checks it);
- a session still payable at the provider counts towards the daily limits: "cancel" closes it at
  the provider first (PaymentProvider.cancel_session) and only then frees the count;
- "approved" on a session we no longer hold open (cancelled in the chat, or expired — the provider
  closes it at the same expires_at) is refunded through the provider, never credited: the limits
  hold and the user is told;
- "declined" / "abandoned" only close a session still pending; a replay changes nothing;
- an approved payment hands the purchase to the operator (bot/services/purchasing/fulfilment.py);
  if the operator refuses it, the payment is refunded; if it cannot be reached, the purchase stays
  pending and the periodic settlement finishes it;
- applying the verdict is one transaction (session and purchase status); the operator is called
  after it is committed, so no lock is held while the operator answers.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.db.account import Line
from bot.db.base import changed_rows
from bot.db.purchasing import (
    NOTICE_FAILED,
    NOTICE_PENDING,
    NOTICE_SENDING,
    PaymentSession,
    PaymentStatus,
    Product,
    Purchase,
    PurchaseStatus,
)
from bot.services.operator.backends import operator_for
from bot.services.operator.port import CardPayment, OperationStatus, OperatorError
from bot.services.purchasing import fulfilment, ledger
from bot.services.purchasing.payments import PaymentNotification, PaymentProvider, PaymentProviderError
from bot.services.purchasing.quotes import new_token
from bot.services.purchasing.settings import PurchaseSettings

log = logging.getLogger(__name__)

REFUNDED_REASON = "Payé après annulation ou expiration : remboursé"
FAILURE_REASONS = {
    PaymentStatus.DECLINED: (PurchaseStatus.FAILED, "Paiement refusé par la banque"),
    PaymentStatus.ABANDONED: (PurchaseStatus.CANCELLED, "Paiement abandonné"),
    PaymentStatus.CANCELLED: (PurchaseStatus.CANCELLED, "Annulé avant paiement"),
}


class ApplyStatus(str, enum.Enum):
    APPLIED = "applied"  # the session changed: a message is owed to the user
    DUPLICATE = "duplicate"  # the same verdict was already applied (replay, provider retry)
    IGNORED = "ignored"  # a late decline/abandon on a session already closed
    UNKNOWN_SESSION = "unknown_session"
    AMOUNT_MISMATCH = "amount_mismatch"


@dataclass(frozen=True)
class ApplyResult:
    status: ApplyStatus
    session_id: int | None = None
    psid: str | None = None
    payment_status: PaymentStatus | None = None


def open_session(
    session: Session, purchase: Purchase, psid: str, now: datetime, settings: PurchaseSettings
) -> PaymentSession:
    """A pending payment session for a card purchase (same transaction as the purchase)."""
    row = PaymentSession(
        token=new_token(),
        purchase_id=purchase.id,
        psid=psid,
        provider=settings.provider,
        amount_xpf=purchase.price_xpf,
        status=PaymentStatus.PENDING,
        created_at=now,
        expires_at=now + settings.payment_session_ttl,
    )
    session.add(row)
    session.flush()
    return row


def apply_notification(
    session: Session, note: PaymentNotification, now: datetime, provider: PaymentProvider
) -> ApplyResult:
    """Apply a VERIFIED notification; commits when something changed, rolls back otherwise.
    PaymentProviderError when a refund it owes was not confirmed (nothing committed: the provider
    retries its notification)."""
    row = session.scalar(
        select(PaymentSession).where(PaymentSession.token == note.session_id).execution_options(populate_existing=True)
    )
    if row is None:
        session.rollback()
        return ApplyResult(ApplyStatus.UNKNOWN_SESSION)
    if note.amount_xpf != row.amount_xpf:
        log.error(
            "payment notification for session %s: amount %s != %s, refused", row.id, note.amount_xpf, row.amount_xpf
        )
        session.rollback()
        return ApplyResult(ApplyStatus.AMOUNT_MISMATCH, row.id, row.psid)
    purchase = session.get_one(Purchase, row.purchase_id)
    line = session.get_one(Line, purchase.line_id)
    try:
        ledger.lock_line(session, line.id)
        status = _apply(session, row, purchase, line, note, now, provider)
        if status is ApplyStatus.APPLIED:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    session.expire_all()
    if status is ApplyStatus.APPLIED and note.status == PaymentStatus.APPROVED.value:
        deliver_paid(session, purchase.id, now, provider)
    return ApplyResult(status, row.id, row.psid, PaymentStatus(note.status))


def deliver_paid(session: Session, purchase_id: int, now: datetime, provider: PaymentProvider) -> bool:
    """Hand a purchase paid by card to the operator (commits; no lock is held while it answers).
    Refused by the operator: the payment is refunded. No answer, or the refund not confirmed: the
    purchase stays pending and the periodic settlement tries again (the operator is asked about the
    key first; a refund carries the payment's token as its idempotency key). True when this call
    recorded the verdict."""
    purchase = session.get(Purchase, purchase_id, populate_existing=True)
    payment = session.scalar(select(PaymentSession).where(PaymentSession.purchase_id == purchase_id))
    if purchase is None or payment is None or purchase.status != PurchaseStatus.PENDING:
        session.rollback()
        return False
    if payment.status != PaymentStatus.APPROVED:
        session.rollback()
        return False
    line = session.get_one(Line, purchase.line_id)
    product = session.get_one(Product, purchase.product_id)
    operator = operator_for(session)
    card = CardPayment(payment.provider_ref or payment.token, payment.amount_xpf)
    try:
        operation = fulfilment.send(operator, line, product, purchase, now, look_up=True, card=card)
        if operation.status is OperationStatus.FAILED:  # paid but refused by the operator: give the money back
            provider.refund(card.reference, payment.amount_xpf, payment.token)
            operator.record_refund(line, fulfilment.key_of(purchase), card, now)
            log.error("purchase %s paid by card, refused by the operator (%s): refunded", purchase.id, operation.reason)
        won = fulfilment.record(session, purchase.id, operation, now)
        session.commit()
    except (PaymentProviderError, OperatorError) as exc:
        session.rollback()
        log.error("purchase %s refused by the operator, refund not settled yet (retried): %s", purchase.id, exc)
        return False
    except BaseException:
        session.rollback()
        raise
    return won


def _apply(
    session: Session,
    row: PaymentSession,
    purchase: Purchase,
    line: Line,
    note: PaymentNotification,
    now: datetime,
    provider: PaymentProvider,
) -> ApplyStatus:
    verdict = PaymentStatus(note.status)
    if verdict is PaymentStatus.APPROVED:
        before = session.scalar(select(PaymentSession.status).where(PaymentSession.id == row.id))
        if before in (PaymentStatus.CANCELLED, PaymentStatus.EXPIRED):
            return _refund_late_approval(session, row, purchase, note, now, provider, before)
        if not _move(session, row.id, verdict, note, now, PaymentSession.status != PaymentStatus.APPROVED):
            return ApplyStatus.DUPLICATE
        if before != PaymentStatus.PENDING:
            log.warning("payment session %s approved after being %s: honoured (the money was taken)", row.id, before)
        return ApplyStatus.APPLIED  # the caller hands the purchase to the operator once this is committed
    if not _move(session, row.id, verdict, note, now, PaymentSession.status == PaymentStatus.PENDING):
        current = session.scalar(select(PaymentSession.status).where(PaymentSession.id == row.id))
        return ApplyStatus.DUPLICATE if current == verdict else ApplyStatus.IGNORED
    purchase_status, reason = FAILURE_REASONS[verdict]
    _set_purchase(session, purchase.id, purchase_status, reason, now, only_pending=True)
    return ApplyStatus.APPLIED


def _refund_late_approval(
    session: Session,
    row: PaymentSession,
    purchase: Purchase,
    note: PaymentNotification,
    now: datetime,
    provider: PaymentProvider,
    before: PaymentStatus,
) -> ApplyStatus:
    """Paid after we closed the session: refunded, not credited (the purchase no longer counted)."""
    if row.last_event_id == note.event_id or purchase.failure_reason == REFUNDED_REASON:
        return ApplyStatus.DUPLICATE
    provider.refund(row.provider_ref or row.token, row.amount_xpf, row.token)
    log.warning("payment session %s approved after being %s: refunded through the provider", row.id, before)
    session.execute(
        update(PaymentSession)
        .where(PaymentSession.id == row.id)
        .values(last_event_id=note.event_id, notice_state=NOTICE_PENDING, notice_sent_at=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Purchase)
        .where(Purchase.id == purchase.id)
        .values(failure_reason=REFUNDED_REASON, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    return ApplyStatus.APPLIED


def _move(
    session: Session,
    row_id: int,
    status: PaymentStatus,
    note: PaymentNotification | None,
    now: datetime,
    condition: ColumnElement[bool],
) -> bool:
    """Conditional status change; a new status always owes the user a message (notice pending)."""
    result = session.execute(
        update(PaymentSession)
        .where(PaymentSession.id == row_id, condition)
        .values(
            status=status,
            completed_at=now,
            last_event_id=note.event_id if note else None,
            notice_state=NOTICE_PENDING if note else None,
            notice_sent_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result) == 1


def _set_purchase(
    session: Session,
    purchase_id: int,
    status: PurchaseStatus,
    reason: str | None,
    now: datetime,
    only_pending: bool = False,
) -> None:
    query = update(Purchase).where(Purchase.id == purchase_id)
    if only_pending:
        query = query.where(Purchase.status == PurchaseStatus.PENDING)
    session.execute(
        query.values(status=status, failure_reason=reason, completed_at=now).execution_options(
            synchronize_session=False
        )
    )


def cancel_pending(session: Session, row: PaymentSession, now: datetime, provider: PaymentProvider) -> bool:
    """The user cancelled in the chat before paying (caller holds the line lock and commits).
    A session opened at the provider is closed there first: PaymentProviderError when it could
    not be, and the session stays pending (it still counts towards the limits)."""
    if row.status != PaymentStatus.PENDING:
        return False
    if row.provider_ref:
        provider.cancel_session(row.provider_ref)
    if not _move(session, row.id, PaymentStatus.CANCELLED, None, now, PaymentSession.status == PaymentStatus.PENDING):
        return False
    purchase_status, reason = FAILURE_REASONS[PaymentStatus.CANCELLED]
    _set_purchase(session, row.purchase_id, purchase_status, reason, now, only_pending=True)
    return True


# ------------------------------------------------------------------ the message owed

# A notice left "sending" longer than this belongs to a process that died while sending it.
NOTICE_LEASE = timedelta(minutes=2)


def claim_notice(session: Session, row_id: int, now: datetime) -> bool:
    """Take the duty to tell the user (pending or failed before, or sending for longer than the
    lease → sending, claimed now). Exactly one caller wins, so a notification posted twice, even
    concurrently, gives one Messenger message; a process dying mid-send leaves it to the sweeper."""
    result = session.execute(
        update(PaymentSession)
        .where(
            PaymentSession.id == row_id,
            or_(
                PaymentSession.notice_state.in_((NOTICE_PENDING, NOTICE_FAILED)),
                and_(PaymentSession.notice_state == NOTICE_SENDING, PaymentSession.notice_sent_at < now - NOTICE_LEASE),
            ),
        )
        .values(notice_state=NOTICE_SENDING, notice_sent_at=now)  # while sending: when it was claimed
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return changed_rows(result) == 1


def stale_notices(session: Session, now: datetime, older_than: timedelta) -> list[int]:
    """Sessions whose message is still owed: not sent yet or failed (result older than
    `older_than`), or claimed by a process that died while sending."""
    return list(
        session.scalars(
            select(PaymentSession.id).where(
                or_(
                    and_(
                        PaymentSession.notice_state.in_((NOTICE_PENDING, NOTICE_FAILED)),
                        PaymentSession.completed_at <= now - older_than,
                    ),
                    and_(
                        PaymentSession.notice_state == NOTICE_SENDING,
                        PaymentSession.notice_sent_at < now - NOTICE_LEASE,
                    ),
                )
            )
        )
    )


def finish_notice(session: Session, row_id: int, state: str, now: datetime) -> None:
    session.execute(
        update(PaymentSession)
        .where(PaymentSession.id == row_id, PaymentSession.notice_state == NOTICE_SENDING)
        .values(notice_state=state, notice_sent_at=now if state == "sent" else None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
