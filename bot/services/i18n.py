"""What users read, in their language (French, or English for visitors).

French is the source language: texts are written in French in the code and marked `_("…")`; a
module-level constant is marked `N_("…")` and translated where it is used (`_(CONSTANT)`), since
the language is only known during a turn. English comes from the gettext catalogs
`bot/locale/en/*.po` (Babel reads them; one file per domain so translators and reviews stay small).
A text with values is a template: `_("Il reste {amount}.").format(amount=xpf(n))`, never an
f-string, so that the catalog holds the whole sentence and the translator can move the value.

The language of a turn is a context variable, set once by whoever answers the user
(`with speaking("en"): …`): the actions from the metadata the webhook sends, the webhook for the
texts it sends itself. A text missing from the English catalog is shown in French (the catalog
check lists them: tests/language/test_catalogs.py).
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FRENCH, ENGLISH = "fr", "en"
LANGUAGES = (FRENCH, ENGLISH)
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("mobilis_language", default=FRENCH)


def current_language() -> str:
    return _LANGUAGE.get()


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Every `_()` inside (this thread, or a task started from it with its context) speaks `language`."""
    token = _LANGUAGE.set(language if language in LANGUAGES else FRENCH)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def N_(message: str) -> str:  # gettext's name for "mark only, translate where used"
    return message


def _(message: str) -> str:
    language = _LANGUAGE.get()
    if language == FRENCH:
        return message
    translated = catalog(language).get(message)
    return translated if isinstance(translated, str) else message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for `count`: French takes the singular for 0 and 1, English only for 1."""
    language = _LANGUAGE.get()
    if language == FRENCH:
        return singular if abs(count) < 2 else plural
    forms = catalog(language).get((singular, plural))
    english = forms if isinstance(forms, tuple) else (singular, plural)
    return english[0] if abs(count) == 1 else english[1]


@functools.cache
def catalog(language: str) -> dict[object, str | tuple[str, str]]:
    """msgid → translation (msgid pair → forms for plurals) from every .po of the language.

    Fuzzy or empty translations are left out: the French text is shown rather than a guess."""
    from babel.messages.pofile import read_po

    found: dict[object, str | tuple[str, str]] = {}
    for path in sorted((LOCALE_DIR / language).glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if not message.id or message.fuzzy:
                    continue
                if isinstance(message.id, tuple):
                    forms = tuple(message.string or ())
                    if len(forms) >= 2 and all(forms):
                        found[message.id] = (forms[0], forms[1])
                elif isinstance(message.string, str) and message.string:
                    found[message.id] = message.string
    return found
