"""Card payments: the provider interface, signed notifications, and the two providers.

A provider does two things for us: create a payment session (a page where the user pays) and
tell us the result with a server-to-server notification. Only that notification, once its
signature and age are checked, may credit a line (bot/services/purchasing/payment_results.py).

Notification wire format (both providers; a real provider's own format would get an adapter):
    POST /payments/notify
    X-Payment-Signature: sha256=<hex HMAC-SHA256 of the RAW body, key MOBILIS_PAYMENT_SECRET>
    {"event_id": "...", "session_id": "<our session token>", "status": "approved|declined|abandoned",
     "amount_xpf": 3000, "timestamp": 1773536400}
The timestamp is inside the signed body, so it cannot be changed; a notification older (or
further in the future) than MOBILIS_PAYMENT_MAX_AGE_SECONDS is refused as a possible replay.
Within that window a replay is harmless: applying a result is idempotent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import requests

from bot.services.i18n import FRENCH
from bot.services.purchasing.settings import PurchaseSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Payment-Signature"
_PREFIX = "sha256="
RESULTS = ("approved", "declined", "abandoned")
HTTP_TIMEOUT = (3.05, 10.0)


class PaymentConfigError(RuntimeError):
    """Card payments are not configured (see PurchaseSettings.card_payment_problem)."""


class PaymentProviderError(RuntimeError):
    """The provider refused or could not be reached; no session was created."""


class InvalidNotification(ValueError):
    """A notification to refuse. `reason`: signature, stale, malformed."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class PaymentNotification:
    event_id: str
    session_id: str
    status: str  # approved | declined | abandoned
    amount_xpf: int
    timestamp: int


@dataclass(frozen=True)
class SessionRequest:
    session_id: str  # our token: the provider's "merchant reference" and idempotency key
    amount_xpf: int
    description: str
    reference: str  # purchase reference shown on the receipt
    expires_at: datetime
    notify_url: str
    return_url: str
    language: str = FRENCH  # the payer's: the provider's page speaks it where it can


@dataclass(frozen=True)
class ProviderSession:
    provider_ref: str
    url: str


class PaymentProvider(Protocol):
    name: str

    def create_session(self, request: SessionRequest) -> ProviderSession: ...

    def verify_notification(self, body: bytes, signature: str | None, now: datetime) -> PaymentNotification: ...

    def cancel_session(self, provider_ref: str) -> None:
        """Close a payment session at the provider: nobody can pay it any more. PaymentProviderError
        when the provider did not confirm (the session may still be payable)."""
        ...

    def refund(self, provider_ref: str, amount_xpf: int, idempotency_key: str) -> None:
        """Give back a payment the line will not get (approved after cancellation or expiry).
        PaymentProviderError when the provider did not confirm; safe to retry with the same key."""
        ...


# ---------------------------------------------------------------------- signatures


def sign(secret: str, body: bytes) -> str:
    return _PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def notification_body(
    session_id: str, status: str, amount_xpf: int, timestamp: int, event_id: str | None = None
) -> bytes:
    return json.dumps(
        {
            "event_id": event_id or f"evt_{secrets.token_hex(8)}",
            "session_id": session_id,
            "status": status,
            "amount_xpf": amount_xpf,
            "timestamp": timestamp,
        },
        separators=(",", ":"),
    ).encode("utf-8")


