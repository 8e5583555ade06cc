"""Purchase quotes: the summary's server-side twin, and the only thing "Confirmer" can point at.

A quote fixes product, price, payment source, PSID and line when the summary is shown. Its token
is random (never derived from the message), so the purchase made from it has a stable
idempotency key whatever happens to the message carrying the tap.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.account import Line
from bot.db.base import changed_rows
from bot.db.purchasing import PaymentSession, PaymentStatus, Purchase, PurchaseQuote, PurchaseStatus, QuoteStatus
from bot.services.purchasing.offers import Offer
from bot.services.purchasing.settings import PurchaseSettings

FINAL_FOR_EXPIRY = "Lien de paiement expiré sans paiement"


def new_token() -> str:
    return secrets.token_urlsafe(18)  # 24 URL-safe characters, 144 random bits


def idempotency_key(quote: PurchaseQuote) -> str:
    return f"quote:{quote.token}"


def create_quote(
    session: Session, psid: str, line: Line, offer: Offer, now: datetime, settings: PurchaseSettings
) -> PurchaseQuote:
    """A new open quote; the PSID's older open quotes are superseded, so an old summary left
    higher up in the conversation cannot be confirmed by surprise."""
    session.execute(
        update(PurchaseQuote)
        .where(PurchaseQuote.psid == psid, PurchaseQuote.status == QuoteStatus.OPEN)
        .values(status=QuoteStatus.SUPERSEDED, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    quote = PurchaseQuote(
        token=new_token(),
        psid=psid,
        line_id=line.id,
        product_id=offer.product.id,
        product_type=offer.product.type,
        price_xpf=offer.product.price_xpf,
        payment_source=offer.payment_source,
        status=QuoteStatus.OPEN,
        created_at=now,
        expires_at=now + settings.quote_ttl,
    )
    session.add(quote)
    session.flush()
    return quote


def find_quote(session: Session, psid: str, line: Line, token: str | None) -> PurchaseQuote | None:
    """The quote, only if it was made for this PSID AND the line it is linked to now; the token
    in the payload identifies an offer, never a person or a line."""
    if not token or not isinstance(token, str) or len(token) > 64:
        return None
    quote = session.scalar(
        select(PurchaseQuote).where(PurchaseQuote.token == token).execution_options(populate_existing=True)
    )
    if quote is None or quote.psid != psid or quote.line_id != line.id:
        return None
    return quote


def latest_open_quote(session: Session, psid: str, now: datetime) -> PurchaseQuote | None:
    """The PSID's newest quote still open and not expired: what a typed "je confirme" or "annuler"
    refers to (the user never types a token). None when nothing waits for an answer."""
    return session.scalar(
        select(PurchaseQuote)
        .where(PurchaseQuote.psid == psid, PurchaseQuote.status == QuoteStatus.OPEN, PurchaseQuote.expires_at > now)
        .order_by(PurchaseQuote.created_at.desc(), PurchaseQuote.id.desc())
        .limit(1)
    )


def latest_open_token(session: Session, psid: str, now: datetime) -> str | None:
    quote = latest_open_quote(session, psid, now)
    return quote.token if quote is not None else None


def claim(session: Session, quote: PurchaseQuote, status: QuoteStatus, now: datetime) -> bool:
    """open → `status`, only if still open and not expired: the one statement that decides
    which of several concurrent taps wins."""
    result = session.execute(
        update(PurchaseQuote)
        .where(PurchaseQuote.id == quote.id, PurchaseQuote.status == QuoteStatus.OPEN, PurchaseQuote.expires_at > now)
        .values(status=status, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result) == 1


def expire_stale(session: Session, now: datetime, line_id: int | None = None) -> int:
    """Mark quotes and unpaid payment links past their time as expired (the caller commits);
    only those of one line when `line_id` is given (what the purchase flow does on each turn).

    Nothing else happens to them: an expired quote never charges, an expired payment session
    leaves its purchase 'expired'. Run it without `line_id` from any periodic job.
    """
    query = update(PurchaseQuote).where(PurchaseQuote.status == QuoteStatus.OPEN, PurchaseQuote.expires_at <= now)
    if line_id is not None:
        query = query.where(PurchaseQuote.line_id == line_id)
    quotes = changed_rows(
        session.execute(
            query.values(status=QuoteStatus.EXPIRED, decided_at=now).execution_options(synchronize_session=False)
        )
    )
    stale_query = select(PaymentSession.id).where(
        PaymentSession.status == PaymentStatus.PENDING, PaymentSession.expires_at <= now
    )
    if line_id is not None:
        stale_query = stale_query.join(Purchase, Purchase.id == PaymentSession.purchase_id).where(
            Purchase.line_id == line_id
        )
    stale = list(session.scalars(stale_query))
    for session_id in stale:
        done = changed_rows(
            session.execute(
                update(PaymentSession)
                .where(PaymentSession.id == session_id, PaymentSession.status == PaymentStatus.PENDING)
                .values(status=PaymentStatus.EXPIRED, completed_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if done:
            purchase_id = session.scalar(select(PaymentSession.purchase_id).where(PaymentSession.id == session_id))
            session.execute(
                update(Purchase)
                .where(Purchase.id == purchase_id, Purchase.status == PurchaseStatus.PENDING)
                .values(status=PurchaseStatus.EXPIRED, failure_reason=FINAL_FOR_EXPIRY, completed_at=now)
                .execution_options(synchronize_session=False)
            )
    return quotes + len(stale)
