"""Account consultation answers: offer, balance, usage, notifications, documents (the purchase
history is in history.py).

Each function receives the line the user may see (from bot.services.identity.linking.get_linked_line)
and returns a Reply in short French, ending with 2-3 next steps as quick replies. `now` is
injectable for tests; stored times are UTC, shown in Nouméa time. Balances and usage come through the
operator port (bot.services.operator), notifications from accounts.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.clock import now_or
from bot.db.account import PREPAID_FAMILIES, BucketKind, Line, LineStatus, Offer, PlanFamily
from bot.services.account import accounts
from bot.services.alerts.texts import QR_MY_ALERTS
from bot.services.fr_format import (
    MONTHS,
    data_volume,
    date_fr,
    datetime_fr,
    days_left_fr,
    de,
    family_fr,
    local_date,
    month_fr,
    msisdn_fr,
    to_noumea,
    voice_duration,
    xpf,
)
from bot.services.operator.backends import operator_for
from bot.services.operator.port import Bucket
from bot.services.purchasing.catalogue import load_catalogue
from bot.services.replies import (
    QR_BALANCE,
    QR_BUY,
    QR_HELP,
    QR_OFFER,
    QR_PURCHASES,
    QR_RECHARGE,
    QR_USAGE,
    TEMPLATE_BUTTON_LIMIT,
    Button,
    QuickReply,
    Reply,
    cut,
    fit,
)

LOW_CREDIT_XPF = 300  # below this a prepaid subscriber is told to recharge
WARN_DAYS = 7  # validity ending within this many days triggers a warning
LOW_DATA_RATIO = 0.10  # a data bucket under 10 % of its initial volume is "nearly exhausted"
MAX_OUT_OF_PLAN_SHOWN = 5
MAX_NOTIFICATIONS_SHOWN = 5


def _is_prepaid(line: Line) -> bool:
    return line.plan_family in PREPAID_FAMILIES


def next_steps(line: Line, *exclude: QuickReply) -> list[QuickReply]:
    """Three sensible follow-ups for this kind of line, minus the one just answered."""
    if _is_prepaid(line):
        options = [QR_BALANCE, QR_RECHARGE, QR_PURCHASES, QR_HELP]
    else:
        options = [QR_USAGE, QR_PURCHASES, QR_BUY, QR_HELP]
    return [q for q in options if q not in exclude][:3]


def _suspended_note(line: Line) -> list[str]:
    if line.status == LineStatus.SUSPENDED:
        return [
            "Attention : cette ligne est suspendue. Pour la réactiver, appelez le 1000 (gratuit depuis "
            "une ligne Mobilis) ou écrivez à 1000@opt.nc."
        ]
    return []


def _days_until(moment: datetime, now: datetime) -> int:
    return (local_date(moment) - local_date(now)).days


def parse_month(value: object) -> tuple[int | None, str | None]:
    """(month 1-12, problem): accepts 11, "11", "novembre"."""
    if value is None or value == "":
        return None, None
    text = str(value).strip().lower()
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text), None
    if text in MONTHS:
        return MONTHS.index(text) + 1, None
    return None, f"Je n'ai pas compris le mois « {value} »"


def month_name(window: accounts.PurchaseWindow) -> str:
    """ "novembre 2026": the calendar month a window starts in (Nouméa)."""
    start = local_date(window.start)
    return month_fr(start.month, start.year)


# ------------------------------------------------------------------------------- offer


def _includes(offer: Offer) -> list[str]:
    parts = []
    if offer.credit_xpf:
        parts.append(f"{xpf(offer.credit_xpf)} de crédit")
    if offer.voice_unlimited:
        parts.append("appels illimités")
    elif offer.voice_seconds:
        parts.append(f"{voice_duration(offer.voice_seconds)} d'appels")
    if offer.sms_unlimited:
        parts.append("SMS illimités")
    elif offer.sms:
        parts.append(f"{offer.sms} SMS")
    if offer.data_unlimited:
        parts.append("Internet illimité")
    elif offer.data_mb:
        parts.append(f"{data_volume(offer.data_mb)} d'Internet")
    return parts


def offer_reply(session: Session, line: Line, now: datetime | None = None) -> Reply:
    offer = line.offer
    lines = _suspended_note(line)
    family = family_fr(line.plan_family)
    kind = "" if offer.name.lower() == family.lower() else f" ({family})"
    lines.append(f"Votre ligne {msisdn_fr(line.msisdn)} : {offer.name}{kind}.")
    period = "par mois" if offer.recurring else "à l'achat"
    lines.append(f"Prix : {xpf(offer.price_xpf)} {period}.")
    includes = _includes(offer)
    if includes:
        validity = ""
        if offer.validity_days and line.plan_family != PlanFamily.FORFAIT_BLOQUE:
            validity = f", valable {offer.validity_days} jours"
        elif offer.recurring:
            validity = " chaque mois"
        lines.append(f"Inclus : {', '.join(includes)}{validity}.")
    if offer.description:
        lines.append(offer.description)
    if offer.is_sample:
        lines.append("(Chiffres indicatifs.)")
    return fit(Reply("\n".join(lines), quick_replies=next_steps(line, QR_OFFER)))


# ----------------------------------------------------------------------------- balance


def _as_of(buckets: list[Bucket]) -> str:
    """ " (relevé à 14:02)" when the figures were read a moment ago rather than just now."""
    read = min((b.as_of for b in buckets if b.as_of is not None), default=None)
    return f" (relevé à {to_noumea(read):%H:%M})" if read is not None else ""


def _balances(session: Session, line: Line) -> list[Bucket]:
    """The line's buckets as shown: credit first, then SMS, data, voice; soonest validity first."""
    order = {BucketKind.CREDIT: 0, BucketKind.SMS: 1, BucketKind.DATA: 2, BucketKind.VOICE: 3}
    far = datetime.max.replace(tzinfo=UTC)
    buckets = operator_for(session).buckets(line)
    return sorted(buckets, key=lambda b: (order[b.kind], b.valid_until or far))


