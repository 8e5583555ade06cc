"""The language a Messenger user is answered in, remembered per PSID (part of "mes données").

French unless the user asks for English ("English please", the menu) or writes in English. A
language the user asked for is kept until they ask for another; a detected one follows what they
write (a French speaker who typed "thx" once is back in French with their next French sentence).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.db.base import changed_rows
from bot.db.language import ConversationLanguage, LanguageSource
from bot.services.i18n import N_, _, current_language, speaking
from bot.services.language.detection import ENGLISH, FRENCH, language_of, plain_words
from bot.services.replies import QuickReply

DEFAULT = FRENCH
# The persistent menu's "English / Français" and the chip offered to Tourism Card lines: the other
# language (answered by the webhook, bot/channel/conversation_language.py, never by Rasa).
SWITCH_PAYLOAD = "/switch_language"
QR_ENGLISH = QuickReply("English", SWITCH_PAYLOAD)  # the same word in both languages
SUPPORTED = (FRENCH, ENGLISH)
NAMES = {FRENCH: N_("français"), ENGLISH: N_("anglais")}  # for "mes données"

# Whole messages that ask for a language (accents, case and punctuation aside).
_REQUESTS = {
    ENGLISH: re.compile(
        r"^(?:(?:in|speak|talk|switch to|change to|can you speak|do you speak|can we speak|en|parle|parlez|"
        r"parler|tu parles|vous parlez) )?(?:english|anglais|eng)(?: (?:please|pls|plz|svp|stp))?$"
    ),
    FRENCH: re.compile(
        r"^(?:(?:in|speak|talk|switch to|change to|en|parle|parlez|parler|tu parles|vous parlez|repasse en|"
        r"retour en) )?(?:french|francais|fr)(?: (?:please|pls|plz|svp|stp))?$"
    ),
}


def english_offer() -> list[QuickReply]:
    """The "English" chip on the first answers a visitor may get in French (the greeting, the
    consent intro): a one-word hello reads as either language, and French is the default."""
    return [QR_ENGLISH] if current_language() == FRENCH else []


@dataclass(frozen=True)
class Change:
    before: str
    after: str
    chosen: bool  # True: asked for by the user; False: read from their message


def current(session: Session, psid: str) -> str:
    row = session.get(ConversationLanguage, psid)
    return row.language if row is not None and row.language in SUPPORTED else DEFAULT


@contextmanager
def speaking_to(session: Session, psid: str) -> Iterator[None]:
    """Texts built inside are in this user's language: for messages sent outside a conversation
    turn (payment results, receipts of purchases settled later, alerts)."""
    with speaking(current(session, psid)):
        yield


def requested(text: str) -> str | None:
    """The language a message asks for by itself ("English please", "en français svp"), or None."""
    said = " ".join(plain_words(text))
    return next((lang for lang, pattern in _REQUESTS.items() if pattern.match(said)), None)


def choose(session: Session, psid: str, language: str, now: datetime) -> Change:
    if language not in SUPPORTED:
        raise ValueError(f"unsupported language {language!r}")
    before = current(session, psid)
    _store(session, psid, language, LanguageSource.CHOSEN, now)
    return Change(before, language, chosen=True)


def observe(session: Session, psid: str, text: str, now: datetime) -> Change | None:
    """Follow the language the user writes in, unless they chose one; the change, if any."""
    asked = requested(text)
    if asked is not None:
        return choose(session, psid, asked, now)
    row = session.get(ConversationLanguage, psid)
    if row is not None and row.source == LanguageSource.CHOSEN:
        return None
    before = current(session, psid)
    written = language_of(text)
    if written is None or written == before:
        return None
    _store(session, psid, written, LanguageSource.DETECTED, now)
    return Change(before, written, chosen=False)


def summary(session: Session, psid: str) -> str | None:
    """For "mes données": the language kept for this user, or None when nothing is kept."""
    row = session.get(ConversationLanguage, psid)
    if row is None:
        return None
    how = _("choisie par vous") if row.source == LanguageSource.CHOSEN else _("déduite de vos messages")
    return _("{language} ({how})").format(language=_(NAMES.get(row.language, row.language)), how=how)


def forget(session: Session, psid: str) -> int:
    return changed_rows(session.execute(delete(ConversationLanguage).where(ConversationLanguage.psid == psid)))


def _store(session: Session, psid: str, language: str, source: LanguageSource, now: datetime) -> None:
    row = session.get(ConversationLanguage, psid)
    if row is None:
        session.add(ConversationLanguage(psid=psid, language=language, source=source, updated_at=now))
        return
    row.language, row.source, row.updated_at = language, source, now
