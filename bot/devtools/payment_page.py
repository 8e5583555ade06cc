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
from bot.services.purchasing.payments import LocalTestPaymentProvider
from bot.services.purchasing.settings import PurchaseSettings

ACTIONS = {"approve": "approved", "decline": "declined", "abandon": "abandoned"}
RESULTS = {"approved": "Paiement accepté", "declined": "Paiement refusé", "abandoned": "Paiement abandonné"}
STATUS_FR = {
    PaymentStatus.PENDING: "en attente",
    PaymentStatus.APPROVED: "payé",
    PaymentStatus.DECLINED: "refusé",
    PaymentStatus.ABANDONED: "abandonné",
    PaymentStatus.EXPIRED: "expiré",
    PaymentStatus.CANCELLED: "annulé",
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
        found = load(token)
        if found is None:
            return _html("Paiement de test", "<p>Session de paiement inconnue.</p>", 404)
        row, purchase, product = found
        body = (
            f"<p><strong>{escape(product.name)}</strong><br>Montant : <strong>{escape(xpf(row.amount_xpf))}"
            f"</strong><br>Référence : {escape(purchase.reference or '')}<br>"
            f"État : {escape(STATUS_FR[row.status])}</p>"
        )
        if row.status == PaymentStatus.PENDING:
            body += (
                "<p>Page de test : aucune carte n'est demandée. Choisissez le résultat que la banque "
                "enverrait.</p><form method='post'>"
                "<button name='action' value='approve'>Approuver</button> "
                "<button name='action' value='decline'>Refuser</button> "
                "<button name='action' value='abandon'>Abandonner</button></form>"
            )
        return _html("Paiement de test Mobilis", body, 200)

    @bp.post("/pay/<token>")
    def decide(token: str) -> ResponseReturnValue:
        status = ACTIONS.get(request.form.get("action", ""))
        found = load(token)
        if status is None or found is None:
            return _html("Paiement de test", "<p>Demande invalide.</p>", 400)
        row, _purchase, _product = found
        if row.status != PaymentStatus.PENDING:  # the test provider honours a cancellation: closed here
            return _html(
                "Paiement impossible",
                "<p>Ce paiement n'est plus possible (annulé, expiré ou déjà traité). Rien n'a été débité.</p>",
                410,
            )
        try:
            answer = provider.notify(row.token, status, row.amount_xpf, now())
            outcome = f"Notification envoyée au serveur : HTTP {answer.status_code} {escape(answer.text[:200])}"
        except requests.RequestException as exc:
            outcome = f"Notification impossible à envoyer ({escape(type(exc).__name__)})"
        body = f"<p>{escape(RESULTS[status])}. Vous pouvez revenir dans Messenger.</p><p><small>{outcome}</small></p>"
        return _html(RESULTS[status], body, 200)

    return bp


def _html(title: str, body: str, status: int) -> Response:
    html = (
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
        f"</head><body style='font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em'>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status=status, mimetype="text/html")