def _bucket_text(b: Bucket, now: datetime) -> str | None:
    expired = b.valid_until is not None and b.valid_until <= now
    if expired and b.kind != BucketKind.CREDIT and b.remaining == 0:
        return None  # a used-up, expired pack is just noise
    if b.kind == BucketKind.CREDIT:
        amount = f"Crédit : {xpf(b.remaining)}"
    elif b.kind == BucketKind.SMS:
        amount = f"SMS : {b.remaining}"
    elif b.kind == BucketKind.DATA:
        amount = f"Internet : {data_volume(b.remaining)}" + (f" ({b.label})" if b.label else "")
    else:
        amount = f"Appels : {voice_duration(b.remaining)}"
    if b.valid_until is None:
        return f"• {amount}"
    if expired:
        agreement = "s" if b.kind == BucketKind.SMS else ""
        return f"• {amount}, expiré{agreement} le {date_fr(b.valid_until)}"
    return f"• {amount}, valable jusqu'au {date_fr(b.valid_until)}"


def _credit_warnings(line: Line, credit: Bucket, now: datetime) -> list[str]:
    bloque = line.plan_family == PlanFamily.FORFAIT_BLOQUE
    if credit.valid_until is not None and credit.valid_until <= now:
        if bloque:
            return [f"Votre crédit du mois a pris fin le {date_fr(credit.valid_until)}."]
        return [
            f"Votre crédit de {xpf(credit.remaining)} a expiré le {date_fr(credit.valid_until)}. "
            "Une Recharge Liberté le réactive."
        ]
    warnings = []
    if credit.valid_until is not None:
        days = _days_until(credit.valid_until, now)
        if days <= WARN_DAYS:
            if bloque:
                warnings.append(
                    f"Votre crédit du mois se termine {days_left_fr(days)} "
                    f"(renouvellement le {date_fr(credit.valid_until + timedelta(seconds=1))})."
                )
            else:
                warnings.append(
                    f"Attention : votre crédit expire {days_left_fr(days)}, le "
                    f"{date_fr(credit.valid_until)}. Rechargez pour le conserver."
                )
    if credit.remaining < LOW_CREDIT_XPF:
        warnings.append("Votre crédit est presque épuisé : une Recharge Liberté permet de continuer.")
    return warnings


def _postpaid_balance(session: Session, line: Line, now: datetime) -> Reply:
    lines = _suspended_note(line)
    lines.append(
        f"Votre ligne {msisdn_fr(line.msisdn)} est un {family_fr(line.plan_family)} ({line.offer.name}) : "
        "pas de crédit à suivre, votre consommation du mois se consulte dans « Ma conso »."
    )
    extras = [
        t
        for b in _balances(session, line)
        if (t := _bucket_text(b, now)) and not (b.valid_until and b.valid_until <= now)
    ]
    if extras:
        lines.append("En plus de votre forfait :")
        lines.extend(extras)
    return fit(Reply("\n".join(lines), quick_replies=[QR_USAGE, QR_PURCHASES, QR_HELP]))


