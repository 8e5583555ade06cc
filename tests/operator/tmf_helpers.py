"""Helpers of the operator tests (a uniquely named module): the stub's switches, demo lines linked
to a chat user, and purchases made the way the chat makes them."""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import select

from bot.db.account import Balance, BucketKind, Line
from bot.db.identity import MessengerLink
from bot.services.purchasing import purchases
from bot.services.purchasing.settings import PurchaseSettings

CLIENT_ID, CLIENT_SECRET = "mobilis-assistant", "stub-secret"
MARIE_LIBERTE, MARIE_FORFAIT = "791234", "874512"
ORDER = "POST /tmf-api/productOrderingManagement/v4/productOrder"


def faults(stub, mode: str, count: int = 0, delay: float = 0.0, on: str = "") -> None:
    body = {"mode": mode, "count": count, "delay": delay, "on": on}
    requests.post(f"{stub.url}/_stub/faults", json=body, timeout=5).raise_for_status()


def catalogue(stub, overrides: dict[str, dict[str, Any]]) -> None:
    """What the operator now sells differently from our catalogue file ({} : as the file says)."""
    requests.post(f"{stub.url}/_stub/catalogue", json=overrides, timeout=5).raise_for_status()


def settings() -> PurchaseSettings:
    return PurchaseSettings(dev_mode=True, provider="local", payment_secret="s", public_url="http://127.0.0.1:8080")


def link(session, psid: str, msisdn: str, now) -> Line:
    line = session.scalar(select(Line).where(Line.msisdn == msisdn))
    session.add(MessengerLink(psid=psid, line_id=line.id, linked_at=now, via="test"))
    session.commit()
    return line


def credit(session, line: Line) -> int:
    rows = session.scalars(
        select(Balance)
        .where(Balance.line_id == line.id, Balance.kind == BucketKind.CREDIT)
        .execution_options(populate_existing=True)
    )
    return sum(b.remaining for b in rows)


def confirm(session, psid: str, code: str, now):
    token = purchases.choose_product(session, psid, code, now=now, settings=settings()).quote_token
    assert token
    return token, purchases.confirm_purchase(session, psid, token, now=now, settings=settings())


def posts(contract) -> list[tuple[str, str]]:
    return [
        (api, path) for method, api, path in contract.calls if method == "POST" and path != "/queryUsageConsumption"
    ]
