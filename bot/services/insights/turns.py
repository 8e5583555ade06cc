"""What the assistant did with one message, recorded once its answer is out.

The outcome and the review reason are decided here, once, for the review queue, the ratings and the
dashboard:
- fallback: the model did not understand (Rasa's `nlu_fallback`, or "Autre chose" under the likely
  meanings);
- disambiguation: the answer was a question ("Vous voulez parler de : …");
- low confidence: answered, but the model's top reading of a typed message was under
  LOW_CONFIDENCE (and the conversation's context did not decide it);
- faq / answered / handoff / local (answered by the webhook itself: alert settings, language) /
  failed (Rasa answered nothing, the user got the apology).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.db.insights import TEXT_LEN, TurnRecord
from bot.services.dialogue.context import TYPED, QuestionKind
from bot.services.dialogue.payloads import parse_payload
from bot.services.insights.masking import masked

LOW_CONFIDENCE = 0.6
FALLBACK_INTENTS = frozenset({"nlu_fallback", "none_of_these"})
HANDOFF_INTENTS = frozenset({"human"})
FAQ_INTENT = "faq"
# Answers after which "Cette réponse vous a aidé ?" is asked (with the FAQ's entries).
HELP_INTENTS = frozenset({"lost_phone", "find_agency", "contact_1000", "appointment"})


class Outcome:
    ANSWERED = "answered"
    FAQ = "faq"
    FALLBACK = "fallback"
    DISAMBIGUATION = "disambiguation"
    HANDOFF = "handoff"
    LOCAL = "local"
    FAILED = "failed"  # Rasa gave no answer (an action failed): the user got an apology
    ALL = (ANSWERED, FAQ, FALLBACK, DISAMBIGUATION, HANDOFF, LOCAL, FAILED)


class ReviewReason:
    FALLBACK = "fallback"
    LOW_CONFIDENCE = "low_confidence"
    DISAMBIGUATION = "disambiguation"
    THUMBS_DOWN = "thumbs_down"


OPEN, ATTACHED, DISMISSED = "open", "attached", "dismissed"


@dataclass(frozen=True)
class Reading:
    """The NLU's reading of a typed message (none for buttons: their payload says it)."""

    intent: str | None = None
    confidence: float | None = None
    faq_key: str | None = None  # "faq/code_puk"
    resolved_by_context: bool = False  # "79 12 34" after "votre numéro ?": the context decided
    faq_confidence: float | None = None  # the response selector's, for the FAQ entry

    @classmethod
    def from_json(cls, raw: Any) -> Reading | None:
        if not isinstance(raw, dict):
            return None
        return cls(
            intent=str(raw["intent"]) if raw.get("intent") else None,
            confidence=_number(raw.get("confidence")),
            faq_key=str(raw["faq_key"]) if raw.get("faq_key") else None,
            resolved_by_context=bool(raw.get("resolved")),
            faq_confidence=_number(raw.get("faq_confidence")),
        )

    @property
    def certainty(self) -> float | None:
        """How sure the reading is: for a FAQ answer, the lower of the intent's and the entry's."""
        if self.intent == FAQ_INTENT and self.faq_confidence is not None and self.confidence is not None:
            return min(self.confidence, self.faq_confidence)
        return self.confidence


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class TurnFacts:
    psid: str
    at: datetime
    language: str
    source: str  # bot.services.dialogue.context: typed, quick_reply, postback
    text: str
    reading: Reading | None
    asked: str | None  # the question kind the answer declared (bot.services.dialogue.context)
    messages: list[dict[str, Any]]  # what was sent (Send API message objects)
    answer_ms: int | None = None
    local: bool = False  # answered by the webhook itself, not by Rasa
    failed: bool = False  # Rasa answered nothing: the webhook's apology was sent


def intent_of(facts: TurnFacts) -> str | None:
    if facts.source != TYPED:
        parsed = parse_payload(facts.text)
        return parsed[0] if parsed else None
    return facts.reading.intent if facts.reading else None


def classify(facts: TurnFacts) -> tuple[str, str | None]:
    """(outcome, review reason or None)."""
    if facts.local:
        return Outcome.LOCAL, None
    if facts.failed:
        return Outcome.FAILED, None
    intent = intent_of(facts)
    typed = facts.source == TYPED
    if facts.asked == QuestionKind.DISAMBIGUATION:
        return Outcome.DISAMBIGUATION, ReviewReason.DISAMBIGUATION if typed else None
    if intent in FALLBACK_INTENTS:
        return Outcome.FALLBACK, ReviewReason.FALLBACK if typed else None
    outcome = Outcome.ANSWERED
    if intent in HANDOFF_INTENTS:
        outcome = Outcome.HANDOFF
    elif intent == FAQ_INTENT:
        outcome = Outcome.FAQ
    reading = facts.reading
    certainty = reading.certainty if reading is not None and not reading.resolved_by_context else None
    unsure = typed and certainty is not None and certainty < LOW_CONFIDENCE
    return outcome, ReviewReason.LOW_CONFIDENCE if unsure else None


def what_was_said(messages: list[dict[str, Any]]) -> str:
    """The answer in one line for the editor: its first text, then the chips it offered."""
    texts = [str(m.get("text") or "") for m in messages if m.get("text")]
    chips = [str(q.get("title") or "") for m in messages for q in m.get("quick_replies") or [] if isinstance(q, dict)]
    said = " ".join(texts[0].split()) if texts else ""
    if chips:
        said = f"{said} [{' | '.join(chips)}]".strip()
    return said[:TEXT_LEN]


def faq_entry(facts: TurnFacts) -> str | None:
    """The FAQ entry answered (without the `faq/` prefix), for a clear FAQ answer only."""
    if intent_of(facts) != FAQ_INTENT:
        return None
    if facts.source != TYPED:
        parsed = parse_payload(facts.text)
        key = parsed[1].get("faq_key") if parsed else None
    else:
        key = facts.reading.faq_key if facts.reading else None
    return str(key).removeprefix("faq/") if key else None


def record(session: Session, facts: TurnFacts) -> TurnRecord:
    """Store the turn (the caller commits). The text is kept, masked, only for review."""
    outcome, reason = classify(facts)
    row = TurnRecord(
        psid=facts.psid,
        at=facts.at,
        language=facts.language,
        source=facts.source,
        intent=intent_of(facts),
        confidence=facts.reading.certainty if facts.reading and facts.source == TYPED else None,
        faq_key=faq_entry(facts) if outcome == Outcome.FAQ else None,
        outcome=outcome,
        answer_ms=facts.answer_ms,
        review_reason=reason,
        review_status=OPEN if reason else None,
        text_masked=masked(facts.text) if reason else None,
        did=what_was_said(facts.messages) if reason else None,
    )
    session.add(row)
    session.flush()
    return row