def balance_reply(session: Session, line: Line, now: datetime | None = None, facet: str | None = None) -> Reply:
    """What remains on the line; `facet` ("data", "sms", "voice", "credit") narrows the answer to
    one part, as in "il me reste combien d'internet ?" or "et en sms ?"."""
    now = now_or(now)
    if facet in FACET_BUCKETS:
        return _facet_balance(session, line, now, facet)
    if facet == "out_of_plan":
        return usage_reply(session, line, now, facet=facet)
    if not _is_prepaid(line):
        return _postpaid_balance(session, line, now)
    buckets = _balances(session, line)
    lines = _suspended_note(line)
    lines.append(f"Solde de la ligne {msisdn_fr(line.msisdn)} ({family_fr(line.plan_family)}){_as_of(buckets)} :")
    lines.extend(t for b in buckets if (t := _bucket_text(b, now)))
    credit = next((b for b in buckets if b.kind == BucketKind.CREDIT), None)
    warnings = []
    if credit is None:
        lines.append("• Crédit : aucun")
    else:
        warnings += _credit_warnings(line, credit, now)
    warnings += _low_data_warnings(buckets, now)
    quick = [QR_RECHARGE, QR_USAGE, QR_PURCHASES] if warnings else [QR_USAGE, QR_PURCHASES, QR_RECHARGE]
    return fit(Reply("\n".join(lines + warnings), quick_replies=quick))


FACET_BUCKETS = {"data": BucketKind.DATA, "sms": BucketKind.SMS, "voice": BucketKind.VOICE, "credit": BucketKind.CREDIT}
FACET_LABELS = {"data": "Internet", "sms": "SMS", "voice": "Appels", "credit": "Crédit", "out_of_plan": "Hors forfait"}
LEFT_HEADINGS = {
    "data": "Internet restant",
    "sms": "SMS restants",
    "voice": "Appels restants",
    "credit": "Crédit restant",
}
USED_HEADINGS = {
    "data": "Consommation Internet",
    "sms": "SMS envoyés",
    "voice": "Appels passés",
    "out_of_plan": "Hors forfait",
}
QR_WHOLE_BALANCE = QuickReply("Tout mon solde", "/show_balance")
QR_BUY_DATA = QuickReply("Acheter internet", '/buy{"product_type":"data"}')


def _low_data_warnings(buckets: list[Bucket], now: datetime) -> list[str]:
    return [
        f"Internet presque épuisé : plus que {data_volume(b.remaining)} ({b.label})."
        for b in buckets
        if b.kind == BucketKind.DATA
        and b.initial
        and b.remaining < b.initial * LOW_DATA_RATIO
        and not (b.valid_until and b.valid_until <= now)
    ]


def _facet_balance(session: Session, line: Line, now: datetime, facet: str) -> Reply:
    """One part of what remains: the line's buckets of that kind, and for a forfait what is left
    of the month's allowance."""
    buckets = [b for b in _balances(session, line) if b.kind == FACET_BUCKETS[facet]]
    lines = _suspended_note(line) + [f"{LEFT_HEADINGS[facet]} sur la ligne {msisdn_fr(line.msisdn)}{_as_of(buckets)} :"]
    if not _is_prepaid(line) and facet != "credit":
        lines += _allowance_left(session, line, now, facet)
    lines += [t for b in buckets if (t := _bucket_text(b, now))]
    warnings = _low_data_warnings(buckets, now) if facet == "data" else []
    credit = next((b for b in buckets if b.kind == BucketKind.CREDIT), None)
    if credit is not None:
        warnings += _credit_warnings(line, credit, now)
    if facet is not None and len(lines) == 1 + len(_suspended_note(line)):
        lines.append(_nothing_left(line, facet))
    buy = QR_BUY_DATA if facet == "data" else QR_RECHARGE if _is_prepaid(line) else QR_BUY
    return fit(
        Reply(
            "\n".join(lines + warnings),
            quick_replies=[QR_WHOLE_BALANCE if _is_prepaid(line) else QR_USAGE, buy, QR_PURCHASES],
        )
    )


def _nothing_left(line: Line, facet: str) -> str:
    if facet == "credit" and not _is_prepaid(line):
        return (
            f"• Pas de crédit à suivre : votre {family_fr(line.plan_family)} est payé chaque mois, "
            "votre consommation se consulte dans « Ma conso »."
        )
    if facet == "voice" and _is_prepaid(line):
        return "• Pas de minutes à part : vos appels sont payés sur votre crédit."
    return f"• {FACET_LABELS[facet]} : rien en ce moment."


