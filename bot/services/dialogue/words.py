"""Normalising chat French for rule-based checks: "OUIII 👍", "d’accord", "jveux pa" → tokens.

Rules compare *squashed* words (accents removed, lower case, runs of one letter collapsed), so
"ouiiii", "nonnn", "daccord" and "d'accord" meet the same lexicon entry.
"""

from __future__ import annotations

import re
import unicodedata

# Emojis people answer with, read as the word they stand for.
EMOJI_WORDS = {
    "👍": " oui ",
    "👌": " ok ",
    "✅": " oui ",
    "✔": " oui ",
    "☑": " oui ",
    "🆗": " ok ",
    "🙆": " oui ",
    "👎": " non ",
    "❌": " non ",
    "✖": " non ",
    "🚫": " non ",
    "⛔": " non ",
    "🙅": " non ",
    "🤔": " hesite ",
    "😕": " hesite ",
    "🤷": " jsp ",
    "😬": " hesite ",
    "😡": " enerve ",
    "🤬": " enerve ",
    "😠": " enerve ",
    "🙄": " bof ",
    "😒": " bof ",
    "😏": " bof ",
}
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_TOKEN = re.compile(r"[a-z0-9]+")
_RUNS = re.compile(r"([a-z])\1+")
# Words whose double letter carries the meaning: "pass" (a data pass) is not "pas" (not).
_UNSQUASHED = frozenset({"pass"})
# Skin-tone modifiers and variation selectors that follow an emoji.
_EMOJI_TAILS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\u200d]")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise(text: str | None) -> str:
    """Lower case, no accents, straight apostrophes, emojis spelled out, single spaces."""
    text = _EMOJI_TAILS.sub("", (text or "").translate(_APOSTROPHES))
    for emoji, word in EMOJI_WORDS.items():
        text = text.replace(emoji, word)
    text = strip_accents(text.casefold())
    return " ".join(text.split())


def squash(word: str) -> str:
    """ "ouiii" → "oui", "daccord" → "dacord", "annuler" → "anuler"."""
    return word if word in _UNSQUASHED else _RUNS.sub(r"\1", word)


def tokens(text: str | None) -> list[str]:
    """Squashed word tokens; "j'annule" → ["j", "anule"], "482-913" → ["482", "913"]."""
    return [squash(t) for t in _TOKEN.findall(normalise(text))]


def has_question_mark(text: str | None) -> bool:
    return "?" in (text or "") or "¿" in (text or "")


def phrase_in(squashed_tokens: list[str], phrase: str) -> bool:
    """Whether the words of `phrase` (already squashed, space-separated) appear in a row."""
    words = phrase.split()
    n = len(words)
    return any(squashed_tokens[i : i + n] == words for i in range(len(squashed_tokens) - n + 1))
