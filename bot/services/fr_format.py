"""Formats for what subscribers read: amounts, dates, volumes, durations, numbers — French, and
English for visitors when the turn speaks English (bot.services.i18n): "1 050 F" / "1,050 XPF",
"12/12/2026" / "12 Dec 2026", "1,5 Go" / "1.5 GB".

Separator choice: a plain space (U+0020) for thousands and before units ("1 050 F", "500 Mo").
French typography would want a no-break space, but Messenger chips and cards wrap rarely at
these lengths, and a visible, typeable space keeps tests, logs and NLU training data simple.
Times are stored in UTC and always shown in New Caledonia time (UTC+11, no daylight saving).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.services.i18n import ENGLISH, current_language

NOUMEA = ZoneInfo("Pacific/Noumea")
SPACE = " "
MB_PER_GB = 1024  # operators count 1 Go = 1024 Mo; the catalogue uses the same rule


def _group(n: int) -> str:
    """12345 → "12 345"."""
    return f"{n:,}".replace(",", SPACE)


def xpf(amount: int) -> str:
    """1050 → "1 050 F" (XPF has no subunit); in English "1,050 XPF"."""
    sign = "-" if amount < 0 else ""
    if _english():
        return f"{sign}{abs(int(amount)):,} XPF"
    return f"{sign}{_group(abs(int(amount)))}{SPACE}F"


def to_noumea(moment: datetime) -> datetime:
    """Aware datetime in New Caledonia time; a naive value is taken as UTC (how it is stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(NOUMEA)


def local_date(value: date | datetime) -> date:
    """The calendar day in Nouméa for a stored instant (a plain date is returned as is)."""
    return to_noumea(value).date() if isinstance(value, datetime) else value


def day_start(day: date) -> datetime:
    """Midnight in Nouméa of `day`, as an aware UTC datetime (how times are stored)."""
    return datetime.combine(day, time(0), NOUMEA).astimezone(timezone.utc)


def end_of_day(day: date) -> datetime:
    """Last second of `day` in Nouméa (validity dates are whole days)."""
    return day_start(day + timedelta(days=1)) - timedelta(seconds=1)


def date_fr(value: date | datetime) -> str:
    """→ "12/12/2026" (the day in Nouméa for datetimes); in English "12 Dec 2026"."""
    day = local_date(value)
    return f"{day.day} {EN_MONTHS[day.month - 1][:3]} {day.year}" if _english() else day.strftime("%d/%m/%Y")


def short_date_fr(value: date | datetime) -> str:
    """→ "12/12" for lists where the year is obvious; in English "12 Dec"."""
    day = local_date(value)
    return f"{day.day} {EN_MONTHS[day.month - 1][:3]}" if _english() else day.strftime("%d/%m")


def datetime_fr(moment: datetime) -> str:
    """→ "12/12/2026 à 14:05" in Nouméa time; in English "12 Dec 2026, 14:05"."""
    local = to_noumea(moment)
    return f"{date_fr(local)}, {local:%H:%M}" if _english() else local.strftime("%d/%m/%Y à %H:%M")


def _decimal(value: float) -> str:
    """One decimal without a useless ",0": 1.5 → "1,5" ("1.5" in English), 2.0 → "2"."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    integer, _, frac = text.partition(".")
    if _english():
        return f"{int(integer):,}" + (f".{frac}" if frac else "")
    integer = _group(int(integer))
    return f"{integer},{frac}" if frac else integer


def data_volume(mb: int) -> str:
    """500 → "500 Mo", 1536 → "1,5 Go", 10240 → "10 Go" (English: "500 MB", "1.5 GB")."""
    mega, giga = ("MB", "GB") if _english() else ("Mo", "Go")
    if abs(mb) < MB_PER_GB:
        return f"{_decimal(int(mb))}{SPACE}{mega}"
    return f"{_decimal(mb / MB_PER_GB)}{SPACE}{giga}"


def voice_duration(seconds: int) -> str:
    """3900 → "1 h 05 min", 2700 → "45 min", 30 → "30 s", 750 → "12 min 30 s".

    Past an hour, seconds are left out: nobody reads "1 h 05 min 12 s" in a balance.
    """
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def msisdn_fr(msisdn: str) -> str:
    """ "791234" or "+687791234" → "79 12 34" (how numbers are written in New Caledonia)."""
    digits = "".join(ch for ch in msisdn if ch.isdigit())
    if len(digits) == 9 and digits.startswith("687"):
        digits = digits[3:]
    return SPACE.join(digits[i : i + 2] for i in range(0, len(digits), 2))


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "2 jours": French takes the singular for 0 and 1, English only for 1. The words are the
    turn's language already (`plural(n, _("jour"), _("jours"))`)."""
    single = abs(count) == 1 if _english() else abs(count) < 2
    word = singular if single else (plural_form or singular + "s")
    return f"{count} {word}"


MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def month_fr(month: int, year: int | None = None) -> str:
    """(11, 2026) → "novembre 2026" ("November 2026" in English)."""
    name = (EN_MONTHS if _english() else MONTHS)[month - 1]
    return f"{name} {year}" if year else name


def de(word: str) -> str:
    """French "de" before a word, elided before a vowel: "de mars", "d'avril", "d'août". English
    templates carry their own preposition: the word comes back as it is."""
    if _english():
        return word
    return ("d'" if word[:1].lower() in "aeiouyhâàéèêîïôû" else "de ") + word


def days_left_fr(days: int) -> str:
    """0 → "aujourd'hui", 1 → "demain", 5 → "dans 5 jours" (English: today, tomorrow, in 5 days)."""
    if _english():
        return "today" if days <= 0 else "tomorrow" if days == 1 else f"in {days} days"
    if days <= 0:
        return "aujourd'hui"
    return "demain" if days == 1 else f"dans {days} jours"


FAMILY_LABELS = {
    "liberte": "prépayé Liberté",
    "tourism_card": "Tourism Card",
    "forfait_bloque": "forfait bloqué",
    "forfait_horaire": "forfait horaire",
    "forfait_m": "forfait M",
    "data_seul": "abonnement data seul",
}


EN_FAMILY_LABELS = {
    "liberte": "Liberté prepaid",
    "tourism_card": "Tourism Card",
    "forfait_bloque": "capped plan (forfait bloqué)",
    "forfait_horaire": "hourly plan (forfait horaire)",
    "forfait_m": "M plan (forfait M)",
    "data_seul": "data-only plan",
}


def family_fr(family: str) -> str:
    """Plan family code ("forfait_m") → its label ("forfait M"; "M plan (forfait M)" in English)."""
    return (EN_FAMILY_LABELS if _english() else FAMILY_LABELS)[getattr(family, "value", family)]


def _english() -> bool:
    return current_language() == ENGLISH