def _allowance_left(session: Session, line: Line, now: datetime, facet: str) -> list[str]:
    operator = operator_for(session)
    period = operator.billing_period(line, now)
    if period is None:
        return []
    used = operator.usage_totals(line, period.starts_at, period.ends_at, in_plan=True)
    facets: dict[str, tuple[int | None, int, Callable[[int], str], str]] = {
        "data": (period.data_mb_allowance, used.data_mb, data_volume, "Internet illimité"),
        "sms": (period.sms_allowance, used.sms, str, "SMS illimités"),
        "voice": (period.voice_seconds_allowance, used.voice_seconds, voice_duration, "appels illimités"),
    }
    allowance, spent, fmt, unlimited = facets[facet]
    included = {
        "data": line.offer.data_mb or line.offer.data_unlimited,
        "sms": line.offer.sms or line.offer.sms_unlimited,
        "voice": line.offer.voice_seconds or line.offer.voice_unlimited,
    }[facet]
    if not included:
        return []
    last_day = date_fr(period.ends_at - timedelta(seconds=1))
    if allowance is None:
        return [f"• Forfait : {unlimited} jusqu'au {last_day}"]
    left = max(0, allowance - spent)
    return [f"• Forfait : {fmt(left)} sur {fmt(allowance)} jusqu'au {last_day}" + (" (épuisé)" if left == 0 else "")]


# ------------------------------------------------------------------------------- usage


def _versus(used: int, allowance: int | None, fmt: Callable[[int], str], unlimited: str) -> str:
    """ "1 h 12 min sur 2 h", "86 (illimités)", "2 h sur 2 h (épuisé)"."""
    if allowance is None:
        return f"{fmt(used)} ({unlimited})"
    text = f"{fmt(used)} sur {fmt(allowance)}"
    return text + " (épuisé)" if used >= allowance else text


def _postpaid_usage(session: Session, line: Line, now: datetime, facet: str | None, back: int) -> Reply:
    operator = operator_for(session)
    period = operator.billing_period(line, now, back)
    if period is None:
        text = (
            "Je ne trouve pas votre période de facturation en cours."
            if back == 0
            else "Je n'ai pas le détail de cette période : je ne garde que les derniers mois."
        )
        return fit(Reply(text + " Le service client (1000) peut vous renseigner.", quick_replies=[QR_OFFER, QR_HELP]))
    used = operator.usage_totals(line, period.starts_at, period.ends_at, in_plan=True)
    last_day = period.ends_at - timedelta(seconds=1)
    what = USED_HEADINGS[facet] if facet else "Consommation"
    lines = _suspended_note(line)
    lines.append(f"{what} de la ligne {msisdn_fr(line.msisdn)} du {date_fr(period.starts_at)} au {date_fr(last_day)} :")
    offer = line.offer
    if facet in (None, "voice") and (offer.voice_seconds or offer.voice_unlimited):
        lines.append(
            f"• Appels : {_versus(used.voice_seconds, period.voice_seconds_allowance, voice_duration, 'illimités')}"
        )
    if facet in (None, "sms") and (offer.sms or offer.sms_unlimited):
        lines.append(f"• SMS : {_versus(used.sms, period.sms_allowance, str, 'illimités')}")
    if facet in (None, "data"):
        data = f"• Internet : {_versus(used.data_mb, period.data_mb_allowance, data_volume, 'illimité')}"
        if period.data_mb_allowance and used.data_mb < period.data_mb_allowance:
            data += f", reste {data_volume(period.data_mb_allowance - used.data_mb)}"
        lines.append(data)
        if back == 0:
            for b in _balances(session, line):
                if b.kind == BucketKind.DATA and b.valid_until and b.valid_until > now:
                    lines.append(f"• {b.label} : {data_volume(b.remaining)} restants")
    if facet in (None, "out_of_plan"):
        extras = operator.out_of_plan(line, period.starts_at, min(now, period.ends_at))
        if extras:
            lines.append(f"Hors forfait : {xpf(sum(r.amount_xpf for r in extras))} au total")
            for r in extras[:MAX_OUT_OF_PLAN_SHOWN]:
                lines.append(f"• {datetime_fr(r.occurred_at)} — {r.description} : {xpf(r.amount_xpf)}")
            if len(extras) > MAX_OUT_OF_PLAN_SHOWN:
                lines.append(f"… et {len(extras) - MAX_OUT_OF_PLAN_SHOWN} autres.")
        else:
            lines.append("Aucun hors forfait sur cette période.")
    if facet is not None and len(lines) == 1 + len(_suspended_note(line)):
        lines.append(f"• {FACET_LABELS[facet]} : non inclus dans votre forfait.")
    return fit(Reply("\n".join(lines), quick_replies=[QR_PURCHASES, QR_BUY, QR_HELP]))


