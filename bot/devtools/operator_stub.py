"""Local operator stub (development and tests only): the demo lines served on the TM Forum paths
the TMF adapter uses (bot/services/operator/tmf_adapter.py), answered by the embedded simulator on
the same database — so `OPERATOR_BACKEND=tmf` against this stub must give the same answers as
`embedded`. Every answer is a TM Forum resource (tests check them against specs/tmf/).

Faults on demand, for the tests: POST /_stub/faults {"mode": …, "count": N, "delay": seconds, "on": call}
- "down": 503 on every API call; "slow": answer after `delay` seconds; "refuse": 422 on writes;
- "lost_answer": do the write, then answer 504 (the operator did it, its answer never arrives).
`count` calls are affected (0: until changed), only those whose "METHOD /path" ends with `on` when it
is given (e.g. "POST /tmf-api/productOrderingManagement/v4/productOrder"). GET /_stub/calls lists the
API calls received. The catalogue (TMF620) and card payments (TMF676): operator_stub_sales.py.

    python -m bot.devtools.operator_stub --port 8090   (serves the database of DATABASE_URL)
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.db.account import Balance, BillingPeriod, BucketKind, Line, UsageRecord
from bot.db.base import make_engine
from bot.db.identity import SmsOutbox
from bot.db.operator import OperatorOperation
from bot.db.purchasing import PaymentSource, Product, ProductType, Purchase, PurchaseStatus
from bot.devtools.operator_stub_sales import Sales, add_sales_routes, error
from bot.services.identity.phone import COUNTRY_CODE
from bot.services.operator import tmf_messages as tmf
from bot.services.operator.embedded import EmbeddedOperator, account_of, holder_of
from bot.services.operator.port import Operation, OperationStatus
from bot.services.operator.tmf_client import API_PATHS

P654, P677, P635, P622, P681, P637 = (
    API_PATHS[api] for api in ("TMF654", "TMF677", "TMF635", "TMF622", "TMF681", "TMF637")
)
ORDER_STATES = {
    PurchaseStatus.PENDING: "acknowledged",
    PurchaseStatus.SUCCEEDED: "completed",
    PurchaseStatus.FAILED: "failed",
    PurchaseStatus.CANCELLED: "cancelled",
    PurchaseStatus.EXPIRED: "cancelled",
}
TOPUP_STATES = {
    PurchaseStatus.PENDING: "created",
    PurchaseStatus.SUCCEEDED: "completed",
    PurchaseStatus.FAILED: "failed",
    PurchaseStatus.CANCELLED: "cancelled",
    PurchaseStatus.EXPIRED: "cancelled",
}
OPERATION_STATES = {OperationStatus.SUCCEEDED: "completed", OperationStatus.FAILED: "failed"}


class Faults:
    def __init__(self) -> None:
        self.mode, self.count, self.delay, self.on = "", 0, 0.0, ""
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def take(self, call: str) -> str:
        """The fault for this call ("" if none), counting it down."""
        with self._lock:
            self.calls.append(call)
            mode = self.mode if call.endswith(self.on) else ""
            if mode and self.count:
                self.count -= 1
                if self.count == 0:
                    self.mode = ""
            return mode


def _when(name: str) -> datetime | None:
    return tmf.parse_datetime(request.args.get(name))


def create_operator_stub(
    sessions: Callable[[], Session],
    *,
    client_id: str = "",
    client_secret: str = "",
    now: Callable[[], datetime] = utcnow,
) -> Flask:
    app = Flask("operator_stub")
    faults = Faults()
    sales = Sales()
    tokens: set[str] = set()
    app.extensions["operator_stub_faults"] = faults
    app.extensions["operator_stub_sales"] = sales
    add_sales_routes(app, sessions, sales, now)

    @app.before_request
    def guard() -> ResponseReturnValue | None:
        if request.path.startswith("/_stub") or request.path == "/oauth/token":
            return None
        if client_id and request.headers.get("Authorization", "").removeprefix("Bearer ") not in tokens:
            return error(401, "unauthorized", "missing or unknown access token")
        mode = faults.take(f"{request.method} {request.path}")
        if mode == "down":
            return error(503, "unavailable", "operator systems unavailable (stub fault)")
        if mode == "slow":
            time.sleep(faults.delay)
        if mode == "refuse" and request.method == "POST" and not request.path.endswith("/queryUsageConsumption"):
            return error(422, "refused", "refused (stub fault)")
        request.environ["stub.lost_answer"] = mode == "lost_answer"
        return None

    @app.after_request
    def lose(response: Response) -> Response:
        if request.environ.get("stub.lost_answer"):
            return Response(
                '{"code": "timeout", "reason": "gateway timeout (stub fault)"}', 504, mimetype="application/json"
            )
        return response

    @app.post("/oauth/token")
    def token() -> ResponseReturnValue:
        auth = request.authorization
        if client_id and (auth is None or (auth.username, auth.password) != (client_id, client_secret)):
            return jsonify({"error": "invalid_client"}), 401
        value = secrets.token_urlsafe(24)
        tokens.add(value)
        return jsonify({"access_token": value, "token_type": "bearer", "expires_in": 300})

    @app.post("/_stub/faults")
    def set_faults() -> ResponseReturnValue:
        body = request.get_json(force=True)
        faults.mode, faults.count = str(body.get("mode", "")), int(body.get("count", 0))
        faults.delay, faults.on = float(body.get("delay", 0)), str(body.get("on", ""))
        return jsonify({"mode": faults.mode, "count": faults.count, "on": faults.on})

    @app.get("/_stub/calls")
    def calls() -> ResponseReturnValue:
        return jsonify(faults.calls)

    def line_of(session: Session, msisdn: str | None) -> Line | None:
        return session.scalar(select(Line).where(Line.msisdn == (msisdn or "")))

    # ---------------------------------------------------------------- TMF637 the lines

    @app.get(P637 + "/product")
    def products() -> ResponseReturnValue:
        with sessions() as session:
            query = select(Line).order_by(Line.msisdn)
            if "productSerialNumber" in request.args:
                query = query.where(Line.msisdn == request.args["productSerialNumber"])
            elif request.args.get("relatedParty.id", "").removeprefix("SUB-").isdigit():
                query = query.where(Line.subscriber_id == int(request.args["relatedParty.id"].removeprefix("SUB-")))
            else:
                return jsonify([])
            return jsonify([_product(line) for line in session.scalars(query)])

    # ------------------------------------------------------------------- TMF654 buckets

    @app.get(P654 + "/bucket")
    def buckets() -> ResponseReturnValue:
        with sessions() as session:
            line = line_of(session, request.args.get("logicalResource.id"))
            if line is None:
                return jsonify([])
            rows = session.scalars(select(Balance).where(Balance.line_id == line.id).order_by(Balance.id))
            return jsonify([_bucket(line, row, now()) for row in rows])

    # ------------------------------------------------------------- TMF677 billing period

    @app.post(P677 + "/queryUsageConsumption")
    def period() -> ResponseReturnValue:
        body = request.get_json(force=True)
        criteria = body.get("searchCriteria") or {}
        msisdn = ((criteria.get("logicalResource") or [{}])[0]).get("id")
        at = tmf.parse_datetime((criteria.get("validPeriod") or {}).get("startDateTime")) or now()
        with sessions() as session:
            line = line_of(session, msisdn)
            row = None
            if line is not None:
                row = session.scalars(
                    select(BillingPeriod)
                    .where(BillingPeriod.line_id == line.id, BillingPeriod.starts_at <= at, BillingPeriod.ends_at > at)
                    .order_by(BillingPeriod.starts_at.desc())
                ).first()
            packs = session.scalars(select(Balance).where(Balance.line_id == line.id)).all() if line else []
            reports = [_consumption(msisdn or "", row, list(packs))] if line is not None else []
        answer = {"id": secrets.token_hex(6), "searchCriteria": criteria, "usageConsumption": reports}
        return jsonify({**answer, "@type": "QueryUsageConsumption"}), 201

    # ------------------------------------------------------------------------ TMF635 usage

    @app.get(P635 + "/usage")
    def usage() -> ResponseReturnValue:
        start, end = _when("usageDate.gte"), _when("usageDate.lt")
        with sessions() as session:
            line = line_of(session, request.args.get("relatedParty.id"))
            if line is None or start is None or end is None:
                return jsonify([])
            rows = session.scalars(
                select(UsageRecord)
                .where(UsageRecord.line_id == line.id, UsageRecord.occurred_at >= start, UsageRecord.occurred_at < end)
                .order_by(UsageRecord.occurred_at.desc(), UsageRecord.id.desc())
            )
            return jsonify([_usage(line, row) for row in rows])

    # --------------------------------------------------------------- history and look-ups

    @app.get(P622 + "/productOrder")
    def orders() -> ResponseReturnValue:
        with sessions() as session:
            if "externalId" in request.args:
                return jsonify(_operations(session, request.args["externalId"], _order_of_operation))
            line = line_of(session, request.args.get("productOrderItem.product.productSerialNumber"))
            rows = _purchases(session, line, "orderDate", (ProductType.IMD, ProductType.TOPUP))
            return jsonify([_order(line, p, product) for p, product in rows if line is not None])

    @app.get(P654 + "/topupBalance")
    def topups() -> ResponseReturnValue:
        with sessions() as session:
            if "description" in request.args:
                key = request.args["description"].removeprefix(tmf.KEY_PREFIX)
                return jsonify(_operations(session, key, _topup_of_operation))
            line = line_of(session, request.args.get("logicalResource.id"))
            rows = _purchases(session, line, "requestedDate", (ProductType.RL,))
            return jsonify([_topup(line, p, product) for p, product in rows if line is not None])

    # ------------------------------------------------------------------------------ writes

    @app.post(P622 + "/productOrder")
    def order() -> ResponseReturnValue:
        body = request.get_json(force=True)
        item = (body.get("productOrderItem") or [{}])[0]
        msisdn = (item.get("product") or {}).get("productSerialNumber")
        code = (item.get("productOffering") or {}).get("id")
        payment = (body.get("payment") or [{}])[0]
        price = ((body.get("orderTotalPrice") or [{}])[0].get("price") or {}).get("taxIncludedAmount") or {}
        with sessions() as session:
            line = line_of(session, msisdn)
            if item.get("action") == "modify" and (item.get("product") or {}).get("status") == "suspended":
                if line is None or not body.get("externalId"):
                    return error(400, "bad_request", "unknown line or missing externalId")
                done = EmbeddedOperator(session).suspend(
                    line, str(body.get("description", "")), body["externalId"], now()
                )
                session.commit()
                return jsonify(_order_of_operation(done)), 201
            product = session.scalar(select(Product).where(Product.code == code))
            if line is None or product is None or not body.get("externalId"):
                return error(400, "bad_request", "unknown line, product offering or missing externalId")
            refused = refusal(product, payment.get("name", ""), price.get("value"), body["externalId"], payment)
            if refused:
                return refused
            done = _purchase(session, line, product, payment.get("name", ""), sales.price(product), body["externalId"])
            if done.status is OperationStatus.FAILED and done.reason is not None:
                return error(422, done.reason.value, "order refused")
            return jsonify(_order_of_operation(done)), 201

    @app.post(P654 + "/topupBalance")
    def topup() -> ResponseReturnValue:
        body = request.get_json(force=True)
        msisdn = ((body.get("logicalResource") or [{}])[0]).get("id")
        amount = int((body.get("amount") or {}).get("amount") or 0)
        key = str(body.get("description", "")).removeprefix(tmf.KEY_PREFIX)
        method = (body.get("paymentMethod") or {}).get("name", "")
        code = next((str(ref.get("id")) for ref in body.get("product") or []), "")
        with sessions() as session:
            line = line_of(session, msisdn)
            recharge = session.scalar(select(Product).where(Product.type == ProductType.RL, Product.code == code))
            if line is None or recharge is None or not key:
                return error(400, "bad_request", "unknown line, no such recharge offering, or no key")
            refused = refusal(recharge, method, amount, key, None)
            if refused:
                return refused
            done = _purchase(session, line, recharge, method, amount, key)
            if done.status is OperationStatus.FAILED and done.reason is not None:
                return error(422, done.reason.value, "top-up refused")
            return jsonify(_topup_of_operation(done)), 201

    def refusal(
        product: Product, method: str, amount: object, key: str, payment: dict[str, Any] | None
    ) -> ResponseReturnValue | None:
        """What a charging system checks before it sells: on sale, at its price, and a card
        purchase paid (the TMF676 payment the order names, or the top-up's correlator)."""
        if not sales.sellable(product):
            return error(422, "not_sellable", f"{product.code} is not on sale")
        if amount is not None and amount != sales.price(product):
            return error(422, "price_changed", f"{product.code} costs {sales.price(product)} XPF")
        named = (payment or {}).get("id") if (payment or {}).get("@referredType") == "Payment" else None
        if method == tmf.PAYMENT_METHODS[PaymentSource.CARD] and not sales.paid(named, key, sales.price(product)):
            return error(422, "payment_unknown", "no card payment of that amount for this purchase")
        return None

    # ------------------------------------------------------------------ TMF681 messages

    @app.post(P681 + "/communicationMessage")
    def message() -> ResponseReturnValue:
        """An SMS to a Mobilis number lands in the outbox the simulator shows (the "phone")."""
        body = request.get_json(force=True)
        number = str(((body.get("receiver") or [{}])[0]).get("phoneNumber", ""))
        national = number.removeprefix(f"+{COUNTRY_CODE}")
        if body.get("messageType") != "SMS" or len(national) != 6 or not national.isdigit():
            return error(400, "bad_request", "an SMS to a +687 number is expected")
        with sessions() as session:
            row = SmsOutbox(msisdn=national, text=str(body.get("content", "")), created_at=now())
            session.add(row)
            session.commit()
            answer = {"id": str(row.id), "messageType": "SMS", "state": "completed", "@type": "CommunicationMessage"}
        return jsonify(answer), 201

    def _purchase(session: Session, line: Line, product: Product, method: str, price: int, key: str) -> Operation:
        source = tmf.SOURCES.get(method, PaymentSource.BILL)
        done = EmbeddedOperator(session).purchase(line, product, source, price, key, now())
        session.commit()
        return done

    return app


# --------------------------------------------------------------------------- representations


def _iso(moment: datetime) -> str:
    return tmf.iso(moment)


def _product(line: Line) -> dict[str, Any]:
    return {
        "id": f"LINE-{line.msisdn}",
        "name": f"Ligne mobile {line.msisdn}",
        "productSerialNumber": line.msisdn,
        "isBundle": False,
        "status": line.status.value,
        "productOffering": {"id": line.offer_code},
        "productSpecification": {"id": line.plan_family.value},
        "billingAccount": {"id": account_of(line)},
        "relatedParty": [{"id": holder_of(line), "role": "customer", "@referredType": "Individual"}],
        "@type": "Product",
    }


def _bucket(line: Line, row: Balance, now: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(row.id),
        "name": row.label,
        "usageType": tmf.USAGE_TYPES[BucketKind(row.kind)],
        "status": "expired" if row.valid_until is not None and row.valid_until <= now else "active",
        "remainingValue": {"amount": row.remaining, "units": row.unit},
        "logicalResource": [{"id": line.msisdn, "name": "msisdn"}],
        "partyAccount": {"id": account_of(line)},
        "@type": "Bucket",
    }
    if row.valid_until is not None:
        body["validFor"] = {"endDateTime": _iso(row.valid_until)}
    return body


def _consumption(msisdn: str, row: BillingPeriod | None, packs: list[Balance]) -> dict[str, Any]:
    """The line's usage consumption report: the plan's allowances in the billing period in force
    (none for a prepaid line), and each bucket's initial size."""
    report: dict[str, Any] = {"logicalResource": [{"id": msisdn, "name": "msisdn"}]}
    report["bucketRefOrValue"] = [
        {
            "id": str(b.id),
            "usageType": tmf.USAGE_TYPES[BucketKind(b.kind)],
            "bucketCounter": [{"counterType": tmf.ALLOWANCE, "value": {"amount": b.initial, "units": b.unit}}],
        }
        for b in packs
    ]
    if row is None:
        return report
    allowances = [
        ("voice", row.voice_seconds_allowance, "s"),
        ("sms", row.sms_allowance, "SMS"),
        ("data", row.data_mb_allowance, "MB"),
    ]
    for usage_type, allowance, units in allowances:
        counter: dict[str, Any] = {"counterType": tmf.ALLOWANCE}
        if allowance is None:
            counter["valueName"] = tmf.UNLIMITED
        else:
            counter["value"] = {"amount": allowance, "units": units}
        report["bucketRefOrValue"].append({"usageType": usage_type, "bucketCounter": [counter]})
    report["validPeriod"] = {"startDateTime": _iso(row.starts_at), "endDateTime": _iso(row.ends_at)}
    return report


def _usage(line: Line, row: UsageRecord) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "usageDate": _iso(row.occurred_at),
        "usageType": row.kind.value,
        "description": row.description,
        "status": "rated",
        "usageCharacteristic": [{"name": "quantity", "value": row.quantity, "valueType": "integer"}],
        "ratedProductUsage": [
            {
                "offerTariffType": tmf.IN_PLAN if row.in_plan else "outOfPlan",
                "taxIncludedRatingAmount": {"unit": "XPF", "value": row.amount_xpf},
            }
        ],
        "relatedParty": [{"id": line.msisdn, "role": "user", "@referredType": "Individual"}],
        "@type": "Usage",
    }