def verify_notification(
    secret: str, body: bytes, signature: str | None, now: datetime, max_age: int
) -> PaymentNotification:
    """The parsed notification, or InvalidNotification. Signature first (on the raw bytes, in
    constant time), then the JSON, then its age."""
    if not secret:
        raise PaymentConfigError("MOBILIS_PAYMENT_SECRET is not set")
    expected = sign(secret, body).encode("ascii")
    given = (signature or "").strip().encode("utf-8", "replace")
    if not given or not hmac.compare_digest(expected, given):
        raise InvalidNotification("signature")
    try:
        data = json.loads(body)
        note = PaymentNotification(
            str(data["event_id"])[:120],
            str(data["session_id"])[:64],
            str(data["status"]),
            _strict_int(data["amount_xpf"]),
            _strict_int(data["timestamp"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidNotification("malformed", type(exc).__name__) from None
    if note.status not in RESULTS:
        raise InvalidNotification("malformed", f"status {note.status!r}")
    if abs(now.timestamp() - note.timestamp) > max_age:
        raise InvalidNotification("stale", f"{int(now.timestamp() - note.timestamp)} s")
    return note


def _strict_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("integer expected")
    return value


# ------------------------------------------------------------------------ providers


class LocalTestPaymentProvider:
    """Development only: the payment page is ours (bot/devtools/payment_page.py, /dev/pay/<id>)
    and its buttons send the same signed notification a real provider would."""

    name = "local"

    def __init__(self, settings: PurchaseSettings, post: Callable[..., requests.Response] | None = None):
        self.settings = settings
        self._post = post or requests.post

    def create_session(self, request: SessionRequest) -> ProviderSession:
        url = f"{self.settings.public_url}/dev/pay/{request.session_id}"
        return ProviderSession(
            request.session_id, url if request.language == FRENCH else f"{url}?lang={request.language}"
        )

    def verify_notification(self, body: bytes, signature: str | None, now: datetime) -> PaymentNotification:
        return verify_notification(
            self.settings.payment_secret, body, signature, now, self.settings.notification_max_age
        )

    def cancel_session(self, provider_ref: str) -> None:
        """Our own test page refuses a session that is no longer pending: nothing to call."""

    def refund(self, provider_ref: str, amount_xpf: int, idempotency_key: str) -> None:
        log.warning(
            "local test provider: refund of %s XPF for session %s (no money moves here)", amount_xpf, provider_ref
        )

    def notify(self, session_id: str, status: str, amount_xpf: int, now: datetime) -> requests.Response:
        """What the provider's server does after the user's choice: POST the signed result."""
        body = notification_body(session_id, status, amount_xpf, int(now.timestamp()))
        return self._post(
            self.settings.notify_url,
            data=body,
            timeout=HTTP_TIMEOUT,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.settings.payment_secret, body)},
        )


class HttpPaymentProvider:
    """A real provider behind an HTTPS API: POST MOBILIS_PAYMENT_API_URL creates a session.

    Request (JSON, `Authorization: Bearer MOBILIS_PAYMENT_API_KEY`, `Idempotency-Key: <session id>`
    so a retried creation returns the same session): reference, amount, currency "XPF",
    description, expires_at, notify_url, return_url, locale ("fr" / "en").
    Expected answer: {"id": "...", "url": "https://..."}.
    Field names are this skeleton's guess; map them to the chosen provider's API when known.
    """

    name = "http"

    def __init__(self, settings: PurchaseSettings, session: requests.Session | None = None):
        self.settings = settings
        self.http = session or requests.Session()

    def create_session(self, request: SessionRequest) -> ProviderSession:
        body = {
            "reference": request.session_id,
            "order_reference": request.reference,
            "amount": request.amount_xpf,
            "currency": "XPF",
            "description": request.description,
            "expires_at": request.expires_at.isoformat(),
            "notify_url": request.notify_url,
            "return_url": request.return_url,
            "locale": request.language,
        }
        headers = {"Authorization": f"Bearer {self.settings.payment_api_key}", "Idempotency-Key": request.session_id}
        try:
            response = self.http.post(self.settings.payment_api_url, json=body, headers=headers, timeout=HTTP_TIMEOUT)
        except requests.RequestException as exc:
            raise PaymentProviderError(f"provider unreachable: {type(exc).__name__}") from None
        if not response.ok:
            raise PaymentProviderError(f"provider answered HTTP {response.status_code}")
        try:
            data = response.json()
            ref, url = str(data["id"]), str(data["url"])
        except (ValueError, KeyError, TypeError):
            raise PaymentProviderError("provider answer without id and url") from None
        if not safe_payment_url(url) or len(url) > 500:
            raise PaymentProviderError("provider payment URL is not a plain https URL")
        return ProviderSession(provider_ref=ref[:120], url=url)

    def verify_notification(self, body: bytes, signature: str | None, now: datetime) -> PaymentNotification:
        return verify_notification(
            self.settings.payment_secret, body, signature, now, self.settings.notification_max_age
        )

    def cancel_session(self, provider_ref: str) -> None:
        """POST <api>/<ref>/cancel (answers 2xx once the session can no longer be paid)."""
        self._post_operation(provider_ref, "cancel", {}, f"cancel-{provider_ref}")

    def refund(self, provider_ref: str, amount_xpf: int, idempotency_key: str) -> None:
        """POST <api>/<ref>/refund {"amount": N, "currency": "XPF"} (2xx: refund accepted)."""
        self._post_operation(
            provider_ref, "refund", {"amount": amount_xpf, "currency": "XPF"}, f"refund-{idempotency_key}"
        )

    def _post_operation(self, provider_ref: str, operation: str, body: dict[str, Any], idempotency_key: str) -> None:
        url = f"{self.settings.payment_api_url.rstrip('/')}/{quote(provider_ref, safe='')}/{operation}"
        headers = {"Authorization": f"Bearer {self.settings.payment_api_key}", "Idempotency-Key": idempotency_key}
        try:
            response = self.http.post(url, json=body, headers=headers, timeout=HTTP_TIMEOUT)
        except requests.RequestException as exc:
            raise PaymentProviderError(f"provider unreachable for {operation}: {type(exc).__name__}") from None
        if not response.ok:
            raise PaymentProviderError(f"provider refused {operation}: HTTP {response.status_code}")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def safe_payment_url(url: str) -> bool:
    """May a payment button open this URL? Parsed, never prefix-matched ("http://127.0.0.1.evil.tld"):
    https with a host and no user info ("https://good@evil.tld"), or plain http to this very
    machine (the local provider stand-ins of development and benchmarks)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return False
    if any(c.isspace() or ord(c) < 32 for c in url) or "\\" in url:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def provider_from_settings(settings: PurchaseSettings) -> PaymentProvider:
    problem = settings.card_payment_problem
    if problem:
        raise PaymentConfigError(problem)
    if settings.provider == "local":
        return LocalTestPaymentProvider(settings)
    return HttpPaymentProvider(settings)
