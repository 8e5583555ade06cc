"""Card payment endpoints: the provider's signed notification, and the link the user taps.

    POST /payments/notify          provider → us, server to server (see bot/services/purchasing/payments.py)
    GET  /payments/pay/<token>     Messenger "Payer" button → provider's payment page (303)
    GET  /payments/return/<token>  where the provider sends the user back: "return to Messenger"

Notification handling, in this order: verify signature and age (403 / 400), apply the result in
one transaction (idempotent: a replay is a no-op), answer 200 — and, in between, tell the user on
Messenger. The message is sent synchronously, AFTER the result is committed, by whoever claims
the session's notice (pending → sending, one conditional UPDATE): a notification posted twice,
even concurrently, gives one message. If the send fails the notice is left "failed": the
provider's next notification for the session, or `resend_notices` run by a periodic job, sends it.

`settle_purchases`, also periodic, settles purchases the operator has not confirmed yet (it timed
out, or a process died between our two commits) and tells the user the verdict.

Messaging type: "RESPONSE" when the user wrote to us within the last 24 hours (the receipt
answers their "Confirmer"), otherwise "MESSAGE_TAG" with tag "POST_PURCHASE_UPDATE", the tag
Meta allows for purchase updates outside the window; Graph's outside-window error also falls
back to the tag.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import bot.clock
from bot.channel.graph import GraphClient, GraphError, OutsideWindow, RecipientUnavailable
from bot.channel.handoff_gate import reply_messages
from bot.channel.inbox import Inbox
from bot.channel.outreach import in_window, last_seen
from bot.clock import now_or
from bot.config import Settings
from bot.db.purchasing import (
    NOTICE_DROPPED,
    NOTICE_FAILED,
    NOTICE_SENT,
    PaymentSession,
    PaymentStatus,
    Product,
    Purchase,
)
from bot.services.i18n import _, current_language, speaking
from bot.services.language import preference
from bot.services.purchasing import payment_results, purchases
from bot.services.purchasing.catalogue_names import shown
from bot.services.purchasing.payments import (
    SIGNATURE_HEADER,
    InvalidNotification,
    PaymentConfigError,
    PaymentProvider,
    PaymentProviderError,
    SessionRequest,
    provider_from_settings,
)
from bot.services.purchasing.settings import PurchaseSettings
from bot.services.replies import Reply

log = logging.getLogger(__name__)
TAG = "POST_PURCHASE_UPDATE"


def make_payments_blueprint(
    settings: Settings,
    sessions: Callable[[], Session],
    graph: GraphClient,
    inbox: Inbox | None = None,
    purchase_settings: PurchaseSettings | None = None,
    provider: PaymentProvider | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Blueprint:
    """`provider` and `clock` are for tests; by default both come from the environment."""
    bp = Blueprint("payments", __name__)
    now = clock or bot.clock.utcnow
    psettings = purchase_settings or PurchaseSettings.from_settings(settings)

    resolved: list[PaymentProvider] = [provider] if provider else []

    def current_provider() -> PaymentProvider:
        # Resolved at first use, not at start-up: a webhook without payment settings must still
        # start and serve Messenger; only card payments are then unavailable (503 each time).
        if not resolved:
            resolved.append(provider_from_settings(psettings))
        return resolved[0]

    @bp.post("/payments/notify")
    def notify() -> ResponseReturnValue:
        body = request.get_data(cache=False)
        try:
            note = current_provider().verify_notification(body, request.headers.get(SIGNATURE_HEADER), now())
        except PaymentConfigError as exc:
            log.error("payment notification refused: payments not configured (%s)", exc)
            return jsonify({"error": "not_configured"}), 503
        except InvalidNotification as exc:
            log.warning("payment notification refused: %s", exc)
            return jsonify({"error": exc.reason}), 403 if exc.reason == "signature" else 400
        with sessions() as session:
            try:
                applied = payment_results.apply_notification(session, note, now(), current_provider())
            except PaymentProviderError as exc:  # a refund owed was not confirmed: the provider retries
                log.error("payment notification for %s not applied: %s", note.session_id[:12], exc)
                return jsonify({"error": "refund_pending"}), 503
        if applied.status == payment_results.ApplyStatus.UNKNOWN_SESSION:
            return jsonify({"error": "unknown_session"}), 404
        if applied.status == payment_results.ApplyStatus.AMOUNT_MISMATCH:
            return jsonify({"error": "amount_mismatch"}), 409
        if applied.session_id is None:  # every other status names the session it applied to
            return jsonify({"error": "unknown_session"}), 404
        notice = _deliver_notice(sessions, graph, inbox, applied.session_id, now())
        return jsonify({"result": applied.status.value, "notice": notice})

    @bp.get("/payments/pay/<token>")
    def pay(token: str) -> ResponseReturnValue:
        with sessions() as session:
            row = session.scalar(select(PaymentSession).where(PaymentSession.token == token[:64]))
            if row is None:
                return _page(
                    _("Lien de paiement inconnu"),
                    _("Ce lien de paiement n'existe pas. Revenez dans Messenger pour recommencer votre achat."),
                    404,
                )
            with preference.speaking_to(session, row.psid):  # the page speaks the payer's language
                return _open(session, row)

    def _open(session: Session, row: PaymentSession) -> ResponseReturnValue:
        """The provider's page for a pending session (created once), or why there is none."""
        if row.status != PaymentStatus.PENDING or row.expires_at <= now():
            return _page(
                _("Lien expiré"),
                _(
                    "Ce lien de paiement n'est plus valable (déjà utilisé, annulé ou "
                    "expiré). Revenez dans Messenger : rien n'a été débité par ce lien."
                ),
                410,
            )
        if row.provider_url:
            return redirect(row.provider_url, code=303)
        purchase = session.get_one(Purchase, row.purchase_id)
        product = session.get_one(Product, purchase.product_id)
        try:
            created = current_provider().create_session(
                SessionRequest(
                    session_id=row.token,
                    amount_xpf=row.amount_xpf,
                    description=f"Mobilis - {shown(product.name)}",
                    reference=purchase.reference or row.token,  # every purchase has a reference
                    expires_at=row.expires_at,
                    notify_url=psettings.notify_url,
                    return_url=f"{psettings.public_url}/payments/return/{row.token}",
                    language=current_language(),
                )
            )
        except PaymentConfigError as exc:
            log.error("payment link %s: payments not configured (%s)", row.id, exc)
            return _page(
                _("Paiement indisponible"),
                _("Le paiement par carte est momentanément indisponible. Rien n'a été débité."),
                503,
            )
        except PaymentProviderError as exc:
            log.error("payment link %s: %s", row.id, exc)
            return _page(
                _("Paiement indisponible"),
                _("Le service de paiement ne répond pas. Réessayez dans un instant : rien n'a été débité."),
                502,
            )
        # First writer wins: two quick taps may both ask the provider (same idempotency key).
        session.execute(
            update(PaymentSession)
            .where(PaymentSession.id == row.id, PaymentSession.provider_url.is_(None))
            .values(provider_ref=created.provider_ref, provider_url=created.url)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        url = session.scalar(select(PaymentSession.provider_url).where(PaymentSession.id == row.id))
        return redirect(url or created.url, code=303)

    @bp.get("/payments/return/<token>")
    def back(token: str) -> Response:
        with sessions() as session:
            row = session.scalar(select(PaymentSession).where(PaymentSession.token == token[:64]))
            status = row.status if row is not None else None
            language = preference.current(session, row.psid) if row is not None else None
        with speaking(language):
            return _returned(status)

    return bp


def _returned(status: PaymentStatus | None) -> Response:
    """Where the provider sends the user back: the result and the way back to Messenger."""
    texts: dict[PaymentStatus | None, str] = {
        PaymentStatus.APPROVED: _("Paiement reçu : votre reçu vous attend dans Messenger."),
        PaymentStatus.PENDING: _(
            "Paiement en cours de confirmation : je vous écris dans Messenger dès que la banque a répondu."
        ),
    }
    return _page("Mobilis", texts.get(status, _("Rien n'a été débité. Revenez dans Messenger pour la suite.")), 200)


def _page(title: str, text: str, status: int) -> Response:
    html = (
        f"<!doctype html><html lang='{current_language()}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
        f"</head><body style='font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em'>"
        f"<h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>"
    )
    return Response(html, status=status, mimetype="text/html")


# ------------------------------------------------------------------------ telling the user


def resend_notices(
    sessions: Callable[[], Session],
    graph: GraphClient,
    inbox: Inbox | None = None,
    now: datetime | None = None,
    older_than: timedelta = timedelta(minutes=1),
) -> int:
    """Retry the messages still owed (send failed, or the process died between committing a
    result and sending). For a periodic job: a provider does not always retry, and its retries
    may come too late for our replay window."""
    now = now_or(now)
    with sessions() as session:
        owed = payment_results.stale_notices(session, now, older_than)
    return sum(_deliver_notice(sessions, graph, inbox, row_id, now) == NOTICE_SENT for row_id in owed)


def settle_purchases(
    sessions: Callable[[], Session], graph: GraphClient, inbox: Inbox | None = None, now: datetime | None = None
) -> int:
    """Purchases the operator has not confirmed yet (it timed out, or a process died between our
    two commits): ask it about each one and tell the user the verdict. Messages sent."""
    now = now_or(now)
    with sessions() as session:
        pending = purchases.purchases_to_settle(session, now)
    sent = 0
    for purchase_id in pending:
        with sessions() as session:
            try:
                owed = purchases.settle_purchase(session, purchase_id, now)
            except Exception:  # one purchase that cannot be settled now must not hold up the others
                log.exception("settling purchase %s failed (tried again at the next sweep)", purchase_id)
                continue
            seen = last_seen(session, owed[0]) if owed is not None else None
        if owed is not None:
            sent += _send(graph, inbox, owed[0], owed[1], in_window(seen, now)) == NOTICE_SENT
    return sent


def _deliver_notice(
    sessions: Callable[[], Session], graph: GraphClient, inbox: Inbox | None, session_id: int, now: datetime
) -> str:
    """'sent', 'failed', 'dropped' or 'none' (nothing owed, or someone else is sending it)."""
    with sessions() as session:
        if not payment_results.claim_notice(session, session_id, now):
            return "none"
        owed = purchases.payment_notice(session, session_id, now)
        seen = last_seen(session, owed[0]) if owed is not None else None
    state = NOTICE_FAILED
    if owed is not None:
        psid, reply = owed
        state = _send(graph, inbox, psid, reply, in_window(seen, now))
    with sessions() as session:
        payment_results.finish_notice(session, session_id, state, now)
    return state


def _send(graph: GraphClient, inbox: Inbox | None, psid: str, reply: Reply, window_open: bool) -> str:
    for message in reply_messages(reply):
        kind, tag = ("RESPONSE", None) if window_open else ("MESSAGE_TAG", TAG)
        try:
            try:
                result = graph.send_message(psid, message, kind, tag)
            except OutsideWindow:
                kind, tag, window_open = "MESSAGE_TAG", TAG, False
                result = graph.send_message(psid, message, kind, tag)
        except RecipientUnavailable as exc:
            _log(inbox, psid, message, kind, tag, "dropped", error=exc)
            return NOTICE_DROPPED
        except GraphError as exc:
            log.error("payment notice to a user not sent: %s", exc)
            _log(inbox, psid, message, kind, tag, "failed", error=exc)
            return NOTICE_FAILED
        _log(inbox, psid, message, kind, tag, "sent", message_id=result.message_id)
    return NOTICE_SENT


def _log(
    inbox: Inbox | None, psid: str, message: dict[str, Any], kind: str, tag: str | None, status: str, **kwargs: Any
) -> None:
    if inbox is None:
        return
    payload = {"recipient": {"id": psid}, "messaging_type": kind, "message": message}
    if tag:
        payload["tag"] = tag
    try:
        inbox.log_outbound(None, psid, payload, status, **kwargs)
    except Exception:  # the trace is a nicety; the message itself went out
        log.exception("could not log a payment notice")