def _purchases(
    session: Session, line: Line | None, date_field: str, types: tuple[ProductType, ...]
) -> list[tuple[Purchase, Product]]:
    start, end = _when(f"{date_field}.gte"), _when(f"{date_field}.lt")
    if line is None or start is None or end is None:
        return []
    return [
        (p, product)
        for p, product in session.execute(
            select(Purchase, Product)
            .join(Product, Product.id == Purchase.product_id)
            .where(
                Purchase.line_id == line.id,
                Purchase.created_at >= start,
                Purchase.created_at < end,
                Purchase.product_type.in_(types),
            )
            .order_by(Purchase.created_at.desc(), Purchase.id.desc())
        ).tuples()
    ]


def _order(line: Line | None, p: Purchase, product: Product) -> dict[str, Any]:
    method = tmf.PAYMENT_METHODS[p.payment_source]
    body: dict[str, Any] = {
        "id": p.reference or str(p.id),
        "orderDate": _iso(p.created_at),
        "state": ORDER_STATES[p.status],
        "billingAccount": {"id": account_of(line) if line else ""},
        "payment": [{"id": method, "name": method}],
        "orderTotalPrice": [
            {"priceType": "oneTime", "price": {"taxIncludedAmount": {"unit": "XPF", "value": p.price_xpf}}}
        ],
        "productOrderItem": [
            {
                "id": "1",
                "action": "add",
                "productOffering": {"id": product.code, "name": product.name},
                "product": {"productSerialNumber": line.msisdn if line else ""},
            }
        ],
        "@type": "ProductOrder",
    }
    if p.status == PurchaseStatus.EXPIRED:
        body["cancellationReason"] = "expired"
    return body


