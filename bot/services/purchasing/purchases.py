"""Buying a Recharge Liberté, an IMD pack or a TOP UP from the chat: the public API.

    buy(session, psid, text=None, product_type=None)      → offers, or a summary when the text
                                                            names one product ("recharge 3000")
    choose_product(session, psid, code)                   → summary (creates a quote)
    confirm_purchase(session, psid, quote_token)          → receipt, payment link or refusal
    cancel_purchase(session, psid, quote_token)           → nothing charged
    payment_notice(session, payment_session_id)           → the message owed after a card result
    expire_stale(session)                                  → housekeeping (also run by the flow)

Every function takes the PSID, finds the line ONLY through linking.get_linked_line, returns a
PurchaseResult whose `reply` is ready to show, and ends its own transaction (commit or rollback):
money must never wait for, or be undone by, whatever else the caller's unit of work does.
`now` is injectable for tests; `settings` defaults to PurchaseSettings.from_settings().

Exactly once: the confirmation's quote token is the purchase's idempotency key. The winning
tap is decided by one conditional UPDATE (quote open → confirmed); the line row is locked first
(PostgreSQL) so limits, the credit debit and the purchase row are decided together, in one
transaction, by one worker at a time per line.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import now_or
from bot.db.account import Line, LineStatus
from bot.db.purchasing import (
    PaymentSession,
    PaymentSource,
    Product,
    ProductType,
    Purchase,
    PurchaseQuote,
    PurchaseStatus,
    QuoteStatus,
)
from bot.services.account.history import TYPE_ALIASES
from bot.services.dialogue.quantities import product_ask
from bot.services.fr_format import local_date
from bot.services.i18n import _
from bot.services.identity.linking import get_linked_line
from bot.services.language import preference as languages
from bot.services.operator.backends import operator_for
from bot.services.purchasing import fulfilment, ledger, payment_results, quotes, texts
from bot.services.purchasing.catalogue_names import shown
from bot.services.purchasing.offers import Offer, offers_for_line, preselect
from bot.services.purchasing.payments import (
    PaymentConfigError,
    PaymentProvider,
    PaymentProviderError,
    provider_from_settings,
)
from bot.services.purchasing.receipts import outcome_reply, replay
from bot.services.purchasing.receipts import payment_notice as _notice
from bot.services.purchasing.results import Outcome, PurchaseResult, card_unavailable, not_found
from bot.services.purchasing.settings import PurchaseSettings
from bot.services.replies import QR_HELP, QuickReply, Reply

__all__ = [
    "Outcome",
    "PurchaseResult",
    "buy",
    "cancel_purchase",
    "choose_product",
    "confirm_purchase",
    "expire_stale",
    "open_quote_question",
    "payment_notice",
    "purchases_to_settle",
    "settle_purchase",
]
log = logging.getLogger(__name__)

LINK_PAYLOAD = "/link_line"


def _settings(settings: PurchaseSettings | None) -> PurchaseSettings:
    return settings or PurchaseSettings.from_settings()


def _done(session: Session, result: PurchaseResult) -> PurchaseResult:
    session.commit()
    return result


def _linked_line(session: Session, psid: str) -> Line | PurchaseResult:
    """The line this Messenger account proved it holds, or the refusal to show."""
    line = get_linked_line(session, psid)
    if line is None:
        return PurchaseResult(
            Outcome.NOT_LINKED,
            texts.refusal(
                _(
                    "Pour acheter depuis le chat, reliez d'abord votre ligne Mobilis "
                    "(un code vous sera envoyé par SMS)."
                ),
                QuickReply(_("Relier ma ligne"), LINK_PAYLOAD),
                QR_HELP,
            ),
        )
    return line


def _usable_line(session: Session, psid: str) -> Line | PurchaseResult:
    """The linked line if it may buy (active), or the refusal to show."""
    line = _linked_line(session, psid)
    if isinstance(line, Line) and line.status != LineStatus.ACTIVE:
        return PurchaseResult(
            Outcome.LINE_SUSPENDED,
            texts.refusal(
                _(
                    "Votre ligne est suspendue : aucun achat n'est possible. Pour la réactiver, appelez le 1000 "
                    "(gratuit depuis une ligne Mobilis) ou écrivez à 1000@opt.nc."
                ),
                QR_HELP,
            ),
        )
    return line


# ---------------------------------------------------------------------------- choosing


def buy(
    session: Session,
    psid: str,
    text: str | None = None,
    product_type: str | None = None,
    now: datetime | None = None,
    settings: PurchaseSettings | None = None,
) -> PurchaseResult:
    """The products the line may buy; straight to the summary when the message names one."""
    now, settings = now_or(now), _settings(settings)
    line = _usable_line(session, psid)
    if isinstance(line, PurchaseResult):
        return _done(session, line)
    quotes.expire_stale(session, now, line.id)
    offers = offers_for_line(session, line)
    if not offers:
        return _done(session, PurchaseResult(Outcome.OFFERS, texts.nothing_to_buy_reply(line)))
    request = product_ask(text)
    forced = _product_type(product_type)
    if forced is not None and request.kind is None:
        request = replace(request, kind=forced.value, wants_data=False)
    chosen = preselect(offers, request)
    if chosen.chosen is not None:
        return _quote(session, psid, line, chosen.chosen, offers, now, settings)
    intro = texts.impossible_intro(chosen.problem, request, line, chosen.choices) if chosen.problem else None
    if intro is None and len(chosen.choices) > 1 and request.amount_xpf is not None:
        intro = _("Plusieurs produits correspondent : lequel voulez-vous ?")
    credit = (
        ledger.usable_credit(operator_for(session), line, now)
        if any(o.payment_source == PaymentSource.CREDIT for o in chosen.choices)
        else None
    )
    return _done(
        session,
        PurchaseResult(
            Outcome.NOT_ELIGIBLE if chosen.problem else Outcome.OFFERS,
            texts.offers_reply(line, chosen.choices, intro, credit),
        ),
    )


def choose_product(
    session: Session,
    psid: str,
    product_code: str | None,
    now: datetime | None = None,
    settings: PurchaseSettings | None = None,
) -> PurchaseResult:
    """Summary for one product (payload /choose_product{"product": "<code>"}), eligibility re-checked."""
    now, settings = now_or(now), _settings(settings)
    line = _usable_line(session, psid)
    if isinstance(line, PurchaseResult):
        return _done(session, line)
    quotes.expire_stale(session, now, line.id)
    offers = offers_for_line(session, line)
    offer = next((o for o in offers if o.product.code == product_code), None)
    if offer is None:
        intro = _("Ce produit n'est pas proposé pour votre ligne. Voici ce que vous pouvez acheter :")
        reply = texts.offers_reply(line, offers, intro) if offers else texts.nothing_to_buy_reply(line)
        return _done(session, PurchaseResult(Outcome.NOT_ELIGIBLE, reply))
    return _quote(session, psid, line, offer, offers, now, settings)


def _product_type(value: ProductType | str | None) -> ProductType | None:
    """A product_type entity ("RL", "imd", "top up"…); the same aliases as the purchase history."""
    if isinstance(value, ProductType) or value is None:
        return value
    return TYPE_ALIASES.get(str(value).strip().lower())


def _quote(
    session: Session,
    psid: str,
    line: Line,
    offer: Offer,
    offers: list[Offer],
    now: datetime,
    settings: PurchaseSettings,
) -> PurchaseResult:
    product = offer.product
    refused = _limit_refusal(session, line, product.price_xpf, now, settings)
    if refused:
        return _done(session, refused)
    if offer.payment_source == PaymentSource.CARD and settings.card_payment_problem:
        log.error("card payments unavailable: %s", settings.card_payment_problem)
        return _done(session, card_unavailable())
    projection = ledger.project(operator_for(session), line, product, offer.payment_source, product.price_xpf, now)
    if projection.shortfall:
        recharges = [o.product for o in offers if o.product.type == ProductType.RL]
        useful = [r for r in recharges if r.credit_xpf >= projection.shortfall] or recharges
        return _done(
            session,
            PurchaseResult(
                Outcome.INSUFFICIENT_CREDIT,
                texts.insufficient_credit_reply(product, product.price_xpf, projection.credit_now or 0, useful),
                shortfall=projection.shortfall,
            ),
        )
    quote = quotes.create_quote(session, psid, line, offer, now, settings)
    reply = texts.summary_reply(
        line,
        product,
        quote.price_xpf,
        quote.payment_source,
        projection,
        quote.token,
        quote.expires_at,
        int(settings.quote_ttl.total_seconds() // 60),
    )
    return _done(session, PurchaseResult(Outcome.QUOTED, reply, quote_token=quote.token))


def _limit_refusal(
    session: Session, line: Line, price: int, now: datetime, settings: PurchaseSettings
) -> PurchaseResult | None:
    used = ledger.daily_usage(session, line, now)
    if used.count >= settings.daily_count:
        return PurchaseResult(Outcome.LIMIT_COUNT, texts.refusal(texts.limit_count_text(settings.daily_count), QR_HELP))
    if used.amount_xpf + price > settings.daily_xpf:
        return PurchaseResult(
            Outcome.LIMIT_AMOUNT, texts.refusal(texts.limit_amount_text(settings.daily_xpf, used.amount_xpf, price))
        )
    return None


def open_quote_question(session: Session, psid: str, now: datetime, *, unclear: bool = False) -> Reply | None:
    """The open purchase waiting for an answer, asked again with Confirmer / Annuler (under a
    consultation, so a digression never loses it; or after a reply that was not a clear yes or
    no). None when nothing waits."""
    quote = quotes.latest_open_quote(session, psid, now)
    line = get_linked_line(session, psid) if quote is not None else None
    if quote is None or line is None or quote.line_id != line.id:
        return None
    product = session.get_one(Product, quote.product_id)
    return texts.open_quote_reply(product, quote.price_xpf, quote.token, quote.expires_at, unclear=unclear)


# --------------------------------------------------------------------------- confirming


def confirm_purchase(
    session: Session,
    psid: str,
    quote_token: str | None,
    now: datetime | None = None,
    settings: PurchaseSettings | None = None,
) -> PurchaseResult:
    """Payload /confirm_purchase{"quote": "<token>"}. Safe to call any number of times, from any
    number of workers: one purchase and one debit per quote."""
    now, settings = now_or(now), _settings(settings)
    line = _usable_line(session, psid)
    if isinstance(line, PurchaseResult):
        return _done(session, line)
    quote = quotes.find_quote(session, psid, line, quote_token)
    if quote is None:
        return _done(session, not_found())
    if quote.status == QuoteStatus.OPEN and quote.expires_at <= now:
        quotes.expire_stale(session, now, line.id)
        session.commit()
        session.refresh(quote)
    if quote.status != QuoteStatus.OPEN:
        return _done(session, replay(session, line, quote, now, settings))
    try:
        result = _execute(session, psid, line, quote, now, settings)
    except IntegrityError:
        # Belt and braces: the unique idempotency key refused a second purchase for this quote.
        session.rollback()
        log.warning("second purchase for quote %s refused by the unique key", quote.id)
        result = None
    except BaseException:
        session.rollback()
        raise
    if result is None:  # another tap or worker won the quote: show what it did
        session.expire_all()
        session.refresh(quote)
        return _done(session, replay(session, line, quote, now, settings))
    return result


def _execute(
    session: Session, psid: str, line: Line, quote: PurchaseQuote, now: datetime, settings: PurchaseSettings
) -> PurchaseResult | None:
    """The money transaction. None when this call lost the quote to a concurrent one."""
    ledger.lock_line(session, line.id)
    if not quotes.claim(session, quote, QuoteStatus.CONFIRMED, now):
        session.rollback()
        return None
    product = session.get_one(Product, quote.product_id)
    refused = _recheck(session, line, quote, product, now, settings)
    if refused:
        session.rollback()  # the quote stays open: it may be confirmed once the problem is gone
        return refused
    operator = operator_for(session)
    if quote.payment_source == PaymentSource.CREDIT:
        credit = max(0, ledger.usable_credit(operator, line, now) - ledger.reserved_credit(session, line))
        if credit < quote.price_xpf:
            session.rollback()  # the quote stays open: confirm again after a recharge
            return _insufficient(session, line, product, quote, credit)
    reference = _new_reference(now)
    purchase = Purchase(
        line_id=line.id,
        product_id=product.id,
        product_type=quote.product_type,
        price_xpf=quote.price_xpf,
        payment_source=quote.payment_source,
        status=PurchaseStatus.PENDING,
        idempotency_key=quotes.idempotency_key(quote),
        reference=reference,
        created_at=now,
    )
    session.add(purchase)
    session.flush()
    session.execute(
        update(PurchaseQuote)
        .where(PurchaseQuote.id == quote.id)
        .values(purchase_id=purchase.id)
        .execution_options(synchronize_session=False)
    )
    if quote.payment_source == PaymentSource.CARD:
        payment = payment_results.open_session(session, purchase, psid, now, settings)
        session.commit()
        url = settings.payment_link(payment.token)
        reply = texts.payment_link_reply(
            product,
            quote.price_xpf,
            reference,
            url,
            quote.token,
            int(settings.payment_session_ttl.total_seconds() // 60),
        )
        return PurchaseResult(Outcome.PAYMENT_PENDING, reply, quote.token, purchase.id, purchase.reference, url)
    session.commit()  # the purchase and its key exist on our side before the operator hears of it
    operation = fulfilment.send(operator, line, product, purchase, now, look_up=False)
    fulfilment.record(session, purchase.id, operation, now)
    session.commit()
    session.expire_all()
    return _outcome(session, line, product, purchase, quote.token, now)


def _outcome(
    session: Session, line: Line, product: Product, purchase: Purchase, token: str, now: datetime
) -> PurchaseResult:
    """What the user is told once the operator answered (or did not)."""
    session.refresh(purchase)
    outcome, reply = outcome_reply(session, line, product, purchase, now)
    return PurchaseResult(outcome, reply, token, purchase.id, purchase.reference)


def _recheck(
    session: Session, line: Line, quote: PurchaseQuote, product: Product, now: datetime, settings: PurchaseSettings
) -> PurchaseResult | None:
    """What may have changed since the summary, checked under the line lock."""
    offers = offers_for_line(session, line, live=True)
    if not any(o.product.id == product.id and o.payment_source == quote.payment_source for o in offers):
        return PurchaseResult(
            Outcome.NOT_ELIGIBLE,
            texts.refusal(
                _("{product} n'est plus proposé pour votre ligne. Rien n'a été acheté ni débité.").format(
                    product=shown(product.name)
                )
            ),
            quote.token,
        )
    ledger_refusal = _limit_refusal(session, line, quote.price_xpf, now, settings)
    if ledger_refusal:
        ledger_refusal.quote_token = quote.token
        return ledger_refusal
    if quote.payment_source == PaymentSource.CARD and settings.card_payment_problem:
        log.error("card payments unavailable: %s", settings.card_payment_problem)
        return card_unavailable()
    return None


def _insufficient(session: Session, line: Line, product: Product, quote: PurchaseQuote, credit: int) -> PurchaseResult:
    recharges = [o.product for o in offers_for_line(session, line) if o.product.type == ProductType.RL]
    shortfall = quote.price_xpf - credit
    useful = [r for r in recharges if r.credit_xpf >= shortfall] or recharges
    return PurchaseResult(
        Outcome.INSUFFICIENT_CREDIT,
        texts.insufficient_credit_reply(product, quote.price_xpf, credit, useful, quote.token),
        quote.token,
        shortfall=shortfall,
    )


def _new_reference(now: datetime) -> str:
    # Readable on the phone with the 1000: date in Nouméa + 6 characters without 0/O/1/I.
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"MOB-{local_date(now).strftime('%y%m%d')}-" + "".join(secrets.choice(alphabet) for _ in range(6))


# ---------------------------------------------------------------------------- cancelling


def cancel_purchase(
    session: Session,
    psid: str,
    quote_token: str | None,
    now: datetime | None = None,
    settings: PurchaseSettings | None = None,
    provider: PaymentProvider | None = None,
) -> PurchaseResult:
    """Payload /cancel_purchase{"quote": "<token>"}: before confirming, or while a card payment
    is still unpaid. A purchase already made is not undone here (that is a claim for the 1000)."""
    now, settings = now_or(now), _settings(settings)
    line = _linked_line(session, psid)  # a suspended line may still cancel: cancelling never charges
    if isinstance(line, PurchaseResult):
        return _done(session, line)
    quote = quotes.find_quote(session, psid, line, quote_token)
    if quote is None:
        return _done(session, not_found())
    cancelled = PurchaseResult(
        Outcome.CANCELLED,
        texts.refusal(_("C'est annulé. Rien n'a été acheté ni débité."), texts.QR_BUY_AGAIN, QR_HELP),
        quote.token,
    )
    try:
        ledger.lock_line(session, line.id)
        if quotes.claim(session, quote, QuoteStatus.CANCELLED, now):
            return _done(session, cancelled)
        session.refresh(quote)
        if quote.status == QuoteStatus.CONFIRMED and quote.purchase_id:
            payment = session.scalar(select(PaymentSession).where(PaymentSession.purchase_id == quote.purchase_id))
            closed = False
            if payment is not None:
                try:
                    closed = payment_results.cancel_pending(
                        session, payment, now, provider or provider_from_settings(settings)
                    )
                except (PaymentProviderError, PaymentConfigError) as exc:
                    log.error("payment session %s could not be closed at the provider: %s", payment.id, exc)
                    session.rollback()
                    failed = texts.cancel_failed_reply(quote.token, payment.expires_at)
                    return _done(session, PurchaseResult(Outcome.PAYMENT_PENDING, failed, quote.token))
            if closed:
                cancelled.purchase_id = quote.purchase_id
                return _done(session, cancelled)
            session.rollback()
            result = replay(session, line, quote, now, settings)
            if result.outcome == Outcome.SUCCEEDED:
                result.outcome = Outcome.ALREADY_DONE
                result.reply = texts.refusal(
                    _(
                        "Cet achat est déjà effectué : il ne peut plus être annulé ici. Pour une réclamation, "
                        "appelez le 1000 (gratuit depuis une ligne Mobilis)."
                    ),
                    QR_HELP,
                )
            return _done(session, result)
        session.rollback()
        if quote.status == QuoteStatus.OPEN:  # still open but past its time
            quotes.expire_stale(session, now, line.id)
        return _done(
            session,
            PurchaseResult(
                Outcome.CANCELLED,
                texts.refusal(
                    _(
                        "Il n'y a plus rien à annuler : cette proposition n'est plus active. "
                        "Rien n'a été acheté ni débité."
                    ),
                    texts.QR_BUY_AGAIN,
                    QR_HELP,
                ),
                quote.token,
            ),
        )
    except BaseException:
        session.rollback()
        raise


def payment_notice(session: Session, payment_session_id: int, now: datetime | None = None) -> tuple[str, Reply] | None:
    """(psid, message) owed to the user after a card payment result (receipt or failure)."""
    return _notice(session, payment_session_id, now_or(now))


SETTLE_AFTER = timedelta(minutes=1)  # leave the confirmation that sent it time to record the answer


def purchases_to_settle(
    session: Session, now: datetime | None = None, older_than: timedelta = SETTLE_AFTER
) -> list[int]:
    """Purchases still waiting for the operator's verdict (for a periodic job)."""
    found = fulfilment.stale_pending(session, now_or(now), older_than)
    session.rollback()
    return found


