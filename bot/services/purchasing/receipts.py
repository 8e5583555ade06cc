"""Receipts, and what to show when a confirmation is tapped again (or too late): the state of
the quote, its purchase and its payment, read fresh from the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.account import Line
from bot.db.purchasing import (
    PaymentSession,
    PaymentStatus,
    Product,
    Purchase,
    PurchaseQuote,
    PurchaseStatus,
    QuoteStatus,
)
from bot.services.i18n import _
from bot.services.language import preference as languages
from bot.services.operator.backends import operator_for
from bot.services.purchasing import ledger, texts
from bot.services.purchasing.payment_results import REFUNDED_REASON
from bot.services.purchasing.results import Outcome, PurchaseResult, not_found
from bot.services.purchasing.settings import PurchaseSettings
from bot.services.replies import QR_HELP, QuickReply, Reply


def receipt(
    session: Session, line: Line, product: Product, purchase: Purchase, now: datetime, already: bool = False
) -> Reply:
    """Reference, product, price, and the line as it is now (new credit / data and validity)."""
    operator = operator_for(session)
    credit = ledger.credit_bucket(operator, line)
    sms = ledger.sms_bucket(operator, line)
    current = ledger.Projection(
        credit_after=credit.remaining if credit is not None else 0,
        credit_valid_until=credit.valid_until if credit is not None else None,
        sms_after=sms.remaining if (sms is not None and product.sms) else None,
        data_after_mb=ledger.data_available(operator, line, now),
        valid_until=ledger.pack_validity(operator, line, product, purchase.completed_at or now),
    )
    return texts.receipt_reply(
        line, product, purchase.price_xpf, purchase.payment_source, _reference(purchase), current, already
    )


def outcome_reply(
    session: Session, line: Line, product: Product, purchase: Purchase, now: datetime
) -> tuple[Outcome, Reply]:
    """The receipt, the operator's refusal, or "being confirmed", from the purchase's status."""
    if purchase.status == PurchaseStatus.SUCCEEDED:
        return Outcome.SUCCEEDED, receipt(session, line, product, purchase, now)
    if purchase.status == PurchaseStatus.FAILED:
        return Outcome.DELIVERY_FAILED, texts.delivery_failed_reply(
            product, purchase.price_xpf, purchase.failure_reason
        )
    return Outcome.DELIVERY_PENDING, texts.delivery_pending_reply(product, purchase.price_xpf, _reference(purchase))


def _paid_reply(
    session: Session, line: Line, product: Product, purchase: Purchase, now: datetime
) -> tuple[Outcome, Reply]:
    """After an approved card payment: what the operator made of the purchase."""
    if purchase.status == PurchaseStatus.FAILED:  # refused by the operator, the payment refunded
        again = QuickReply(_("Réessayer"), texts.choose_payload(product.code))
        return Outcome.DELIVERY_FAILED, texts.refusal(
            texts.refunded_after_refusal_text(purchase.price_xpf), again, QR_HELP
        )
    outcome, reply = outcome_reply(session, line, product, purchase, now)
    reply.text = _("Paiement reçu.") + " " + reply.text
    return outcome, reply


def _reference(purchase: Purchase) -> str:
    """Every purchase gets its reference when it is created (purchases.py, demo data)."""
    if purchase.reference is None:
        raise ValueError(f"purchase {purchase.id} has no reference")
    return purchase.reference


def replay(
    session: Session, line: Line, quote: PurchaseQuote, now: datetime, settings: PurchaseSettings
) -> PurchaseResult:
    """What a tap on a quote that is not open any more should show."""
    product = session.get_one(Product, quote.product_id)
    again = QuickReply(_("Recommencer"), texts.choose_payload(product.code))
    if quote.status == QuoteStatus.EXPIRED:
        minutes = int(settings.quote_ttl.total_seconds() // 60)
        return PurchaseResult(
            Outcome.EXPIRED,
            texts.refusal(
                _(
                    "Cette proposition a expiré (elle était valable {minutes} minutes). Rien n'a été acheté ni débité."
                ).format(minutes=minutes),
                again,
                QR_HELP,
            ),
            quote.token,
        )
    if quote.status == QuoteStatus.CANCELLED:
        return PurchaseResult(
            Outcome.CANCELLED,
            texts.refusal(_("Cette proposition a été annulée. Rien n'a été acheté ni débité."), again, QR_HELP),
            quote.token,
        )
    if quote.status == QuoteStatus.SUPERSEDED:
        return PurchaseResult(
            Outcome.SUPERSEDED,
            texts.refusal(
                _(
                    "Cette proposition a été remplacée par une plus récente : utilisez le dernier récapitulatif. "
                    "Rien n'a été acheté ni débité."
                ),
                again,
                QR_HELP,
            ),
            quote.token,
        )
    purchase = session.get(Purchase, quote.purchase_id) if quote.purchase_id else None
    if purchase is None:
        return not_found()
    session.refresh(purchase)

    def replayed(outcome: Outcome, reply: Reply, payment_url: str | None = None) -> PurchaseResult:
        return PurchaseResult(outcome, reply, quote.token, purchase.id, purchase.reference, payment_url, duplicate=True)

    if purchase.status == PurchaseStatus.SUCCEEDED:
        return replayed(Outcome.SUCCEEDED, receipt(session, line, product, purchase, now, already=True))
    payment = session.scalar(select(PaymentSession).where(PaymentSession.purchase_id == purchase.id))
    if payment is None:
        return replayed(*outcome_reply(session, line, product, purchase, now))
    if payment.status == PaymentStatus.APPROVED and purchase.failure_reason != REFUNDED_REASON:
        return replayed(*_paid_reply(session, line, product, purchase, now))
    if (
        purchase.status == PurchaseStatus.PENDING
        and payment is not None
        and payment.status == PaymentStatus.PENDING
        and payment.expires_at > now
    ):
        url = settings.payment_link(payment.token)
        minutes = max(1, int((payment.expires_at - now).total_seconds() // 60))
        reply = texts.payment_link_reply(
            product, purchase.price_xpf, _reference(purchase), url, quote.token, minutes, already=True
        )
        return replayed(Outcome.PAYMENT_PENDING, reply, payment_url=url)
    status = payment.status.value if payment is not None else "cancelled"
    if payment is not None and payment.status == PaymentStatus.PENDING:
        status = "expired"
    return replayed(
        Outcome.PAYMENT_FAILED, texts.refusal(texts.failed_payment_text(status, purchase.price_xpf), again, QR_HELP)
    )


def payment_notice(session: Session, payment_session_id: int, now: datetime) -> tuple[str, Reply] | None:
    """(psid, message) owed to the user for a card payment result, from the current state, in the
    user's language (sent outside any conversation turn)."""
    payment = session.get(PaymentSession, payment_session_id, populate_existing=True)
    if payment is None:
        return None
    with languages.speaking_to(session, payment.psid):
        return _payment_notice(session, payment, now)


def _payment_notice(session: Session, payment: PaymentSession, now: datetime) -> tuple[str, Reply]:
    purchase = session.get_one(Purchase, payment.purchase_id, populate_existing=True)
    line = session.get_one(Line, purchase.line_id)
    product = session.get_one(Product, purchase.product_id)
    if payment.status == PaymentStatus.APPROVED and purchase.failure_reason != REFUNDED_REASON:
        return payment.psid, _paid_reply(session, line, product, purchase, now)[1]
    text = (
        texts.refunded_text(purchase.price_xpf)
        if purchase.failure_reason == REFUNDED_REASON
        else texts.failed_payment_text(payment.status.value, purchase.price_xpf)
    )
    return payment.psid, texts.refusal(text, QuickReply(_("Réessayer"), texts.choose_payload(product.code)), QR_HELP)
