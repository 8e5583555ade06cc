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
from bot.services.i18n import FRENCH, N_, _, current_language, ngettext
from bot.services.operator.backends import operator_for
from bot.services.operator.port import Bucket
from bot.services.purchasing.catalogue import load_catalogue
from bot.services.purchasing.catalogue_names import document_url, documents_in_french, shown
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
            _(
                "Attention : cette ligne est suspendue. Pour la réactiver, appelez le 1000 (gratuit depuis "
                "une ligne Mobilis) ou écrivez à 1000@opt.nc."
            )
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
    return None, _("Je n'ai pas compris le mois « {value} »").format(value=value)


def month_name(window: accounts.PurchaseWindow) -> str:
    """ "novembre 2026": the calendar month a window starts in (Nouméa)."""
    start = local_date(window.start)
    return month_fr(start.month, start.year)


# ------------------------------------------------------------------------------- offer


def _includes(offer: Offer) -> list[str]:
    parts = []
    if offer.credit_xpf:
        parts.append(_("{amount} de crédit").format(amount=xpf(offer.credit_xpf)))
    if offer.voice_unlimited:
        parts.append(_("appels illimités"))
    elif offer.voice_seconds:
        parts.append(_("{duration} d'appels").format(duration=voice_duration(offer.voice_seconds)))
    if offer.sms_unlimited:
        parts.append(_("SMS illimités"))
    elif offer.sms:
        parts.append(_("{count} SMS").format(count=offer.sms))
    if offer.data_unlimited:
        parts.append(_("Internet illimité"))
    elif offer.data_mb:
        parts.append(_("{volume} d'Internet").format(volume=data_volume(offer.data_mb)))
    return parts


def offer_reply(session: Session, line: Line, now: datetime | None = None) -> Reply:
    offer = line.offer
    lines = _suspended_note(line)
    family = family_fr(line.plan_family)
    offer_name = shown(offer.name)
    same = offer_name.lower() == family.lower()
    name = offer_name if same else _("{offer} ({family})").format(offer=offer_name, family=family)
    lines.append(_("Votre ligne {number} : {offer}.").format(number=msisdn_fr(line.msisdn), offer=name))
    price = _("Prix : {price} par mois.") if offer.recurring else _("Prix : {price} à l'achat.")
    lines.append(price.format(price=xpf(offer.price_xpf)))
    includes = _includes(offer)
    if includes:
        if offer.validity_days and line.plan_family != PlanFamily.FORFAIT_BLOQUE:
            included = _("Inclus : {items}, valable {days} jours.")
        elif offer.recurring:
            included = _("Inclus : {items} chaque mois.")
        else:
            included = _("Inclus : {items}.")
        lines.append(included.format(items=", ".join(includes), days=offer.validity_days))
    if offer.description:
        lines.append(shown(offer.description))
    if offer.is_sample:
        lines.append(_("(Chiffres indicatifs.)"))
    return fit(Reply("\n".join(lines), quick_replies=next_steps(line, QR_OFFER)))


# ----------------------------------------------------------------------------- balance


def _as_of(buckets: list[Bucket]) -> str:
    """ " (relevé à 14:02)" when the figures were read a moment ago rather than just now."""
    read = min((b.as_of for b in buckets if b.as_of is not None), default=None)
    return " " + _("(relevé à {time})").format(time=f"{to_noumea(read):%H:%M}") if read is not None else ""


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
        amount = _("Crédit : {value}").format(value=xpf(b.remaining))
    elif b.kind == BucketKind.SMS:
        amount = _("SMS : {value}").format(value=b.remaining)
    elif b.kind == BucketKind.DATA:
        label = f" ({shown(b.label)})" if b.label else ""
        amount = _("Internet : {value}").format(value=data_volume(b.remaining)) + label
    else:
        amount = _("Appels : {value}").format(value=voice_duration(b.remaining))
    if b.valid_until is None:
        return f"• {amount}"
    if expired:
        ended = _("{amount}, expirés le {date}") if b.kind == BucketKind.SMS else _("{amount}, expiré le {date}")
        return "• " + ended.format(amount=amount, date=date_fr(b.valid_until))
    return "• " + _("{amount}, valable jusqu'au {date}").format(amount=amount, date=date_fr(b.valid_until))


