"""What a message says in figures and filters: codes, amounts, volumes, ordinals, months, days,
which part of the plan ("et en internet ?").

Plain regular expressions on the raw text: the NLU tokenizer drops "F", splits "5go" badly and
turns every number into the same feature (field notes), so actions and the context resolver
read figures here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.services.dialogue.words import normalise, squash, tokens
from bot.services.fr_format import MB_PER_GB

# ---------------------------------------------------------------------------- one-time codes

# Outside a code question, a code is 6 digits in one block or as 3 + 3 ("482 913"); "79 12 34"
# is then a phone number. Right after a code was sent, any 6 digits are the code.
_CODE_STRICT = re.compile(r"(?<![\d])(\d{3}[ .\-]?\d{3})(?![\d])")
_CODE_ANY = re.compile(r"(?<![\d])(\d(?:[ .\-]?\d){5})(?![\d])")
_PHONE_WORDS = re.compile(r"\b(num|numero|numéro|n°|tel|tél|portable|ligne|mobile|telephone|téléphone)\b", re.I)


def find_code(text: str | None, *, code_expected: bool = False) -> str | None:
    """The 6 digits of a one-time code in the text, or None."""
    pattern = _CODE_ANY if code_expected else _CODE_STRICT
    match = pattern.search(text or "")
    return re.sub(r"\D", "", match.group(1)) if match else None


def mentions_phone(text: str | None) -> bool:
    """ "mon numero c'est…", "tel", "ligne": the digits that follow are a phone number."""
    return bool(_PHONE_WORDS.search(text or ""))


# -------------------------------------------------------------------------- products asked

_TOPUP = re.compile(r"\btop[\s_-]?up\b|\btopup\b", re.I)
_IMD = re.compile(r"\bimd\b|\bà la demande\b|\ba la demande\b", re.I)
_RL = re.compile(r"\brecharg\w*|\brl\b|\blibert[ée]\b", re.I)
_DATA = re.compile(r"\bpass\b|\binternet\b|\bdata\b|\bgiga\w*|\bforfait internet\b", re.I)
_VOLUME = re.compile(r"(?<![\d,.])(\d+(?:[.,]\d+)?)\s*(go|gb|gigas?|g[ée]ga(?:octets?)?|mo|mb|m[ée]gas?)\b", re.I)
_PHONE = re.compile(r"(?:\+?687[\s.]?)?\b\d{2}[\s.]\d{2}[\s.]\d{2}\b")
# "3000", "3 000", "3.000", "3 000" (no-break spaces), then an optional currency word.
_AMOUNT = re.compile(
    r"(?<![\d,.])(\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d+)(?![\d,.])\s*(?:f\b|xpf\b|cfp\b|francs?\b)?", re.I
)


@dataclass(frozen=True)
class ProductAsk:
    """What a message asks to buy. `kind`: "RL", "IMD", "TOPUP" or None; `wants_data`: a generic
    data word ("pass", "internet", "go") that fits IMD or TOP UP, whichever the line may buy."""

    kind: str | None = None
    wants_data: bool = False
    amount_xpf: int | None = None
    data_mb: int | None = None

    @property
    def empty(self) -> bool:
        return self == ProductAsk()


def product_ask(text: str | None) -> ProductAsk:
    """'recharge 3 000 F' → RL, 3000 F; 'top up 5go' → TOPUP, 5120 MB; 'pass 500 mo' → data, 500 MB."""
    text = (text or "").strip()
    if not text:
        return ProductAsk()
    kind = "TOPUP" if _TOPUP.search(text) else "IMD" if _IMD.search(text) else None
    volume = None
    match = _VOLUME.search(text)
    if match:
        volume = _megabytes(match.group(1), match.group(2))
        text = text[: match.start()] + " " + text[match.end() :]
    if kind is None and _RL.search(text) and volume is None:
        kind = "RL"
    wants_data = kind is None and (volume is not None or bool(_DATA.search(text)))
    text = _PHONE.sub(" ", text)  # "recharge 1000 pour le 79 12 34": the number is not an amount
    amount = None
    match = _AMOUNT.search(text)
    if match:
        amount = int(re.sub(r"\D", "", match.group(1)))
    return ProductAsk(kind, wants_data, amount, volume)


def _megabytes(number: str, unit: str) -> int:
    value = float(number.replace(",", "."))
    return round(value * MB_PER_GB) if unit.lower().startswith("g") else round(value)


# ------------------------------------------------------------------------------ ordinals

_ORDINALS = {
    "premier": 1,
    "premiere": 1,
    "1er": 1,
    "1ere": 1,
    "1e": 1,
    "un": 1,
    "une": 1,
    "deuxieme": 2,
    "deuxième": 2,
    "second": 2,
    "seconde": 2,
    "2eme": 2,
    "2e": 2,
    "2nd": 2,
    "2nde": 2,
    "deux": 2,
    "troisieme": 3,
    "3eme": 3,
    "3e": 3,
    "trois": 3,
    "quatrieme": 4,
    "4eme": 4,
    "4e": 4,
    "quatre": 4,
    "cinquieme": 5,
    "5eme": 5,
    "5e": 5,
    "cinq": 5,
    "sixieme": 6,
    "6eme": 6,
    "6e": 6,
    "dernier": -1,
    "derniere": -1,
    # English (visitors): none of these is a French word
    "first": 1,
    "1st": 1,
    "one": 1,
    "third": 3,
    "3rd": 3,
    "three": 3,
    "fourth": 4,
    "4th": 4,
    "four": 4,
    "fifth": 5,
    "5th": 5,
    "five": 5,
    "sixth": 6,
    "6th": 6,
    "last": -1,
}
_ORDINAL_CONTEXT = re.compile(r"^(?:le|la|l|celui|celle|choix|option|numero|num|n|no|#|the|number|choice)?\s*(\d)\s*$")


def ordinal(text: str | None) -> int | None:
    """1-based position named in a short reply ("le deuxième", "2", "la dernière" → -1), or None."""
    words = normalise(text).replace("'", " ").split()
    if not words or len(words) > 4:
        return None
    for word in words:
        word = word.strip(".,!?")
        if word in _ORDINALS:
            return _ORDINALS[word]
    match = _ORDINAL_CONTEXT.match(" ".join(w.strip(".,!?") for w in words))
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- when, what

_MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fev": 2,
    "fevr": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
    # English ("may" is also a verb: only "in may", "of may"… below)
    "january": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_ENGLISH_MAY = re.compile(r"\b(?:in|of|for|since|during) may\b")
_WEEKDAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_LAST_MONTH = re.compile(
    r"\bmois (?:dernier|passe|precedent|d avant|avant)\b|\bdernier mois\b|\b(?:last|previous|past) month\b"
)
_THIS_MONTH = re.compile(r"\bce mois(?: ci| la)?\b|\bmois (?:en cours|actuel)\b|\bcemois\b|\b(?:this|current) month\b")
_MONTHS_AGO = re.compile(r"\bil y a (\d|deux|trois) mois\b|\b(\d|two|three) months? ago\b")
_DAYS = {
    "aujourd hui": 0,
    "aujourdhui": 0,
    "auj": 0,
    "ajd": 0,
    "ojd": 0,
    "avant hier": 2,
    "hier": 1,
    "today": 0,
    "day before yesterday": 2,
    "yesterday": 1,
}
_PRODUCT_WORDS = (
    ("TOPUP", re.compile(r"\btop ?ups?\b")),
    ("IMD", re.compile(r"\b(?:imd|pass|passes|forfait internet|internet a la demande)\b")),
    ("RL", re.compile(r"\b(?:recharges?|rl|recharge liberte)\b")),
)


@dataclass(frozen=True)
class HistoryFilter:
    """Filters of a purchase-history question. `months_back`: 0 this month, 1 last month…;
    `days_back`: 0 today, 1 yesterday; `weekday`: 0 Monday … 6 Sunday (the latest one)."""

    product_type: str | None = None
    month: int | None = None
    months_back: int | None = None
    days_back: int | None = None
    weekday: int | None = None

    @property
    def empty(self) -> bool:
        return self == HistoryFilter()

    def as_entities(self) -> dict[str, str]:
        """Entities for show_purchases: product_type, month and `period` ("m1" one month back,
        "d0" today, "w0" the latest Monday)."""
        entities = {}
        if self.product_type:
            entities["product_type"] = self.product_type
        if self.month is not None:
            entities["month"] = str(self.month)
        if self.months_back is not None:
            entities["period"] = f"m{self.months_back}"
        elif self.days_back is not None:
            entities["period"] = f"d{self.days_back}"
        elif self.weekday is not None:
            entities["period"] = f"w{self.weekday}"
        return entities

    @classmethod
    def from_entities(cls, entities: dict[str, Any]) -> HistoryFilter:
        """The inverse of as_entities; values that do not fit are ignored."""
        product = str(entities.get("product_type") or "").strip().upper().replace(" ", "")
        month = str(entities.get("month") or "").strip()
        period = _PERIOD.fullmatch(str(entities.get("period") or "").strip())
        back = {"m": "months_back", "d": "days_back", "w": "weekday"}
        when = {back[period.group(1)]: int(period.group(2))} if period else {}
        if "weekday" in when and when["weekday"] > 6:
            when = {}
        return cls(
            product_type=product if product in {"RL", "IMD", "TOPUP"} else None,
            month=int(month) if month.isdigit() and 1 <= int(month) <= 12 else None,
            **when,
        )


_PERIOD = re.compile(r"([mdw])(\d{1,2})")


def history_filter(text: str | None) -> HistoryFilter:
    """ "mes recharges du mois dernier" → RL, 1 month back; "mon pass de lundi" → IMD, Monday."""
    flat = " ".join(normalise(text).replace("'", " ").replace("-", " ").split())
    flat = re.sub(r"[^\w ]", " ", flat)
    product = next((code for code, pattern in _PRODUCT_WORDS if pattern.search(flat)), None)
    month = months_back = days_back = weekday = None
    if _LAST_MONTH.search(flat):
        months_back = 1
    elif _THIS_MONTH.search(flat):
        months_back = 0
    elif (ago := _MONTHS_AGO.search(flat)) is not None:
        count = ago.group(1) or ago.group(2)
        months_back = {"deux": 2, "trois": 3, "two": 2, "three": 3}.get(count) or int(count)
    for phrase, back in _DAYS.items():
        if re.search(rf"\b{phrase}\b", flat):
            days_back = back
            break
    for word in flat.split():
        if month is None and months_back is None and word in _MONTHS:
            month = _MONTHS[word]
        if weekday is None and days_back is None and word in _WEEKDAYS:
            weekday = _WEEKDAYS[word]
    if month is None and months_back is None and _ENGLISH_MAY.search(flat):
        month = 5
    return HistoryFilter(product, month, months_back, days_back, weekday)


# Which part of the plan a follow-up is about.
FACETS = ("data", "sms", "voice", "credit", "out_of_plan")
_FACET_WORDS = (
    ("out_of_plan", re.compile(r"\bhors ?forfait\b|\bhf\b|\bdepassements?\b|\bout of (?:plan|bundle)\b")),
    ("data", re.compile(r"\b(?:internet|data|datas|net|web|giga|gigas|go|mo|megas?|4g|3g|5g|donnees)\b")),
    ("sms", re.compile(r"\b(?:sms|texto|textos|mms|messages? texte|texts|txts|text messages?)\b")),
    ("voice", re.compile(r"\b(?:appels?|minutes?|min|voix|communications?|heures?|appeler|calls?|mins)\b")),
    # "solde": the whole balance
    ("credit", re.compile(r"\b(?:credit|sous|argent|francs?|balles|thune|fric|money)\b")),
)


def facet(text: str | None) -> str | None:
    flat = " ".join(normalise(text).replace("'", " ").split())
    return next((name for name, pattern in _FACET_WORDS if pattern.search(flat)), None)


_CONNECTORS = {
    squash(w) for w in ("et", "e", "pis", "puis", "sinon", "aussi", "and", "ensuite", "ok", "daccord", "dac")
}
FOLLOW_UP_MAX_WORDS = 7


def is_follow_up(text: str | None) -> bool:
    """A short message that continues the topic: "et en internet ?", "et le mois dernier",
    "en sms ?", "pour octobre ?"."""
    words = tokens(text)
    if not words or len(words) > FOLLOW_UP_MAX_WORDS:
        return False
    if words[0] in _CONNECTORS:
        return True
    return len(words) <= 4 and words[0] in _FOLLOW_UP_STARTS


# "en sms ?", "pour octobre ?"; in English "what about data", "how about last month", "for october".
_FOLLOW_UP_STARTS = {
    "en",
    "pour",
    "de",
    "du",
    "le",
    "la",
    "les",
    "mes",
    "niveau",
    "cote",
    "for",
    "in",
    "my",
    "what",
    "how",
}
