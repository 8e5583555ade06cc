"""A subscriber's message as an editor may read it: numbers, codes, e-mail addresses and names
masked. The review queue only ever stores this form."""

from __future__ import annotations

import re

from bot.logmask import mask

MAX_LEN = 300
NAME, EMAIL, NUMBER = "[nom]", "[email]", "[numéro]"

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# Card numbers, customer references, foreign phone numbers: 7 digits or more, spaced or not
# (amounts such as "3000" or "100 000" stay: they are what the message is about).
_LONG_NUMBER = re.compile(r"(?<![\d*])\+?\d(?:[\s.\-]?\d){6,}(?![\d*])")
# A name follows these words whatever its case; after a title it is the next one or two words.
_NAME_CUES = re.compile(
    r"(?i)\b(je m['\s]?appel+e?|j'?m['\s]?appel+e?|mon nom (?:est|c'?est)|moi c['\s]?est"
    r"|c['\s]?est (?:mr|mme|monsieur|madame)|my name is|(?:mr|mme|mlle|monsieur|madame|mister|mrs|ms)\.?)\s+"
    r"([^\W\d_][\w'\-]*(?:\s+[A-ZÀ-Ý][\w'\-]*)?)"
)
_SIGNATURE = re.compile(
    r"(?i)\b(cordialement|merci d'avance|bien a vous|bien à vous|regards|thanks),?\s+([A-ZÀ-Ý][\w'\-]+)"
)


def masked(text: str | None) -> str:
    """The text with personal data replaced, at most MAX_LEN characters."""
    value = " ".join((text or "").split())
    value = _EMAIL.sub(EMAIL, value)
    value = mask(value)  # New Caledonian numbers, one-time codes, tokens
    value = _LONG_NUMBER.sub(NUMBER, value)
    value = _NAME_CUES.sub(lambda m: f"{m.group(1)} {NAME}", value)
    value = _SIGNATURE.sub(lambda m: f"{m.group(1)} {NAME}", value)
    return value[:MAX_LEN]
