"""What the assistant just asked (question) and what it just talked about (topic).

Each reply may declare them (bot.services.replies.Reply.asks / .topic); the action server sends
the declaration with the turn's messages, the webhook keeps it per PSID with an expiry and hands
it back to Rasa with the next message (metadata `context`). A turn that declares nothing clears
it: the context is always the *last* thing the user saw. Nothing here is trusted for money or
privacy on its own — the actions re-check every consequential answer (see judge).

JSON shapes (docs/contracts.md):
    question: {"kind": <QuestionKind>, ...data}   e.g. {"kind": "purchase_confirmation", "quote": "…"}
    topic:    {"intent": "show_purchases", "filters": {"product_type": "RL", "month": 10}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

# How long a question or topic stays meaningful: a purchase quote lives 10 minutes, a code 5.
TTL = timedelta(minutes=10)
# Typed messages handed to Rasa for "the same question a third time", and how far back.
RECENT_COUNT, RECENT_WINDOW = 2, timedelta(minutes=10)
# The custom message carrying a turn's declaration (Rasa `json_message` → REST `custom`).
MARKER = "mobilis_context"
# The custom message of the erasure turn: the webhook then erases Rasa's tracker of the user.
FORGET_MARKER = "mobilis_forget_conversation"
READING_MARKER = "mobilis_reading"  # the NLU's reading, appended to Rasa's answer by our channel
# Metadata keys the webhook sends to Rasa with each message.
META_SOURCE, META_CONTEXT, META_RECENT, META_LANGUAGE = "source", "context", "recent", "language"
META_TURN = "turn"  # the webhook's id of this message: Rasa's answer carries the NLU's reading back
TYPED, QUICK_REPLY, POSTBACK, ATTACHMENT = "typed", "quick_reply", "postback", "attachment"
BUTTON_SOURCES = frozenset({QUICK_REPLY, POSTBACK})


class QuestionKind:
    PHONE_NUMBER = "phone_number"
    OTP_CODE = "otp_code"
    PRODUCT_CHOICE = "product_choice"  # data: options [{code, type, price, credit, data_mb, title}]
    PURCHASE_CONFIRMATION = "purchase_confirmation"  # data: quote, price, credit, data_mb
    ERASE_CONFIRMATION = "erase_confirmation"
    SUSPEND_CONFIRMATION = "suspend_confirmation"
    UNLINK_CONFIRMATION = "unlink_confirmation"
    REVOKE_CONFIRMATION = "revoke_confirmation"  # data: link (id of the other account's link)
    DISAMBIGUATION = "disambiguation"  # data: options [{title, payload}]
    CONSENT = "consent"  # the CGU intro: accept or not


@dataclass(frozen=True)
class Confirmation:
    """A consequential question: the intents a clear yes / no leads to, the verbs that restate
    the act ("oui efface" is a yes) and the words that only name its object ("j'accepte les
    conditions d'utilisation": neither a yes nor a doubt by themselves)."""

    yes_intent: str
    no_intent: str
    verbs: tuple[str, ...]
    nouns: tuple[str, ...] = ()


CONFIRMATIONS: dict[str, Confirmation] = {
    QuestionKind.PURCHASE_CONFIRMATION: Confirmation(
        "confirm_purchase",
        "cancel_purchase",
        ("achete", "acheter", "prends", "prend", "paye", "payer", "commande", "recharger", "valide"),
        ("achat", "pass", "recharge", "commande", "paiement"),
    ),
    QuestionKind.ERASE_CONFIRMATION: Confirmation(
        "confirm_erase_data",
        "cancel_erase_data",
        ("efface", "effacer", "effacez", "supprime", "supprimer", "supprimez"),
        ("donnees", "tout", "infos", "informations", "historique"),
    ),
    QuestionKind.SUSPEND_CONFIRMATION: Confirmation(
        "confirm_suspend",
        "cancel_suspend",
        ("suspend", "suspends", "suspendre", "suspendez", "bloque", "bloquer", "bloquez", "coupe", "couper", "coupez"),
        ("ligne", "numero", "puce", "sim"),
    ),
    QuestionKind.CONSENT: Confirmation(
        "accept_terms",
        "decline_terms",
        ("accepte", "accepter", "acceptes", "acceptez"),
        ("conditions", "condition", "cgu", "utilisation", "generales", "termes", "regles"),
    ),
    QuestionKind.UNLINK_CONFIRMATION: Confirmation(
        "confirm_unlink",
        "cancel_unlink",
        ("delie", "delier", "deliez", "retire", "retirer", "detache", "detacher", "supprime", "supprimer"),
        ("ligne", "numero", "liaison", "messenger", "compte"),
    ),
    QuestionKind.REVOKE_CONFIRMATION: Confirmation(
        "confirm_revoke",
        "cancel_revoke",
        (
            "retire",
            "retirer",
            "retirez",
            "supprime",
            "supprimer",
            "supprimez",
            "revoque",
            "revoquer",
            "enleve",
            "enlever",
            "bloque",
            "bloquer",
        ),
        ("compte", "acces", "messenger", "liaison"),
    ),
}


@dataclass(frozen=True)
class Question:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.data}

    @classmethod
    def from_json(cls, raw: Any) -> Question | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
            return None
        return cls(raw["kind"], {k: v for k, v in raw.items() if k != "kind"})


@dataclass(frozen=True)
class Topic:
    intent: str
    filters: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"intent": self.intent, "filters": dict(self.filters)}

    @classmethod
    def from_json(cls, raw: Any) -> Topic | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("intent"), str):
            return None
        filters = raw.get("filters")
        return cls(raw["intent"], filters if isinstance(filters, dict) else {})


@dataclass(frozen=True)
class Context:
    question: Question | None = None
    topic: Topic | None = None

    @property
    def empty(self) -> bool:
        return self.question is None and self.topic is None

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question.as_json() if self.question else None,
            "topic": self.topic.as_json() if self.topic else None,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Context:
        if not isinstance(raw, dict):
            return cls()
        return cls(Question.from_json(raw.get("question")), Topic.from_json(raw.get("topic")))


def context_from_metadata(metadata: Any) -> Context:
    return Context.from_json(metadata.get(META_CONTEXT)) if isinstance(metadata, dict) else Context()


def source_from_metadata(metadata: Any) -> str | None:
    source = metadata.get(META_SOURCE) if isinstance(metadata, dict) else None
    return source if isinstance(source, str) else None


def recent_from_metadata(metadata: Any) -> list[str]:
    recent = metadata.get(META_RECENT) if isinstance(metadata, dict) else None
    return [t for t in recent if isinstance(t, str)][-5:] if isinstance(recent, list) else []


def language_from_metadata(metadata: Any) -> str | None:
    """The conversation's language the webhook sent ("fr", "en"), or None (then French)."""
    language = metadata.get(META_LANGUAGE) if isinstance(metadata, dict) else None
    return language if isinstance(language, str) else None


def turn_from_metadata(metadata: Any) -> str | None:
    turn = metadata.get(META_TURN) if isinstance(metadata, dict) else None
    return str(turn) if isinstance(turn, (str, int)) and not isinstance(turn, bool) and str(turn) else None
