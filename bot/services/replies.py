"""Channel-neutral answers produced by services; actions turn them into Rasa messages.

Messenger's limits are defined here, once: services `fit` their replies within them, and the channel
(bot.channel.formatting) enforces the same numbers on whatever reaches it. The quick replies that
several answers share are defined here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.services.dialogue.context import Question, Topic
from bot.services.i18n import N_

# Messenger Platform limits (Send API; see docs/contracts.md).
STANDARD_WINDOW = timedelta(hours=24)  # after the user's last message; later, only utility templates
TEXT_LIMIT = 2000  # characters of a text message
QUICK_REPLY_LIMIT = 13  # quick replies on one message
QUICK_REPLY_TITLE_LIMIT = 20  # characters shown on a chip
BUTTON_TITLE_LIMIT = 20  # characters of a template button's title
BUTTON_TEXT_LIMIT = 640  # characters of a button template's text
TEMPLATE_BUTTON_LIMIT = 3  # buttons of a button template or a card
GENERIC_ELEMENT_LIMIT = 10  # cards of a generic template
ELEMENT_TEXT_LIMIT = 80  # characters of a card's title or subtitle
PAYLOAD_LIMIT = 1000  # characters of a postback or quick-reply payload
ELLIPSIS = "…"


@dataclass(frozen=True)
class QuickReply:
    title: str  # ≤ 20 characters shown on the chip
    payload: str  # usually a Rasa intent, e.g. "/show_offer"


@dataclass(frozen=True)
class Button:
    title: str
    url: str | None = None
    payload: str | None = None


@dataclass(frozen=True)
class Card:
    title: str
    subtitle: str = ""
    buttons: tuple[Button, ...] = ()


@dataclass
class Reply:
    text: str
    quick_replies: list[QuickReply] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    # What this reply asks (the user's next typed message may answer it) and what it shows
    # (for a follow-up such as "et en internet ?"); see bot.services.dialogue.context.
    asks: Question | None = None
    topic: Topic | None = None


# Quick replies shared by several answers (payloads are Rasa intents, docs/contracts.md).
QR_OFFER = QuickReply(N_("Mon offre"), "/show_offer")
QR_BALANCE = QuickReply(N_("Mon solde"), "/show_balance")
QR_USAGE = QuickReply(N_("Ma conso"), "/show_usage")
QR_PURCHASES = QuickReply(N_("Mes achats"), "/show_purchases")
QR_BUY = QuickReply(N_("Acheter"), "/buy")
QR_RECHARGE = QuickReply(N_("Recharger"), "/buy")
QR_AGENCIES = QuickReply(N_("Agences"), "/find_agency")
QR_HELP = QuickReply(N_("Aide"), "/help")
# "Parler à un conseiller" has 22 characters: Messenger cuts chip titles after 20.
QR_HUMAN = QuickReply(N_("Un conseiller"), "/human")
MENU = (QR_BALANCE, QR_USAGE, QR_BUY, QR_AGENCIES, QR_HUMAN)


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, an ellipsis marking what was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def fit(reply: Reply) -> Reply:
    """The reply within Messenger's limits, so that the channel never has to refuse it."""
    reply.text = cut(reply.text, TEXT_LIMIT)
    reply.quick_replies = [
        QuickReply(cut(q.title, QUICK_REPLY_TITLE_LIMIT), q.payload) for q in reply.quick_replies[:QUICK_REPLY_LIMIT]
    ]
    reply.buttons = reply.buttons[:TEMPLATE_BUTTON_LIMIT]
    reply.cards = [
        Card(cut(c.title, ELEMENT_TEXT_LIMIT), cut(c.subtitle, ELEMENT_TEXT_LIMIT), c.buttons[:TEMPLATE_BUTTON_LIMIT])
        for c in reply.cards[:GENERIC_ELEMENT_LIMIT]
    ]
    return reply


def phone_number(url: str) -> str | None:
    """The number of a `tel:+687…` link (a Messenger call button), None for any other link."""
    return url[4:].replace(" ", "") if url.lower().startswith("tel:") else None