def settle_purchase(
    session: Session,
    purchase_id: int,
    now: datetime | None = None,
    settings: PurchaseSettings | None = None,
    provider: PaymentProvider | None = None,
) -> tuple[str, Reply] | None:
    """Ask the operator about one pending purchase (never a blind resend; commits). (psid, message)
    owed to the chat user when this call learnt the verdict; None otherwise. A card purchase the
    operator refuses is refunded through `provider`."""
    now = now_or(now)
    paid = session.scalar(select(PaymentSession.id).where(PaymentSession.purchase_id == purchase_id))
    if paid is not None:
        provider = provider or provider_from_settings(_settings(settings))
        if not payment_results.deliver_paid(session, purchase_id, now, provider):
            return None
        return payment_notice(session, paid, now)  # the same words as right after the payment
    purchase = fulfilment.settle(session, operator_for(session), purchase_id, now)
    if purchase is None:
        return None
    psid = session.scalar(select(PurchaseQuote.psid).where(PurchaseQuote.purchase_id == purchase.id))
    if psid is None:  # not bought from the chat: nobody to tell here
        return None
    line = session.get_one(Line, purchase.line_id)
    product = session.get_one(Product, purchase.product_id)
    with languages.speaking_to(session, psid):  # told outside any conversation turn
        settled = outcome_reply(session, line, product, purchase, now)[1]  # `_` is the translation function
        if purchase.status == PurchaseStatus.SUCCEEDED:
            settled.text = _("Votre achat est confirmé.") + " " + settled.text
    return psid, settled


def expire_stale(session: Session, now: datetime | None = None) -> int:
    """Housekeeping for a periodic job: expire old quotes and unpaid payment links (commits)."""
    count = quotes.expire_stale(session, now_or(now))
    session.commit()
    return count
