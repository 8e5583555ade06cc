"""French formats for what subscribers read: amounts, dates, volumes, durations, numbers.

Separator choice: a plain space (U+0020) for thousands and before units ("1 050 F", "500 Mo").
French typography would want a no-break space, but Messenger chips and cards wrap rarely at
these lengths, and a visible, typeable space keeps tests, logs and NLU training data simple.
Times are stored in UTC and always shown in New Caledonia time (UTC+11, no daylight saving).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

NOUMEA = ZoneInfo("Pacific/Noumea")
SPACE = " "
MB_PER_GB = 1024  # operators count 1 Go = 1024 Mo; the catalogue uses the same rule


def _group(n: int) -> str:
    """12345 → "12 345"."""
    return f"{n:,}".replace(",", SPACE)


def xpf(amount: int) -> str:
    """1050 → "1 050 F" (XPF has no subunit)."""
    sign = "-" if amount < 0 else ""
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
    """→ "12/12/2026" (the day in Nouméa for datetimes)."""
    return local_date(value).strftime("%d/%m/%Y")


def short_date_fr(value: date | datetime) -> str:
    """→ "12/12" for lists where the year is obvious."""
    return local_date(value).strftime("%d/%m")


def datetime_fr(moment: datetime) -> str:
    """→ "12/12/2026 à 14:05" in Nouméa time."""
    return to_noumea(moment).strftime("%d/%m/%Y à %H:%M")


def _decimal(value: float) -> str:
    """One decimal with a French comma, without a useless ",0": 1.5 → "1,5", 2.0 → "2"."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    integer, _, frac = text.partition(".")
    integer = _group(int(integer))
    return f"{integer},{frac}" if frac else integer


def data_volume(mb: int) -> str:
    """500 → "500 Mo", 1536 → "1,5 Go", 10240 → "10 Go"."""
    if abs(mb) < MB_PER_GB:
        return f"{_group(int(mb))}{SPACE}Mo"
    return f"{_decimal(mb / MB_PER_GB)}{SPACE}Go"


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
    """French rule: 0 and 1 take the singular ("0 jour", "1 jour", "2 jours")."""
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
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


def month_fr(month: int, year: int | None = None) -> str:
    """(11, 2026) → "novembre 2026"."""
    name = MONTHS[month - 1]
    return f"{name} {year}" if year else name


def de(word: str) -> str:
    """French "de" before a word, elided before a vowel: "de mars", "d'avril", "d'août"."""
    return ("d'" if word[:1].lower() in "aeiouyhâàéèêîïôû" else "de ") + word


def days_left_fr(days: int) -> str:
    """0 → "aujourd'hui", 1 → "demain", 5 → "dans 5 jours"."""
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


def family_fr(family: str) -> str:
    """Plan family code ("forfait_m") → French label ("forfait M")."""
    return FAMILY_LABELS[getattr(family, "value", family)]
