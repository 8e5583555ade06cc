"""Local test payment page (development mode only): what the card provider's page would be.

    GET  /dev/pay/<session>   amount, product, reference, and three buttons
    POST /dev/pay/<session>   action=approve|decline|abandon → the signed server-to-server
                              notification is POSTed to /payments/notify, exactly as a real
                              provider would, and the page shows what the endpoint answered.

No card number is asked: this page only exists so that the whole chain (link, notification,
signature, crediting, Messenger receipt) can be tried without a payment provider.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

import requests
from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

import bot.clock
from bot.db.purchasing import PaymentSession, PaymentStatus, Product, Purchase
from bot.services.fr_format import xpf
from bot.services.i18n import N_, _, current_language, speaking
from bot.services.purchasing.catalogue_names import shown
from bot.services.purchasing.payments import LocalTestPaymentProvider
from bot.services.purchasing.settings import PurchaseSettings

ACTIONS = {"approve": "approved", "decline": "declined", "abandon": "abandoned"}
# Marked N_(), translated where shown: the page speaks the payer's language (?lang=, set by the provider).
RESULTS = {"approved": N_("Paiement accepté"), "declined": N_("Paiement refusé"), "abandoned": N_("Paiement abandonné")}
STATUS_TEXT = {
    PaymentStatus.PENDING: N_("en attente"),
    PaymentStatus.APPROVED: N_("payé"),
    PaymentStatus.DECLINED: N_("refusé"),
    PaymentStatus.ABANDONED: N_("abandonné"),
    PaymentStatus.EXPIRED: N_("expiré"),
    PaymentStatus.CANCELLED: N_("annulé"),
}


def make_payment_page_blueprint(
    sessions: Callable[[], Session],
    purchase_settings: PurchaseSettings,
    post: Callable[..., requests.Response] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Blueprint:
    bp = Blueprint("dev_payment_page", __name__)
    provider = LocalTestPaymentProvider(purchase_settings, post=post)
    now = clock or bot.clock.utcnow

    @bp.before_request
    def local_only() -> None:
        # Approving here credits a line for free: never through a proxy or tunnel, even in dev mode.
        if request.headers.get("X-Forwarded-For"):
            abort(404)

    def load(token: str) -> tuple[PaymentSession, Purchase, Product] | None:
        with sessions() as session:
            row = session.scalar(select(PaymentSession).where(PaymentSession.token == token[:64]))
            if row is None:
                return None
            purchase = session.get_one(Purchase, row.purchase_id)
            return row, purchase, session.get_one(Product, purchase.product_id)

    @bp.get("/pay/<token>")
    def page(token: str) -> ResponseReturnValue:
        with speaking(request.args.get("lang")):
            return _page(load(token))

    def _page(found: tuple[PaymentSession, Purchase, Product] | None) -> Response:
        if found is None:
            return _html(_("Paiement de test"), "<p>" + escape(_("Session de paiement inconnue.")) + "</p>", 404)
        row, purchase, product = found
        body = (
            f"<p><strong>{escape(shown(product.name))}</strong><br>"
            + escape(_("Montant : {amount}")).format(amount=f"<strong>{escape(xpf(row.amount_xpf))}</strong>")
            + "<br>"
            + escape(_("Référence : {reference}").format(reference=purchase.reference or ""))
            + "<br>"
            + escape(_("État : {status}").format(status=_(STATUS_TEXT[row.status])))
            + "</p>"
        )
        if row.status == PaymentStatus.PENDING:
            body += (
                "<p>"
                + escape(
                    _("Page de test : aucune carte n'est demandée. Choisissez le résultat que la banque enverrait.")
                )
                + "</p><form method='post'>"
                + f"<button name='action' value='approve'>{escape(_('Approuver'))}</button> "
                + f"<button name='action' value='decline'>{escape(_('Refuser'))}</button> "
                + f"<button name='action' value='abandon'>{escape(_('Abandonner'))}</button></form>"
            )
        return _html(_("Paiement de test Mobilis"), body, 200)

    @bp.post("/pay/<token>")
    def decide(token: str) -> ResponseReturnValue:
        with speaking(request.args.get("lang")):
            return _decide(ACTIONS.get(request.form.get("action", "")), load(token))

    def _decide(status: str | None, found: tuple[PaymentSession, Purchase, Product] | None) -> Response:
        if status is None or found is None:
            return _html(_("Paiement de test"), "<p>" + escape(_("Demande invalide.")) + "</p>", 400)
        row, _purchase, _product = found
        if row.status != PaymentStatus.PENDING:  # the test provider honours a cancellation: closed here
            closed = _("Ce paiement n'est plus possible (annulé, expiré ou déjà traité). Rien n'a été débité.")
            return _html(_("Paiement impossible"), f"<p>{escape(closed)}</p>", 410)
        try:  # the server's answer is for developers: not translated
            answer = provider.notify(row.token, status, row.amount_xpf, now())
            outcome = f"HTTP {answer.status_code} {escape(answer.text[:200])}"
        except requests.RequestException as exc:
            outcome = escape(type(exc).__name__)
        result = _(RESULTS[status])
        back = _("{result}. Vous pouvez revenir dans Messenger.").format(result=result)
        return _html(result, f"<p>{escape(back)}</p><p><small>/payments/notify : {outcome}</small></p>", 200)

    return bp


def _html(title: str, body: str, status: int) -> Response:
    html = (
        f"<!doctype html><html lang='{current_language()}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
        f"</head><body style='font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em'>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status=status, mimetype="text/html")
