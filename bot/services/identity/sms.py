"""SMS gateways: where one-time codes go.

- OutboxSmsGateway (default, development): stores the SMS in table `sms_outbox`; the simulator
  shows it (GET /dev/api/sms-outbox reads `recent_messages`).
- HttpSmsGateway (production): POST JSON {"to": "+687NNNNNN", "text": ...} to SMS_GATEWAY_URL
  with "Authorization: Bearer SMS_GATEWAY_TOKEN"; retries on network errors and 5xx.
- OperatorSmsGateway (production, SMS_GATEWAY=tmf): the operator's TMF681 Communication API.

Never log an SMS text (it holds the code) nor a full number (mask_number → "79****").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

import bot.clock
from bot.config import Settings, get_settings
from bot.db.base import changed_rows
from bot.db.identity import SmsOutbox
from bot.services.identity.phone import COUNTRY_CODE, mask_number
from bot.services.operator import tmf_messages
from bot.services.operator.backends import tmf_client
from bot.services.operator.port import OperatorError
from bot.services.operator.tmf_client import TmfClient

log = logging.getLogger(__name__)
DEFAULT_SENDER = "Mobilis"


class SmsError(RuntimeError):
    """The gateway did not accept the SMS (after retries)."""


class SmsGateway(Protocol):
    def send(self, msisdn: str, text: str) -> None:
        """Send `text` to the 6-digit national number `msisdn`; raise SmsError on failure."""


class OutboxSmsGateway:
    """Writes to `sms_outbox` instead of sending. With a session, the row joins that transaction
    (the SMS 'leaves' only if the challenge is committed); without, it commits on its own."""

    def __init__(
        self,
        session: Session | None = None,
        database_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.session = session
        self.database_url = database_url
        self.clock = clock or bot.clock.utcnow

    def send(self, msisdn: str, text: str) -> None:
        row = SmsOutbox(msisdn=msisdn, text=text, created_at=self.clock())
        if self.session is not None:
            self.session.add(row)
            self.session.flush()
        else:
            from bot.db.base import session_scope

            with session_scope(self.database_url) as session:
                session.add(row)
        log.info("SMS placed in outbox for %s", mask_number(msisdn))


def recent_messages(session: Session, msisdn: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Newest first, as JSON-ready dicts, for the simulator's SMS panel (dev only)."""
    query = select(SmsOutbox).order_by(SmsOutbox.created_at.desc(), SmsOutbox.id.desc()).limit(limit)
    if msisdn:
        query = query.where(SmsOutbox.msisdn == msisdn)
    return [
        {"id": r.id, "msisdn": r.msisdn, "text": r.text, "created_at": r.created_at.isoformat()}
        for r in session.scalars(query)
    ]


def purge_outbox(session: Session, before: datetime) -> int:
    """The outbox holds codes in clear (it is the 'phone'): keep it short-lived."""
    from sqlalchemy import delete

    return changed_rows(session.execute(delete(SmsOutbox).where(SmsOutbox.created_at < before)))


class _Retryable(Exception):
    """Internal: a failure worth another try (network error, timeout, 5xx, 429)."""


class HttpSmsGateway:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        sender: str | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        attempts: int = 3,
        backoff_s: float = 0.5,
        http: requests.Session | None = None,
    ):
        if not url:
            raise SmsError("SMS_GATEWAY_URL is not set")
        self.url = url
        self.token = token
        self.sender = sender
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.http = http or requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpSmsGateway:
        settings.require("SMS_GATEWAY_TOKEN")
        return cls(settings.sms_gateway_url, settings.sms_gateway_token, sender=settings.sms_sender or None)

    def send(self, msisdn: str, text: str) -> None:
        body = {"to": f"+{COUNTRY_CODE}{msisdn}", "text": text}
        if self.sender:
            body["from"] = self.sender
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_s, max=5),
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self._post_once(body)
        except _Retryable as exc:
            log.error("SMS to %s failed after %d attempts: %s", mask_number(msisdn), self.attempts, exc)
            raise SmsError(f"SMS gateway unavailable: {exc}") from None
        log.info("SMS sent to %s", mask_number(msisdn))

    def _post_once(self, body: dict[str, str]) -> None:
        try:
            resp = self.http.post(
                self.url, json=body, timeout=self.timeout, headers={"Authorization": f"Bearer {self.token}"}
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(type(exc).__name__) from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise _Retryable(f"HTTP {resp.status_code}")
        if resp.status_code >= 400:
            # A 4xx will not get better by retrying (bad token, bad number): fail at once.
            raise SmsError(f"SMS gateway refused the message: HTTP {resp.status_code}")


class OperatorSmsGateway:
    """Through the operator's TM Forum API (TMF681 POST /communicationMessage), with the same
    OAuth2 client, timeouts and circuit breaker as the rest of the operator adapter."""

    def __init__(self, client: TmfClient, sender: str = "") -> None:
        self.client = client
        self.sender = sender or DEFAULT_SENDER

    def send(self, msisdn: str, text: str) -> None:
        body = tmf_messages.sms_request(f"+{COUNTRY_CODE}{msisdn}", text, self.sender)
        try:
            answer = self.client.post("TMF681", "/communicationMessage", body) or {}
        except OperatorError as exc:
            log.error("SMS to %s not accepted by the operator: %s", mask_number(msisdn), exc)
            raise SmsError(f"operator SMS API: {exc}") from None
        if answer.get("state") in ("failed", "cancelled"):
            raise SmsError(f"operator SMS API: message {answer.get('state')}")
        log.info("SMS sent to %s", mask_number(msisdn))


def gateway_from_settings(session: Session | None = None, settings: Settings | None = None) -> SmsGateway:
    """SMS_GATEWAY=outbox (default), http or tmf. The outbox joins `session` when given."""
    settings = settings or get_settings()
    if settings.sms_gateway == "http":
        return HttpSmsGateway.from_settings(settings)
    if settings.sms_gateway == "tmf":
        return OperatorSmsGateway(tmf_client(settings), settings.sms_sender)
    if not settings.dev_mode:
        # Outside development nobody reads the outbox: users would wait for codes forever.
        log.warning("SMS_GATEWAY=outbox outside development mode: codes are not delivered")
    return OutboxSmsGateway(session)
