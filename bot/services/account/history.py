"""The purchase history: the last 3 months, a calendar month or a period a question named,
filtered by product type, newest first, as cards with "Voir plus"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.clock import now_or
from bot.db.account import Line
from bot.db.purchasing import PaymentSource, ProductType, PurchaseStatus
from bot.services.account import accounts
from bot.services.account.consultation import month_name, next_steps, parse_month
from bot.services.dialogue.quantities import HistoryFilter
from bot.services.fr_format import date_fr, de, local_date, month_fr, msisdn_fr, xpf
from bot.services.operator.backends import operator_for
from bot.services.operator.port import PurchaseRecord
from bot.services.replies import GENERIC_ELEMENT_LIMIT, QR_PURCHASES, Card, QuickReply, Reply, fit

PAGE_SIZE = GENERIC_ELEMENT_LIMIT  # one generic template per page
TYPE_LABELS = {
    ProductType.RL: "Recharge Liberté",
    ProductType.IMD: "Internet à la demande",
    ProductType.TOPUP: "TOP UP",
}
PAYMENT_LABELS = {
    PaymentSource.CARD: "carte bancaire",
    PaymentSource.CREDIT: "crédit",
    PaymentSource.BILL: "sur facture",
}
STATUS_LABELS = {
    PurchaseStatus.SUCCEEDED: "réussi",
    PurchaseStatus.FAILED: "échoué",
    PurchaseStatus.PENDING: "en cours",
    PurchaseStatus.CANCELLED: "annulé",
    PurchaseStatus.EXPIRED: "expiré",
}
TYPE_ALIASES = {
    "rl": ProductType.RL,
    "recharge": ProductType.RL,
    "recharges": ProductType.RL,
    "imd": ProductType.IMD,
    "topup": ProductType.TOPUP,
    "top up": ProductType.TOPUP,
    "top_up": ProductType.TOPUP,
    "top-up": ProductType.TOPUP,
}


# ------------------------------------------------------------------------------ helpers


def _parse_type(value: object) -> tuple[ProductType | None, str | None]:
    """(type, problem): accepts "RL", "imd", "top up", a ProductType; unknown → problem text."""
    if value is None or value == "":
        return None, None
    if isinstance(value, ProductType):
        return value, None
    found = TYPE_ALIASES.get(str(value).strip().lower())
    return (found, None) if found else (None, f"Je ne connais pas le type d'achat « {value} »")


def _purchase_card(p: PurchaseRecord) -> Card:
    subtitle = (
        f"{date_fr(p.created_at)} · {xpf(p.price_xpf)} · {PAYMENT_LABELS[p.payment_source]} · {STATUS_LABELS[p.status]}"
    )
    return Card(title=p.product_name, subtitle=subtitle)


def _show_more_payload(page: int, product_type: ProductType | None, month: int | None, period: str | None) -> str:
    entities: dict[str, object] = {"page": page}
    if product_type:
        entities["product_type"] = product_type.value
    if month:
        entities["month"] = month
    if period:
        entities["period"] = period
    return "/show_purchases" + json.dumps(entities, ensure_ascii=False)


WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DAYS_BACK_FR = {0: "aujourd'hui", 1: "hier", 2: "avant-hier"}


def _history_window(now: datetime, month: int | None, period: str | None) -> tuple[accounts.PurchaseWindow, str]:
    """The window of a purchase-history question and how the answer names it: "sur les 3
    derniers mois", "en novembre 2025", "du mois dernier (novembre 2026)", "d'hier (01/12/2026)",
    "du lundi 30/11/2026"."""
    when = HistoryFilter.from_entities({"period": period})
    today = local_date(now)
    if when.months_back is not None:
        window = accounts.months_back_window(now, when.months_back)
        name = month_name(window)
        label = {0: f"de ce mois-ci ({name})", 1: f"du mois dernier ({name})"}.get(when.months_back, f"en {name}")
        return window, label
    if when.days_back is not None:
        day = today - timedelta(days=when.days_back)
        label = f"{de(DAYS_BACK_FR[when.days_back]) if when.days_back in DAYS_BACK_FR else 'du'} ({date_fr(day)})"
        return accounts.day_window(day, now), label
    if when.weekday is not None:
        day = today - timedelta(days=(today.weekday() - when.weekday) % 7)
        return accounts.day_window(day, now), f"du {WEEKDAYS_FR[day.weekday()]} {date_fr(day)}"
    window = accounts.purchase_window(now, month)
    return window, (f"en {month_fr(month, local_date(window.start).year)}" if month else "sur les 3 derniers mois")


def purchases_reply(
    session: Session,
    line: Line,
    now: datetime | None = None,
    product_type: object = None,
    month: object = None,
    page: int = 0,
    period: str | None = None,
) -> Reply:
    """Purchases of the last 3 months, of one calendar month, or of the period a question named
    (`period`: "m1" last month, "d1" yesterday, "w0" the latest Monday; see
    bot.services.dialogue.quantities.HistoryFilter), newest first, as cards, 10 per page; the
    first line names the filters; "Voir plus" carries the next page with the same filters."""
    now = now_or(now)
    ptype, type_problem = _parse_type(product_type)
    mon, month_problem = parse_month(month)
    window, when = _history_window(now, mon, period)
    found = operator_for(session).purchase_history(line, window.start, window.end, ptype)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    try:
        page = int(page or 0)
    except (TypeError, ValueError):  # an entity from NLU may be any text
        page = 0
    page = min(max(0, page), pages - 1)
    shown = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]

    what = f" ({TYPE_LABELS[ptype]})" if ptype else ""
    notes = [f"{p} : voici tous vos achats." for p in (type_problem, month_problem) if p]
    if not found:
        summary = f"Aucun achat{what} {when} sur la ligne {msisdn_fr(line.msisdn)}."
    else:
        summary = f"Vos achats{what} {when} : {len(found)}"
        summary += f" (page {page + 1}/{pages})." if pages > 1 else "."
    filtered = ptype is not None or mon is not None or bool(period)
    steps = ([QuickReply("Tous mes achats", "/show_purchases")] if filtered else []) + next_steps(line, QR_PURCHASES)
    more = [QuickReply("Voir plus", _show_more_payload(page + 1, ptype, mon, period))] if page + 1 < pages else []
    return fit(
        Reply("\n".join(notes + [summary]), quick_replies=more + steps[:3], cards=[_purchase_card(p) for p in shown])
    )