def _topup(line: Line | None, p: Purchase, product: Product) -> dict[str, Any]:
    method = tmf.PAYMENT_METHODS[p.payment_source]
    body: dict[str, Any] = {
        "id": p.reference or str(p.id),
        "requestedDate": _iso(p.created_at),
        "status": TOPUP_STATES[p.status],
        "amount": {"amount": p.price_xpf, "units": "XPF"},
        "product": [{"id": product.code, "name": product.name, "@referredType": "ProductOffering"}],
        "usageType": "monetary",
        "logicalResource": [{"id": line.msisdn if line else "", "name": "msisdn"}],
        "paymentMethod": {"id": method, "name": method},
        "@type": "TopupBalance",
    }
    if p.status == PurchaseStatus.EXPIRED:
        body["reason"] = "expired"
    return body


def _operations(session: Session, key: str, represent: Callable[[Operation], dict[str, Any]]) -> list[dict[str, Any]]:
    """The write recorded under `key` (the operator's own record), as a one-element list."""
    row = session.scalar(select(OperatorOperation).where(OperatorOperation.key == key))
    done = EmbeddedOperator(session).find_operation(session.get_one(Line, row.line_id), key) if row else None
    return [represent(done)] if done is not None else []


def _order_of_operation(done: Operation) -> dict[str, Any]:
    return {
        "id": done.operator_ref or "",
        "externalId": done.key,
        "state": OPERATION_STATES.get(done.status, "acknowledged"),
        "productOrderItem": [{"id": "1", "action": "add"}],
        "@type": "ProductOrder",
    }


def _topup_of_operation(done: Operation) -> dict[str, Any]:
    return {
        "id": done.operator_ref or "",
        "description": tmf.key_description(done.key),
        "status": OPERATION_STATES.get(done.status, "created"),
        "@type": "TopupBalance",
    }


def main() -> None:
    from bot.config.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    settings = get_settings()
    if not settings.dev_mode:  # its fault switch is open to anyone on the machine
        raise SystemExit("the operator stub is a development tool: set MOBILIS_DEV_MODE=1")
    sessions = sessionmaker(bind=make_engine(settings.database_url), expire_on_commit=False)
    app = create_operator_stub(
        sessions, client_id=settings.operator_client_id, client_secret=settings.operator_client_secret
    )
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
