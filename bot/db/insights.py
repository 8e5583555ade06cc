"""What the assistant did with each message, for the editors' review queue and the operator's
dashboard (bot/services/insights).

One row per answered turn: the reading (intent, confidence, FAQ entry), the outcome, the answer
time. The message text is kept — masked — only when an editor may need it: a turn that was not
understood, answered with low confidence, answered by a question ("vous voulez parler de…"), or
after which the user was asked whether the answer helped. Rows follow the message retention and
go with "effacer mes données" (bot/services/privacy).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime

PSID_LEN = 64
TEXT_LEN = 300
KEY_LEN = 100


class TurnRecord(Base):
    __tablename__ = "insight_turns"
    __table_args__ = (
        Index("ix_insight_turns_review", "review_status", "at"),
        Index("ix_insight_turns_psid_at", "psid", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    psid: Mapped[str] = mapped_column(String(PSID_LEN))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))  # typed, quick_reply, postback
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    faq_key: Mapped[str | None] = mapped_column(String(KEY_LEN))
    outcome: Mapped[str] = mapped_column(String(24))  # bot.services.insights.turns.Outcome
    answer_ms: Mapped[int | None] = mapped_column(Integer)
    # Review queue: why an editor should look (None: nothing to review), the masked message and
    # what the assistant answered.
    review_reason: Mapped[str | None] = mapped_column(String(24))
    text_masked: Mapped[str | None] = mapped_column(String(TEXT_LEN))
    did: Mapped[str | None] = mapped_column(String(TEXT_LEN))
    review_status: Mapped[str | None] = mapped_column(String(16))  # open, attached, dismissed
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attached_to: Mapped[str | None] = mapped_column(String(KEY_LEN))  # the FAQ entry it was added to
    # "Cette réponse vous a aidé ?": the topic asked about (FAQ entry or help answer), the rating.
    feedback_topic: Mapped[str | None] = mapped_column(String(KEY_LEN))
    rating: Mapped[str | None] = mapped_column(String(8))  # up, down
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
