"""Alert settings answered by the webhook itself, before Rasa.

"Mes alertes", its chips and "Stop alertes" are buttons: which alert, which threshold, night or not
all come from the payload, never from words, so they need no language understanding. They stay out
of Rasa's domain on purpose: each intent added there changes the shape of the trained model (the
intent labels are featurised), enough to flip borderline answers elsewhere (README, Alerts).

Only real quick replies and postbacks carry these payloads; typed, only the chip labels themselves
("mes alertes", "stop alertes"; in English "my alerts", "stop alerts") are read as the command.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import bot.clock
from bot.channel.inbox import ClaimedEvent
from bot.services.alerts.menu import SETTINGS_INTENTS, settings_reply
from bot.services.dialogue.context import BUTTON_SOURCES, Context  # BUTTON_SOURCES: a tapped button's event kinds
from bot.services.dialogue.payloads import parse_payload
from bot.services.i18n import N_, _
from bot.services.replies import QR_HUMAN, QuickReply, Reply

log = logging.getLogger(__name__)

# The chip labels typed as they are (accents, capitals, punctuation, singular or plural aside).
TYPED_COMMAND = re.compile(r"^(mes|my|stop) alert(?:e|es|s)?$")
TYPED_INTENTS = {"mes": "manage_alerts", "my": "manage_alerts", "stop": "stop_alerts"}
FAILED_TEXT = N_(
    "Désolé, je n'arrive pas à modifier vos alertes pour le moment. Réessayez dans quelques minutes, "
    "ou appelez le 1000 (service client Mobilis)."
)


def settings_request(event: ClaimedEvent) -> tuple[str, dict[str, Any]] | None:
    """(intent, entities) when this event is an alert-settings request, else None."""
    text = event.text or ""
    if event.kind in BUTTON_SOURCES:
        parsed = parse_payload(text)
        return parsed if parsed is not None and parsed[0] in SETTINGS_INTENTS else None
    if event.kind == "text":
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        command = TYPED_COMMAND.match(" ".join(re.sub(r"[^a-z ]+", " ", plain).split()))
        return (TYPED_INTENTS[command.group(1)], {}) if command else None
    return None


class AlertSettingsGate:
    def __init__(self, sessions: Callable[[], Session], clock: Callable[[], datetime] | None = None):
        self._sessions = sessions
        self.clock = clock or bot.clock.utcnow

    def reply_for(self, event: ClaimedEvent) -> Reply | None:
        """The answer when the event is an alert-settings request (None: Rasa answers it)."""
        request = settings_request(event)
        if request is None:
            return None
        intent, entities = request
        try:
            with self._sessions() as session:
                values = {name: str(value) for name, value in entities.items()}
                return settings_reply(session, event.sender_id, intent, values, self.clock())
        except Exception:  # logged; the user is told, with the same button to try again
            log.exception("event %s: alert settings failed", event.id)
            retry = event.text if event.kind in BUTTON_SOURCES else f"/{intent}"
            return Reply(text=_(FAILED_TEXT), quick_replies=[QuickReply(_("Réessayer"), retry or ""), QR_HUMAN])


def context_of(reply: Reply) -> dict[str, Any] | None:
    """What the answer asks, kept like an action's declaration (a number after "votre numéro ?")."""
    declared = {k: v for k, v in Context(question=reply.asks).as_json().items() if v is not None}
    return declared or None
