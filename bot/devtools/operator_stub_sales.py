"""The operator stub's sales side: its product catalogue (TMF620) and the card payments it was told
of (TMF676). Development and tests only (bot/devtools/operator_stub.py).

The catalogue is the products tables (what the catalogue file lets each plan family buy), with
overrides a test sets through POST /_stub/catalogue {"<code>": {"price": 1200}} or
{"<code>": {"sellable": false}} ({} resets): the operator changed a price or stopped selling an
offer before our catalogue file followed. Payments and refunds live in memory.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.account import PlanFamily
from bot.db.purchasing import Product, ProductEligibility, eligible_for
from bot.services.operator import tmf_messages as tmf
from bot.services.operator.tmf_client import API_PATHS

P620, P676 = API_PATHS["TMF620"], API_PATHS["TMF676"]
PRICE_SUFFIX = "-oneTime"


class Sales:
    def __init__(self) -> None:
        self.overrides: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}  # id → TMF676 Payment
        self.refunds: dict[str, dict[str, Any]] = {}  # id → TMF676 Refund
        self.lock = threading.Lock()

    def price(self, product: Product) -> int:
        return int(self.overrides.get(product.code, {}).get("price", product.price_xpf))

    def sellable(self, product: Product) -> bool:
        return product.active and bool(self.overrides.get(product.code, {}).get("sellable", True))

    def payment_with(self, key: str) -> dict[str, Any] | None:
        with self.lock:
            return next((p for p in self.payments.values() if p.get("correlatorId") == key), None)

    def paid(self, payment_id: str | None, key: str, amount: int) -> bool:
        """The operator was told of the card payment of this purchase (named by an order, found by
        its correlator for a top-up) and it covers `amount`."""
        payment = self.payments.get(payment_id) if payment_id else self.payment_with(key)
        if payment is None or payment.get("correlatorId") != key:
            return False
        return (payment.get("totalAmount") or {}).get("value") == amount


def _offering(product: Product, families: list[PlanFamily], sales: Sales) -> dict[str, Any]:
    return {
        "id": product.code,
        "name": product.name,
        "description": product.description,
        "isBundle": False,
        "isSellable": sales.sellable(product),
        "lifecycleStatus": tmf.LAUNCHED if product.active else "Retired",
        "category": [{"id": family.value, "name": family.value} for family in families],
        "productOfferingPrice": [{"id": product.code + PRICE_SUFFIX}],
        "@type": "ProductOffering",
    }


def _price(product: Product, sales: Sales) -> dict[str, Any]:
    return {
        "id": product.code + PRICE_SUFFIX,
        "name": f"Prix {product.name}",
        "priceType": tmf.ONE_TIME,
        "lifecycleStatus": tmf.LAUNCHED,
        "price": {"unit": "XPF", "value": sales.price(product)},
        "@type": "ProductOfferingPrice",
    }


def add_sales_routes(app: Flask, sessions: Callable[[], Session], sales: Sales, now: Callable[[], datetime]) -> None:
    def families(session: Session, product: Product) -> list[PlanFamily]:
        query = select(ProductEligibility.plan_family).where(ProductEligibility.product_id == product.id)
        return sorted(session.scalars(query), key=lambda f: f.value)

    def by_code(session: Session, code: str) -> Product | None:
        return session.scalar(select(Product).where(Product.code == code))

    @app.post("/_stub/catalogue")
    def set_catalogue() -> ResponseReturnValue:
        sales.overrides = dict(request.get_json(force=True) or {})
        return jsonify(sales.overrides)

    @app.get(P620 + "/productOffering")
    def offerings() -> ResponseReturnValue:
        family = next((f for f in PlanFamily if f.value == request.args.get("category.id")), None)
        wanted = request.args.get("lifecycleStatus")
        with sessions() as session:
            if family is None:
                return jsonify([])
            found = [_offering(p, families(session, p), sales) for p, _ in session.execute(eligible_for(family))]
        return jsonify([o for o in found if wanted in (None, o["lifecycleStatus"])])

    @app.get(P620 + "/productOfferingPrice")
    def prices() -> ResponseReturnValue:
        codes = [i.removesuffix(PRICE_SUFFIX) for i in request.args.get("id", "").split(",") if i]
        with sessions() as session:
            found = [_price(p, sales) for code in codes if (p := by_code(session, code)) is not None]
        return jsonify(found)

    @app.post(P676 + "/payment")
    def pay() -> ResponseReturnValue:
        body = request.get_json(force=True)
        if not body.get("correlatorId") or not (body.get("account") or {}).get("id"):
            return error(400, "bad_request", "a payment needs its correlatorId and account")
        payment = {**body, "id": "PAY-" + secrets.token_hex(6), "status": "succeeded"}
        payment["paymentDate"] = tmf.iso(now())
        with sales.lock:
            sales.payments[payment["id"]] = payment
        return jsonify(payment), 201

    @app.get(P676 + "/payment")
    def payments() -> ResponseReturnValue:
        found = sales.payment_with(request.args.get("correlatorId", ""))
        return jsonify([found] if found else [])

    @app.post(P676 + "/refund")
    def refund() -> ResponseReturnValue:
        body = request.get_json(force=True)
        with sales.lock:
            paid = sales.payments.get((body.get("payment") or {}).get("id", ""))
            if paid is None or not body.get("correlatorId"):
                return error(400, "bad_request", "a refund names a payment the operator knows, and its correlatorId")
            done = {**body, "id": "REF-" + secrets.token_hex(6), "status": "succeeded", "refundDate": tmf.iso(now())}
            sales.refunds[done["id"]] = done
        return jsonify(done), 201

    @app.get(P676 + "/refund")
    def refunds() -> ResponseReturnValue:
        key = request.args.get("correlatorId", "")
        with sales.lock:
            return jsonify([r for r in sales.refunds.values() if r.get("correlatorId") == key])


def error(status: int, code: str, reason: str) -> ResponseReturnValue:
    """A TM Forum Error answer."""
    return jsonify({"code": code, "reason": reason, "status": str(status), "@type": "Error"}), status
