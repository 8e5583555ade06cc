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
from bot.services.fr_format import date_fr, local_date, month_fr, msisdn_fr, xpf
from bot.services.i18n import N_, _
from bot.services.operator.backends import operator_for
from bot.services.operator.port import PurchaseRecord
from bot.services.purchasing.catalogue_names import shown
from bot.services.replies import GENERIC_ELEMENT_LIMIT, QR_PURCHASES, Card, QuickReply, Reply, fit

PAGE_SIZE = GENERIC_ELEMENT_LIMIT  # one generic template per page
# Labels are marked N_() and translated where they are shown (_(TYPE_LABELS[t])).
TYPE_LABELS = {
    ProductType.RL: N_("Recharge Liberté"),
    ProductType.IMD: N_("Internet à la demande"),
    ProductType.TOPUP: N_("TOP UP"),
}
PAYMENT_LABELS = {
    PaymentSource.CARD: N_("carte bancaire"),
    PaymentSource.CREDIT: N_("crédit"),
    PaymentSource.BILL: N_("sur facture"),
}
STATUS_LABELS = {
    PurchaseStatus.SUCCEEDED: N_("réussi"),
    PurchaseStatus.FAILED: N_("échoué"),
    PurchaseStatus.PENDING: N_("en cours"),
    PurchaseStatus.CANCELLED: N_("annulé"),
    PurchaseStatus.EXPIRED: N_("expiré"),
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
    return (found, None) if found else (None, _("Je ne connais pas le type d'achat « {value} »").format(value=value))


def _purchase_card(p: PurchaseRecord) -> Card:
    payment, status = _(PAYMENT_LABELS[p.payment_source]), _(STATUS_LABELS[p.status])
    subtitle = f"{date_fr(p.created_at)} · {xpf(p.price_xpf)} · {payment} · {status}"
    return Card(title=shown(p.product_name), subtitle=subtitle)


def _show_more_payload(page: int, product_type: ProductType | None, month: int | None, period: str | None) -> str:
    entities: dict[str, object] = {"page": page}
    if product_type:
        entities["product_type"] = product_type.value
    if month:
        entities["month"] = month
    if period:
        entities["period"] = period
    return "/show_purchases" + json.dumps(entities, ensure_ascii=False)


WEEKDAYS_FR = (N_("lundi"), N_("mardi"), N_("mercredi"), N_("jeudi"), N_("vendredi"), N_("samedi"), N_("dimanche"))
# How a purchase-history answer names a recent day (French: "Aucun achat d'hier (01/12/2026) …").
DAYS_BACK_FR = {0: N_("d'aujourd'hui ({date})"), 1: N_("d'hier ({date})"), 2: N_("d'avant-hier ({date})")}


def _history_window(now: datetime, month: int | None, period: str | None) -> tuple[accounts.PurchaseWindow, str]:
    """The window of a purchase-history question and how the answer names it: "sur les 3
    derniers mois", "en novembre 2025", "du mois dernier (novembre 2026)", "d'hier (01/12/2026)",
    "du lundi 30/11/2026"."""
    when = HistoryFilter.from_entities({"period": period})
    today = local_date(now)
    if when.months_back is not None:
        window = accounts.months_back_window(now, when.months_back)
        name = month_name(window)
        label = {0: _("de ce mois-ci ({month})"), 1: _("du mois dernier ({month})")}.get(
            when.months_back, _("en {month}")
        )
        return window, label.format(month=name)
    if when.days_back is not None:
        day = today - timedelta(days=when.days_back)
        label = _(DAYS_BACK_FR[when.days_back]) if when.days_back in DAYS_BACK_FR else _("du ({date})")
        return accounts.day_window(day, now), label.format(date=date_fr(day))
    if when.weekday is not None:
        day = today - timedelta(days=(today.weekday() - when.weekday) % 7)
        weekday = _(WEEKDAYS_FR[day.weekday()])
        return accounts.day_window(day, now), _("du {weekday} {date}").format(weekday=weekday, date=date_fr(day))
    window = accounts.purchase_window(now, month)
    if month:
        return window, _("en {month}").format(month=month_fr(month, local_date(window.start).year))
    return window, _("sur les 3 derniers mois")


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

    what = f" ({_(TYPE_LABELS[ptype])})" if ptype else ""
    notes = [_("{problem} : voici tous vos achats.").format(problem=p) for p in (type_problem, month_problem) if p]
    if not found:
        summary = _("Aucun achat{what} {when} sur la ligne {number}.")
    elif pages > 1:
        summary = _("Vos achats{what} {when} : {count} (page {page}/{pages}).")
    else:
        summary = _("Vos achats{what} {when} : {count}.")
    summary = summary.format(
        what=what, when=when, number=msisdn_fr(line.msisdn), count=len(found), page=page + 1, pages=pages
    )
    filtered = ptype is not None or mon is not None or bool(period)
    steps = ([QuickReply(_("Tous mes achats"), "/show_purchases")] if filtered else []) + next_steps(line, QR_PURCHASES)
    more = [QuickReply(_("Voir plus"), _show_more_payload(page + 1, ptype, mon, period))] if page + 1 < pages else []
    return fit(
        Reply("\n".join(notes + [summary]), quick_replies=more + steps[:3], cards=[_purchase_card(p) for p in shown])
    )
