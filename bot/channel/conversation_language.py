"""The language of each turn, decided by the webhook before anything is answered.

A typed message may change it (bot.services.language.preference: asked for, or written in another
language); a tapped button never does. A message that only asks for a language ("English please",
"Français") is answered here. When the language changes on its own, the answer starts with one line
saying so and how to go back. A language without its own NLU model falls back to French.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import bot.clock
from bot.channel.inbox import ClaimedEvent
from bot.services.dialogue.context import BUTTON_SOURCES  # the event kinds of a tapped button
from bot.services.i18n import ENGLISH, FRENCH, N_, _, speaking
from bot.services.language import preference
from bot.services.replies import MENU, Reply

log = logging.getLogger(__name__)

SWITCH_PAYLOAD = preference.SWITCH_PAYLOAD
ONLY_FRENCH = N_("Je ne peux vous répondre qu'en français pour le moment. Sorry, only French is available for now.")
# Each notice is written in the new language, with the way back in the other one.
SWITCHED = {
    "en": N_("C'est noté, je vous réponds en anglais. Pour revenir au français, écrivez « Français »."),
    "fr": N_("C'est noté, je vous réponds en français. Prefer English? Type “English”."),
}
FOLLOWED = {
    "en": N_("(Je vous réponds en anglais. Pour le français, écrivez « Français ».)"),
    "fr": N_("(Je vous réponds en français. For English, type “English”.)"),
}


@dataclass(frozen=True)
class TurnLanguage:
    language: str
    notice: Reply | None = None  # sent before the answer: the language just changed
    answer: Reply | None = None  # the whole answer: the message only asked for a language


class LanguageKeeper:
    def __init__(
        self,
        sessions: Callable[[], Session],
        available: frozenset[str],
        clock: Callable[[], datetime] | None = None,
    ):
        self._sessions = sessions
        self.available = available | {FRENCH}
        self.clock = clock or bot.clock.utcnow

    def for_turn(self, event: ClaimedEvent) -> TurnLanguage:
        if len(self.available) < 2 and not self._asks_to_switch(event):
            return TurnLanguage(FRENCH)  # French only: nothing to read or keep
        try:
            with self._sessions() as session:
                decided = self._decide(session, event)
                session.commit()
                return decided
        except Exception:  # the language is a comfort: a failure must not cost the answer
            log.exception("event %s: conversation language unknown, answering in French", event.id)
            return TurnLanguage(FRENCH)

    def kept(self, psid: str) -> str:
        """The user's language as kept, without reading the message: for what the hand-off gate says
        while an agent has the conversation (a message for the agent never switches the language)."""
        if len(self.available) < 2:
            return FRENCH
        try:
            with self._sessions() as session:
                return self._usable(preference.current(session, psid))
        except Exception:
            log.exception("conversation language of %s unknown, answering in French", psid[-4:])
            return FRENCH

    def _decide(self, session: Session, event: ClaimedEvent) -> TurnLanguage:
        psid, text = event.sender_id, event.text or ""
        current = self._usable(preference.current(session, psid))
        if self._asks_to_switch(event):
            if len(self.available) < 2:
                return TurnLanguage(FRENCH, answer=Reply(_(ONLY_FRENCH), quick_replies=list(MENU)))
            return self._switch(session, psid, ENGLISH if current == FRENCH else FRENCH)
        if event.kind != "text" or len(self.available) < 2:
            return TurnLanguage(current)
        asked = preference.requested(text)
        if asked is not None and asked in self.available:
            return self._switch(session, psid, asked)
        change = preference.observe(session, psid, text, self.clock())
        language = self._usable(preference.current(session, psid))
        if change is None or change.after != language:
            return TurnLanguage(language)
        with speaking(language):
            return TurnLanguage(language, notice=Reply(_(FOLLOWED[language])))

    @staticmethod
    def _asks_to_switch(event: ClaimedEvent) -> bool:
        return event.kind in BUTTON_SOURCES and (event.text or "").strip() == SWITCH_PAYLOAD

    def _switch(self, session: Session, psid: str, language: str) -> TurnLanguage:
        preference.choose(session, psid, language, self.clock())
        with speaking(language):
            return TurnLanguage(language, answer=Reply(_(SWITCHED[language]), quick_replies=list(MENU)))

    def _usable(self, language: str) -> str:
        return language if language in self.available else FRENCH


def in_turn_language(message: dict[str, Any]) -> dict[str, Any]:
    """A Send API message with its texts in the turn's language: the Rasa domain's own responses
    (utter_*) are written in French; the actions' replies come already translated (then `_()`
    finds nothing to change)."""
    translated = dict(message)
    if isinstance(translated.get("text"), str):
        translated["text"] = _(translated["text"])
    if isinstance(translated.get("quick_replies"), list):
        translated["quick_replies"] = [
            {**chip, "title": _(chip["title"])}
            if isinstance(chip, dict) and isinstance(chip.get("title"), str)
            else chip
            for chip in translated["quick_replies"]
        ]
    return translated
