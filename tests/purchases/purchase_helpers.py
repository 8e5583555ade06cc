"""Helpers shared by the purchase tests (a uniquely named module: conftest.py is not importable)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot.db.account import Balance, BucketKind, Line
from bot.db.identity import MessengerLink
from bot.db.purchasing import Purchase
from bot.services.operator.embedded import EmbeddedOperator
from bot.services.operator.port import FailureReason, Operation, OperationStatus, OperatorUnavailable
from bot.services.purchasing.payments import SIGNATURE_HEADER, notification_body, sign
from bot.services.purchasing.settings import PurchaseSettings

SECRET = "test-payment-secret"
PUBLIC_URL = "http://127.0.0.1:8080"

# Demo lines (docs/demo-lines.md)
MARIE_LIBERTE = "791234"  # credit 2 340 F, can buy RL (card) and IMD (credit)
MARIE_FORFAIT = "874512"  # forfait M: TOP UP on the bill
SYLVIE = "797878"  # credit 780 F
JEAN_EXPIRED = "771020"  # credit 320 F, expired
EMMA_TOURISM = "951177"
PAUL_BLOQUE = "781515"
GEORGES_HORAIRE = "835050"
LEA_DATA = "546789"
THOMAS_SUSPENDED = "921111"


def settings(**overrides) -> PurchaseSettings:
    values = dict(dev_mode=True, provider="local", payment_secret=SECRET, public_url=PUBLIC_URL)
    values.update(overrides)
    return PurchaseSettings(**values)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def line_of(session, msisdn: str) -> Line:
    return session.scalar(select(Line).where(Line.msisdn == msisdn))


def link(session, psid: str, msisdn: str, now: datetime | None = None) -> Line:
    """Link a PSID straight in the table (linking by SMS is the identity tests' business)."""
    line = line_of(session, msisdn)
    existing = session.scalar(select(MessengerLink).where(MessengerLink.psid == psid))
    if existing is None:
        session.add(MessengerLink(psid=psid, line_id=line.id, linked_at=now or datetime.now(UTC), via="test"))
    else:
        existing.line_id = line.id
    session.commit()
    return line


def credit(session, line: Line) -> int:
    """Total credit of the line, read fresh."""
    return session.scalar(
        select(func.coalesce(func.sum(Balance.remaining), 0))
        .where(Balance.line_id == line.id, Balance.kind == BucketKind.CREDIT)
        .execution_options(populate_existing=True)
    )


def data_buckets(session, line: Line, label: str) -> list[Balance]:
    return list(
        session.scalars(
            select(Balance)
            .where(Balance.line_id == line.id, Balance.kind == BucketKind.DATA, Balance.label == label)
            .execution_options(populate_existing=True)
        )
    )


def assistant_purchases(session, line: Line) -> list[Purchase]:
    """Purchases made through the assistant (demo rows have a DEMO- reference)."""
    return list(
        session.scalars(
            select(Purchase)
            .where(Purchase.line_id == line.id, Purchase.reference.like("MOB-%"))
            .execution_options(populate_existing=True)
            .order_by(Purchase.id)
        )
    )


def signed_notification(
    session_token: str, status: str, amount: int, now: datetime, secret: str = SECRET, event_id: str | None = None
) -> tuple[bytes, dict]:
    body = notification_body(session_token, status, amount, int(now.timestamp()), event_id=event_id)
    return body, {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}


def payload_entities(payload: str) -> dict:
    """'/confirm_purchase{"quote":"x"}' → {'quote': 'x'}."""
    return json.loads(payload[payload.index("{") :])


class LocalServer:
    """A WSGI app on 127.0.0.1 with a random port, in a daemon thread."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


class LateApp:
    """WSGI app set after the server knows its port (PUBLIC_URL needs it)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class Faults:
    """What the operator does next: answer, time out after doing the write (the answer is lost),
    be down (nothing received), or refuse."""

    def __init__(self) -> None:
        self.mode = "answer"
        self.purchases_sent = 0

    def operator(self, session):
        faults = self

        class FaultyOperator(EmbeddedOperator):
            def purchase(self, line, product, source, price_xpf, key, now, card=None):
                faults.purchases_sent += 1
                if faults.mode == "down":
                    raise OperatorUnavailable("connection refused (test)")
                if faults.mode == "refuse":
                    return Operation(key, OperationStatus.FAILED, None, FailureReason.REFUSED)
                done = super().purchase(line, product, source, price_xpf, key, now, card)
                if faults.mode == "lost_answer":
                    raise OperatorUnavailable("read timed out (test)")
                return done

            def find_operation(self, line, key):
                if faults.mode == "down":
                    raise OperatorUnavailable("connection refused (test)")
                return super().find_operation(line, key)

        return FaultyOperator(session)