def usage_reply(
    session: Session,
    line: Line,
    now: datetime | None = None,
    facet: str | None = None,
    months_back: int | None = None,
    month: int | None = None,
) -> Reply:
    """What was used. A forfait shows its billing period (`months_back` periods ago); a prepaid
    line the last 30 days, or one calendar month (`months_back` or `month`). `facet` narrows to
    data, SMS, calls or out-of-plan charges."""
    now = now_or(now)
    facet = facet if facet in FACET_LABELS and facet != "credit" else None
    back = _months_ago(now, months_back, month)
    if not _is_prepaid(line):
        return _postpaid_usage(session, line, now, facet, back or 0)
    if back is None:
        start, end, when = now - timedelta(days=30), now, "des 30 derniers jours"
    else:
        window = accounts.months_back_window(now, back)
        start, end = window.start, window.end
        when = de(month_name(window))
    used = operator_for(session).usage_totals(line, start, end, in_plan=None)
    head = f"{USED_HEADINGS[facet]} {when}" if facet else f"Vos consommations {when}"
    lines = _suspended_note(line) + [f"{head} (ligne {msisdn_fr(line.msisdn)}) :"]
    if facet in (None, "voice"):
        lines.append(f"• Appels : {voice_duration(used.voice_seconds)}")
    if facet in (None, "sms"):
        lines.append(f"• SMS : {used.sms}")
    if facet in (None, "data") and (used.data_mb or facet == "data"):
        lines.append(f"• Internet : {data_volume(used.data_mb)}")
    if facet == "out_of_plan":
        lines.append("• Pas de hors forfait sur une ligne prépayée : tout est payé sur le crédit.")
    if used.amount_xpf and facet in (None, "credit"):
        lines.append(f"Crédit utilisé : {xpf(used.amount_xpf)}.")
    return fit(Reply("\n".join(lines), quick_replies=[QR_BALANCE, QR_RECHARGE, QR_HELP]))


def _months_ago(now: datetime, months_back: int | None, month: int | None) -> int | None:
    """Months between this one and the one asked ("le mois dernier" → 1, "en octobre" in December → 2)."""
    if months_back is not None:
        return max(0, int(months_back))
    mon, _ = parse_month(month)
    if mon is None:
        return None
    return (local_date(now).month - mon) % 12


# ----------------------------------------------------------------------- notifications


def notifications_reply(session: Session, line: Line, now: datetime | None = None) -> Reply:
    """Latest notifications, unread first. The unread ones shown are marked read (flushed;
    the caller's unit of work commits)."""
    now = now_or(now)
    unread_total = accounts.unread_count(session, line)
    items = accounts.notifications(session, line, MAX_NOTIFICATIONS_SHOWN)
    if not items:
        return fit(Reply("Vous n'avez aucune notification.", quick_replies=[*next_steps(line)[:2], QR_MY_ALERTS]))
    if unread_total:
        head = (
            "Vous avez 1 notification non lue :"
            if unread_total == 1
            else f"Vous avez {unread_total} notifications non lues :"
        )
    else:
        head = "Aucune nouvelle notification. Les dernières :"
    lines, shown_unread = [head], 0
    for n in items:
        flag = ""
        if n.read_at is None:
            flag, n.read_at, shown_unread = "[Nouveau] ", now, shown_unread + 1
        lines.append(f"• {flag}{date_fr(n.created_at)} — {n.title} : {cut(n.body, 200)}")
    if unread_total > shown_unread:
        lines.append("D'autres notifications non lues suivent : redemandez-les pour les voir.")
    session.flush()
    return fit(Reply("\n".join(lines), quick_replies=[*next_steps(line)[:2], QR_MY_ALERTS]))


# --------------------------------------------------------------------------- documents


def documents_reply() -> Reply:
    """Contractual documents from data/catalogue.yml, as URL buttons (at most 3)."""
    docs = load_catalogue().documents
    lines = ["Les documents contractuels Mobilis :"]
    lines += [f"• {d.label}" for d in docs[:TEMPLATE_BUTTON_LIMIT]]
    lines += [f"• {d.label} : {d.url}" for d in docs[TEMPLATE_BUTTON_LIMIT:]]  # no room for more buttons
    buttons = [Button(title=d.title, url=d.url) for d in docs[:TEMPLATE_BUTTON_LIMIT]]
    return fit(Reply("\n".join(lines), buttons=buttons, quick_replies=[QR_OFFER, QR_HELP]))