def _credit_warnings(line: Line, credit: Bucket, now: datetime) -> list[str]:
    bloque = line.plan_family == PlanFamily.FORFAIT_BLOQUE
    if credit.valid_until is not None and credit.valid_until <= now:
        if bloque:
            return [_("Votre crédit du mois a pris fin le {date}.").format(date=date_fr(credit.valid_until))]
        return [
            _("Votre crédit de {amount} a expiré le {date}. Une Recharge Liberté le réactive.").format(
                amount=xpf(credit.remaining), date=date_fr(credit.valid_until)
            )
        ]
    warnings = []
    if credit.valid_until is not None:
        days = _days_until(credit.valid_until, now)
        if days <= WARN_DAYS:
            if bloque:
                warnings.append(
                    _("Votre crédit du mois se termine {when} (renouvellement le {date}).").format(
                        when=days_left_fr(days), date=date_fr(credit.valid_until + timedelta(seconds=1))
                    )
                )
            else:
                warnings.append(
                    _("Attention : votre crédit expire {when}, le {date}. Rechargez pour le conserver.").format(
                        when=days_left_fr(days), date=date_fr(credit.valid_until)
                    )
                )
    if credit.remaining < LOW_CREDIT_XPF:
        warnings.append(_("Votre crédit est presque épuisé : une Recharge Liberté permet de continuer."))
    return warnings


def _postpaid_balance(session: Session, line: Line, now: datetime) -> Reply:
    lines = _suspended_note(line)
    lines.append(
        _(
            "Votre ligne {number} est un {family} ({offer}) : "
            "pas de crédit à suivre, votre consommation du mois se consulte dans « Ma conso »."
        ).format(number=msisdn_fr(line.msisdn), family=family_fr(line.plan_family), offer=shown(line.offer.name))
    )
    extras = [
        t
        for b in _balances(session, line)
        if (t := _bucket_text(b, now)) and not (b.valid_until and b.valid_until <= now)
    ]
    if extras:
        lines.append(_("En plus de votre forfait :"))
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
    lines.append(
        _("Solde de la ligne {number} ({family}){as_of} :").format(
            number=msisdn_fr(line.msisdn), family=family_fr(line.plan_family), as_of=_as_of(buckets)
        )
    )
    lines.extend(t for b in buckets if (t := _bucket_text(b, now)))
    credit = next((b for b in buckets if b.kind == BucketKind.CREDIT), None)
    warnings = []
    if credit is None:
        lines.append("• " + _("Crédit : aucun"))
    else:
        warnings += _credit_warnings(line, credit, now)
    warnings += _low_data_warnings(buckets, now)
    quick = [QR_RECHARGE, QR_USAGE, QR_PURCHASES] if warnings else [QR_USAGE, QR_PURCHASES, QR_RECHARGE]
    return fit(Reply("\n".join(lines + warnings), quick_replies=quick))


FACET_BUCKETS = {"data": BucketKind.DATA, "sms": BucketKind.SMS, "voice": BucketKind.VOICE, "credit": BucketKind.CREDIT}
# Labels are marked N_() and translated where they are shown (_(FACET_LABELS[facet])).
FACET_LABELS = {
    "data": N_("Internet"),
    "sms": N_("SMS"),
    "voice": N_("Appels"),
    "credit": N_("Crédit"),
    "out_of_plan": N_("Hors forfait"),
}
LEFT_HEADINGS = {
    "data": N_("Internet restant"),
    "sms": N_("SMS restants"),
    "voice": N_("Appels restants"),
    "credit": N_("Crédit restant"),
}
USED_HEADINGS = {
    "data": N_("Consommation Internet"),
    "sms": N_("SMS envoyés"),
    "voice": N_("Appels passés"),
    "out_of_plan": N_("Hors forfait"),
}
QR_WHOLE_BALANCE = QuickReply(N_("Tout mon solde"), "/show_balance")
QR_BUY_DATA = QuickReply(N_("Acheter internet"), '/buy{"product_type":"data"}')


