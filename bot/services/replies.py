"""Channel-neutral answers produced by services; actions turn them into Rasa messages.

Limits mirror Messenger's so that a service can never build something the channel would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.dialogue.context import Question, Topic


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
