"""Mobilis phone numbers: New Caledonia (+687), 6 digits, mobiles start with 5, 7, 8 or 9.

Users type numbers in many shapes ("79 12 34", "+687 79.12.34", "00687791234"); everything is
normalised to the 6 national digits, which is how `lines.msisdn` is stored.
"""

from __future__ import annotations

import re

from bot.services.i18n import _

COUNTRY_CODE = "687"
MOBILE_FIRST_DIGITS = frozenset("5789")
LANDLINE_FIRST_DIGITS = frozenset("234")
EXAMPLE = "79 12 34"

# Separators people put between digit pairs; anything else (letters…) makes the text invalid.
_SEPARATORS = re.compile(r"[\s.\-/()\u00a0\u202f]+")
# One separator at most between two digits, so a number never swallows neighbouring words.
_CANDIDATE = re.compile(r"(?<![\d+])(?:\+|00)?\d(?:[ .\-\u00a0\u202f]?\d)+(?!\d)")


class InvalidNumber(ValueError):
    """The text is not a New Caledonia mobile number; `message` is French, for the user."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # stable code for tests/analytics: empty, format, foreign, length, landline, not_mobile
        self.message = message


def parse_mobilis_number(text: str) -> str:
    """Return the 6 national digits of a New Caledonia mobile number, or raise InvalidNumber."""
    raw = _SEPARATORS.sub("", text or "")
    if not raw:
        raise InvalidNumber(
            "empty",
            _(
                "Je n'ai pas trouvé de numéro. Indiquez votre numéro Mobilis à 6 chiffres, par exemple {example}."
            ).format(example=EXAMPLE),
        )
    international = raw.startswith("+") or raw.startswith("00")
    digits = raw[1:] if raw.startswith("+") else raw[2:] if raw.startswith("00") else raw
    if not digits.isdigit():
        raise InvalidNumber(
            "format",
            _("Un numéro ne contient que des chiffres, par exemple {example}. Pouvez-vous le retaper ?").format(
                example=EXAMPLE
            ),
        )
    if international and not digits.startswith(COUNTRY_CODE):
        raise InvalidNumber(
            "foreign",
            _(
                "Ce numéro n'est pas un numéro de Nouvelle-Calédonie (+687). "
                "Indiquez votre numéro Mobilis à 6 chiffres, par exemple {example}."
            ).format(example=EXAMPLE),
        )
    if (international or len(digits) == 9) and digits.startswith(COUNTRY_CODE):
        digits = digits[len(COUNTRY_CODE) :]
    if len(digits) != 6:
        raise InvalidNumber(
            "length",
            _("Un numéro Mobilis compte 6 chiffres, par exemple {example}. Pouvez-vous vérifier ?").format(
                example=EXAMPLE
            ),
        )
    if digits[0] in LANDLINE_FIRST_DIGITS:
        raise InvalidNumber(
            "landline",
            _(
                "Ce numéro est celui d'une ligne fixe. Indiquez votre numéro de mobile Mobilis, "
                "qui commence par 5, 7, 8 ou 9."
            ),
        )
    if digits[0] not in MOBILE_FIRST_DIGITS:
        raise InvalidNumber(
            "not_mobile",
            _(
                "Ce numéro n'est pas un numéro de mobile calédonien : un numéro Mobilis commence par "
                "5, 7, 8 ou 9, par exemple {example}."
            ).format(example=EXAMPLE),
        )
    return digits


def find_number_in_text(text: str) -> str | None:
    """Extract the first mobile number from a sentence ("mon num c 79 12 34").

    Returns None when the text holds nothing shaped like a phone number (amounts such as
    "1 050 F" or times are ignored), and raises InvalidNumber when it holds a number that is not
    a mobile (e.g. a landline) so the bot can say why.
    """
    first_error: InvalidNumber | None = None
    for match in _CANDIDATE.finditer(text or ""):
        candidate = match.group(0)
        digits = re.sub(r"\D", "", candidate)
        shaped_like_phone = (
            len(digits) == 6
            or (len(digits) == 9 and digits.startswith(COUNTRY_CODE))
            or candidate.startswith(("+", "00"))
        )
        if not shaped_like_phone:
            continue
        try:
            return parse_mobilis_number(candidate)
        except InvalidNumber as exc:
            # Only errors a person would make about their own number; "12.03.26" is a date.
            if exc.reason in {"landline", "foreign"}:
                first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return None


def format_number(msisdn: str) -> str:
    """ "791234" → "79 12 34", the way numbers are written in New Caledonia."""
    return " ".join(msisdn[i : i + 2] for i in range(0, len(msisdn), 2))


def mask_number(msisdn: str) -> str:
    """ "791234" → "79****": enough to recognise a line, never the full number (logs, screens)."""
    return (msisdn or "")[:2] + "****"