def _low_data_warnings(buckets: list[Bucket], now: datetime) -> list[str]:
    return [
        _("Internet presque épuisé : plus que {volume} ({label}).").format(
            volume=data_volume(b.remaining), label=shown(b.label)
        )
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
    heading = _("{heading} sur la ligne {number}{as_of} :").format(
        heading=_(LEFT_HEADINGS[facet]), number=msisdn_fr(line.msisdn), as_of=_as_of(buckets)
    )
    lines = _suspended_note(line) + [heading]
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
        return "• " + _(
            "Pas de crédit à suivre : votre {family} est payé chaque mois, "
            "votre consommation se consulte dans « Ma conso »."
        ).format(family=family_fr(line.plan_family))
    if facet == "voice" and _is_prepaid(line):
        return "• " + _("Pas de minutes à part : vos appels sont payés sur votre crédit.")
    return "• " + _("{label} : rien en ce moment.").format(label=_(FACET_LABELS[facet]))


def _allowance_left(session: Session, line: Line, now: datetime, facet: str) -> list[str]:
    operator = operator_for(session)
    period = operator.billing_period(line, now)
    if period is None:
        return []
    used = operator.usage_totals(line, period.starts_at, period.ends_at, in_plan=True)
    facets: dict[str, tuple[int | None, int, Callable[[int], str], str]] = {
        "data": (period.data_mb_allowance, used.data_mb, data_volume, _("Internet illimité")),
        "sms": (period.sms_allowance, used.sms, str, _("SMS illimités")),
        "voice": (period.voice_seconds_allowance, used.voice_seconds, voice_duration, _("appels illimités")),
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
        return ["• " + _("Forfait : {unlimited} jusqu'au {date}").format(unlimited=unlimited, date=last_day)]
    left = max(0, allowance - spent)
    text = (
        _("Forfait : {left} sur {allowance} jusqu'au {date} (épuisé)")
        if left == 0
        else _("Forfait : {left} sur {allowance} jusqu'au {date}")
    )
    return ["• " + text.format(left=fmt(left), allowance=fmt(allowance), date=last_day)]


# ------------------------------------------------------------------------------- usage


def _versus(used: int, allowance: int | None, fmt: Callable[[int], str], unlimited: str) -> str:
    """ "1 h 12 min sur 2 h", "86 (illimités)", "2 h sur 2 h (épuisé)"."""
    if allowance is None:
        return f"{fmt(used)} ({unlimited})"
    text = _("{used} sur {allowance} (épuisé)") if used >= allowance else _("{used} sur {allowance}")
    return text.format(used=fmt(used), allowance=fmt(allowance))


def _postpaid_usage(session: Session, line: Line, now: datetime, facet: str | None, back: int) -> Reply:
    operator = operator_for(session)
    period = operator.billing_period(line, now, back)
    if period is None:
        text = (
            _("Je ne trouve pas votre période de facturation en cours. Le service client (1000) peut vous renseigner.")
            if back == 0
            else _(
                "Je n'ai pas le détail de cette période : je ne garde que les derniers mois. "
                "Le service client (1000) peut vous renseigner."
            )
        )
        return fit(Reply(text, quick_replies=[QR_OFFER, QR_HELP]))
    used = operator.usage_totals(line, period.starts_at, period.ends_at, in_plan=True)
    last_day = period.ends_at - timedelta(seconds=1)
    what = _(USED_HEADINGS[facet]) if facet else _("Consommation")
    lines = _suspended_note(line)
    lines.append(
        _("{heading} de la ligne {number} du {start} au {end} :").format(
            heading=what, number=msisdn_fr(line.msisdn), start=date_fr(period.starts_at), end=date_fr(last_day)
        )
    )
    offer = line.offer
    if facet in (None, "voice") and (offer.voice_seconds or offer.voice_unlimited):
        calls = _versus(used.voice_seconds, period.voice_seconds_allowance, voice_duration, _("illimités"))
        lines.append("• " + _("Appels : {value}").format(value=calls))
    if facet in (None, "sms") and (offer.sms or offer.sms_unlimited):
        sms = _versus(used.sms, period.sms_allowance, str, _("illimités"))
        lines.append("• " + _("SMS : {value}").format(value=sms))
    if facet in (None, "data"):
        data = _versus(used.data_mb, period.data_mb_allowance, data_volume, _("illimité"))
        if period.data_mb_allowance and used.data_mb < period.data_mb_allowance:
            left = data_volume(period.data_mb_allowance - used.data_mb)
            lines.append("• " + _("Internet : {value}, reste {left}").format(value=data, left=left))
        else:
            lines.append("• " + _("Internet : {value}").format(value=data))
        if back == 0:
            for b in _balances(session, line):
                if b.kind == BucketKind.DATA and b.valid_until and b.valid_until > now:
                    left = _("{label} : {volume} restants").format(
                        label=shown(b.label), volume=data_volume(b.remaining)
                    )
                    lines.append("• " + left)
    if facet in (None, "out_of_plan"):
        extras = operator.out_of_plan(line, period.starts_at, min(now, period.ends_at))
        if extras:
            lines.append(_("Hors forfait : {total} au total").format(total=xpf(sum(r.amount_xpf for r in extras))))
            for r in extras[:MAX_OUT_OF_PLAN_SHOWN]:
                lines.append(
                    "• "
                    + _("{when} — {description} : {amount}").format(
                        when=datetime_fr(r.occurred_at), description=r.description, amount=xpf(r.amount_xpf)
                    )
                )
            if len(extras) > MAX_OUT_OF_PLAN_SHOWN:
                lines.append(_("… et {count} autres.").format(count=len(extras) - MAX_OUT_OF_PLAN_SHOWN))
        else:
            lines.append(_("Aucun hors forfait sur cette période."))
    if facet is not None and len(lines) == 1 + len(_suspended_note(line)):
        lines.append("• " + _("{label} : non inclus dans votre forfait.").format(label=_(FACET_LABELS[facet])))
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
    heading = _(USED_HEADINGS[facet]) if facet else ""
    if back is None:
        start, end = now - timedelta(days=30), now
        head = _("{heading} des 30 derniers jours") if facet else _("Vos consommations des 30 derniers jours")
        head = head.format(heading=heading)
    else:
        window = accounts.months_back_window(now, back)
        start, end = window.start, window.end
        head = _("{heading} {of_month}") if facet else _("Vos consommations {of_month}")
        head = head.format(heading=heading, of_month=de(month_name(window)))
    used = operator_for(session).usage_totals(line, start, end, in_plan=None)
    lines = _suspended_note(line) + [
        _("{heading} (ligne {number}) :").format(heading=head, number=msisdn_fr(line.msisdn))
    ]
    if facet in (None, "voice"):
        lines.append("• " + _("Appels : {value}").format(value=voice_duration(used.voice_seconds)))
    if facet in (None, "sms"):
        lines.append("• " + _("SMS : {value}").format(value=used.sms))
    if facet in (None, "data") and (used.data_mb or facet == "data"):
        lines.append("• " + _("Internet : {value}").format(value=data_volume(used.data_mb)))
    if facet == "out_of_plan":
        lines.append("• " + _("Pas de hors forfait sur une ligne prépayée : tout est payé sur le crédit."))
    if used.amount_xpf and facet in (None, "credit"):
        lines.append(_("Crédit utilisé : {amount}.").format(amount=xpf(used.amount_xpf)))
    return fit(Reply("\n".join(lines), quick_replies=[QR_BALANCE, QR_RECHARGE, QR_HELP]))


def _months_ago(now: datetime, months_back: int | None, month: int | None) -> int | None:
    """Months between this one and the one asked ("le mois dernier" → 1, "en octobre" in December → 2)."""
    if months_back is not None:
        return max(0, int(months_back))
    mon, _problem = parse_month(month)
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
        return fit(Reply(_("Vous n'avez aucune notification."), quick_replies=[*next_steps(line)[:2], QR_MY_ALERTS]))
    if unread_total:
        head = ngettext(
            "Vous avez {count} notification non lue :", "Vous avez {count} notifications non lues :", unread_total
        ).format(count=unread_total)
    else:
        head = _("Aucune nouvelle notification. Les dernières :")
    lines, shown_unread = [head], 0
    for n in items:
        flag = ""
        if n.read_at is None:
            flag, n.read_at, shown_unread = _("[Nouveau]") + " ", now, shown_unread + 1
        entry = _("{date} — {title} : {body}").format(date=date_fr(n.created_at), title=n.title, body=cut(n.body, 200))
        lines.append(f"• {flag}{entry}")
    if unread_total > shown_unread:
        lines.append(_("D'autres notifications non lues suivent : redemandez-les pour les voir."))
    if current_language() != FRENCH:  # the operator writes them in French, and only in French
        lines.append(_("Les notifications sont rédigées en français par Mobilis."))
    session.flush()
    return fit(Reply("\n".join(lines), quick_replies=[*next_steps(line)[:2], QR_MY_ALERTS]))


# --------------------------------------------------------------------------- documents


def documents_reply() -> Reply:
    """Contractual documents from data/catalogue.yml, as URL buttons (at most 3)."""
    docs = load_catalogue().documents
    in_french = documents_in_french(docs)  # the French text is the contract: say so to English speakers
    head = _("Les documents contractuels Mobilis (en français) :") if in_french else None
    lines = [head or _("Les documents contractuels Mobilis :")]
    lines += [f"• {shown(d.label)}" for d in docs[:TEMPLATE_BUTTON_LIMIT]]
    lines += [  # no room for more buttons
        "• " + _("{label} : {url}").format(label=shown(d.label), url=document_url(d))
        for d in docs[TEMPLATE_BUTTON_LIMIT:]
    ]
    buttons = [Button(title=shown(d.title), url=document_url(d)) for d in docs[:TEMPLATE_BUTTON_LIMIT]]
    return fit(Reply("\n".join(lines), buttons=buttons, quick_replies=[QR_OFFER, QR_HELP]))
