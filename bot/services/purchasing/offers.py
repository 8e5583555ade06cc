"""What a line may buy (catalogue eligibility) and which product a message names.

A product is offered when both sides agree: our catalogue file lets the plan family buy it (through
the products / product_eligibility tables, `accounts.eligible_products`, with how it is paid) and
the operator sells it to the line now at the catalogue's price (`OperatorPort.sellable`). A price the
two disagree on is never shown: the product is left out until the catalogue is updated. Nothing here
hard-codes a price. What the message asks for is read by bot.services.dialogue.quantities.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from bot.db.account import Line
from bot.db.purchasing import PaymentSource, Product, ProductType
from bot.services.account import accounts
from bot.services.dialogue.quantities import ProductAsk
from bot.services.i18n import FRENCH, current_language
from bot.services.operator.backends import operator_for

log = logging.getLogger(__name__)

DATA_TYPES = (ProductType.IMD, ProductType.TOPUP)


@dataclass(frozen=True)
class Offer:
    product: Product
    payment_source: PaymentSource


def offers_for_line(session: Session, line: Line, live: bool = False) -> list[Offer]:
    """What the line may buy: RL, then IMD, then TOP UP, cheapest first. `live`: the operator's
    list is read now (before money moves), not the one kept for a few minutes."""
    order = {ProductType.RL: 0, ProductType.IMD: 1, ProductType.TOPUP: 2}
    sold = {o.code: o.price_xpf for o in operator_for(session).sellable(line, live=live)}
    offers = []
    for product, rule in accounts.eligible_products(session, line):
        if product.code not in sold:
            continue
        if sold[product.code] != product.price_xpf:
            log.warning(
                "%s: the operator charges %s F, the catalogue says %s F; not offered until data/catalogue.yml agrees",
                product.code,
                sold[product.code],
                product.price_xpf,
            )
            continue
        offers.append(Offer(product, rule.payment_source))
    return sorted(offers, key=lambda o: (order[o.product.type], o.product.price_xpf, o.product.code))


# --------------------------------------------------------------------------- preselection


@dataclass
class Preselection:
    """`chosen` when the message names exactly one product the line may buy; otherwise the
    `choices` to show and, when the request cannot be met, `problem` (which part: "type" or
    "data" — nothing of that kind for this line —, "amount" or "volume")."""

    chosen: Offer | None = None
    choices: list[Offer] = field(default_factory=list)
    problem: str | None = None
    request: ProductAsk = field(default_factory=ProductAsk)


def preselect(offers: list[Offer], request: ProductAsk) -> Preselection:
    """`request.kind` is a ProductType value ("RL", "IMD", "TOPUP"): ProductType is a str enum."""
    types = {o.product.type for o in offers}
    if request.kind == ProductType.TOPUP and ProductType.TOPUP not in types and current_language() != FRENCH:
        # In English (Australia, New Zealand) a "top up" is a recharge: on a line without TOP UP packs
        # it asks for credit ("top up 1000" → the 1 000 F recharge), or for data when it names a volume.
        if request.data_mb is not None or ProductType.RL not in types:
            request = replace(request, kind=None, wants_data=True)
        else:
            request = replace(request, kind=ProductType.RL.value)
    pool = offers
    if request.kind is not None:
        pool = [o for o in offers if o.product.type == request.kind]
        if not pool:
            return Preselection(choices=offers, problem="type", request=request)
    elif request.wants_data:
        pool = [o for o in offers if o.product.type in DATA_TYPES]
        if not pool:
            return Preselection(choices=offers, problem="data", request=request)
    matches = pool
    if request.data_mb is not None:
        matches = [o for o in matches if o.product.data_mb == request.data_mb]
        if not matches:
            return Preselection(choices=pool, problem="volume", request=request)
    if request.amount_xpf is not None:
        by_price = [o for o in matches if request.amount_xpf in (o.product.price_xpf, o.product.credit_xpf or -1)]
        if not by_price:
            return Preselection(choices=pool, problem="amount", request=request)
        matches = by_price
    if len(matches) == 1 and (request.amount_xpf is not None or request.data_mb is not None):
        return Preselection(chosen=matches[0], choices=matches, request=request)
    return Preselection(choices=matches, request=request)
