"""The operator's figures for a period, from the database: one definition for the built-in page
and for the Prometheus gauges (bot/backoffice/metrics.py).

- A conversation is one user's turns with less than CONVERSATION_GAP between them.
- It is *contained* when no hand-off was asked during it and it had no fallback loop (two
  misunderstandings in a row: not understood, or answered by "vous voulez parler de…").
- Fallback and disambiguation rates are shares of the turns Rasa answered.
- Chat purchases follow the summaries shown in the period: started (summary shown), confirmed
  (the user said yes), paid (the purchase succeeded at the operator).
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.alerts import Alert
from bot.db.handoff import Escalation
from bot.db.insights import TurnRecord
from bot.db.purchasing import Purchase, PurchaseQuote, PurchaseStatus, QuoteStatus
from bot.services.insights.feedback import DOWN, UP
from bot.services.insights.turns import Outcome

CONVERSATION_GAP = timedelta(minutes=30)
MISUNDERSTOOD = frozenset({Outcome.FALLBACK, Outcome.DISAMBIGUATION})
TOP = 10
STAGES = ("started", "confirmed", "paid")


@dataclass(frozen=True)
class FaqFigure:
    entry: str
    answers: int
    up: int
    down: int

    @property
    def satisfaction(self) -> float | None:
        rated = self.up + self.down
        return self.up / rated if rated else None


@dataclass(frozen=True)
class Figures:
    since: datetime
    until: datetime
    conversations: dict[str, int] = field(default_factory=dict)  # contained, handoff, fallback_loop
    turns: dict[str, int] = field(default_factory=dict)  # by outcome
    handoffs: dict[str, int] = field(default_factory=dict)  # by reason
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    top_faq: list[FaqFigure] = field(default_factory=list)
    purchases: dict[str, int] = field(default_factory=dict)  # started, confirmed, paid
    alerts_sent: int = 0
    median_answer_seconds: float | None = None

    @property
    def conversation_count(self) -> int:
        return sum(self.conversations.values())

    @property
    def containment(self) -> float | None:
        total = self.conversation_count
        return self.conversations.get("contained", 0) / total if total else None

    @property
    def handoff_rate(self) -> float | None:
        total = self.conversation_count
        return self.conversations.get("handoff", 0) / total if total else None

    def _share(self, outcome: str) -> float | None:
        answered = sum(n for o, n in self.turns.items() if o != Outcome.LOCAL)
        return self.turns.get(outcome, 0) / answered if answered else None

    @property
    def fallback_rate(self) -> float | None:
        return self._share(Outcome.FALLBACK)

    @property
    def disambiguation_rate(self) -> float | None:
        return self._share(Outcome.DISAMBIGUATION)


def figures(session: Session, since: datetime, until: datetime) -> Figures:
    turns = session.execute(
        select(TurnRecord.psid, TurnRecord.at, TurnRecord.outcome, TurnRecord.intent, TurnRecord.answer_ms)
        .where(TurnRecord.at >= since, TurnRecord.at < until)
        .order_by(TurnRecord.psid, TurnRecord.at)
    ).all()
    escalations = session.execute(
        select(Escalation.psid, Escalation.created_at, Escalation.reason).where(
            Escalation.created_at >= since, Escalation.created_at < until
        )
    ).all()
    times = [t.answer_ms / 1000 for t in turns if t.answer_ms is not None]
    return Figures(
        since=since,
        until=until,
        conversations=_conversations(turns, escalations),
        turns=dict(Counter(t.outcome for t in turns)),
        handoffs=dict(Counter(e.reason for e in escalations)),
        top_intents=Counter(t.intent for t in turns if t.intent).most_common(TOP),
        top_faq=_top_faq(session, since, until),
        purchases=_purchases(session, since, until),
        alerts_sent=int(
            session.scalar(select(func.count(Alert.id)).where(Alert.sent_at >= since, Alert.sent_at < until)) or 0
        ),
        median_answer_seconds=statistics.median(times) if times else None,
    )


def _conversations(turns: Sequence[Any], escalations: Sequence[Any]) -> dict[str, int]:
    handed: dict[str, list[datetime]] = defaultdict(list)
    for escalation in escalations:
        handed[escalation.psid].append(escalation.created_at)
    counts = {"contained": 0, "handoff": 0, "fallback_loop": 0}
    conversation: list[Any] = []
    for turn in [*turns, None]:
        if conversation and (
            turn is None or turn.psid != conversation[-1].psid or turn.at - conversation[-1].at > CONVERSATION_GAP
        ):
            counts[_outcome(conversation, handed.get(conversation[0].psid, []))] += 1
            conversation = []
        if turn is not None:
            conversation.append(turn)
    return counts


def _outcome(conversation: list[Any], handoffs: list[datetime]) -> str:
    start, end = conversation[0].at, conversation[-1].at + CONVERSATION_GAP
    if any(start <= at <= end for at in handoffs) or any(t.outcome == Outcome.HANDOFF for t in conversation):
        return "handoff"
    outcomes = [t.outcome for t in conversation]
    if any(a in MISUNDERSTOOD and b in MISUNDERSTOOD for a, b in itertools.pairwise(outcomes)):
        return "fallback_loop"
    return "contained"


def _top_faq(session: Session, since: datetime, until: datetime) -> list[FaqFigure]:
    in_period = (TurnRecord.at >= since, TurnRecord.at < until)
    answers = session.execute(
        select(TurnRecord.faq_key, func.count())
        .where(*in_period, TurnRecord.faq_key.is_not(None))
        .group_by(TurnRecord.faq_key)
        .order_by(func.count().desc(), TurnRecord.faq_key)
        .limit(TOP)
    ).all()
    ratings: dict[tuple[str, str], int] = {
        (str(topic).removeprefix("faq/"), rating): n
        for topic, rating, n in session.execute(
            select(TurnRecord.feedback_topic, TurnRecord.rating, func.count())
            .where(*in_period, TurnRecord.rating.is_not(None), TurnRecord.feedback_topic.like("faq/%"))
            .group_by(TurnRecord.feedback_topic, TurnRecord.rating)
        ).all()
    }
    return [FaqFigure(entry, n, ratings.get((entry, UP), 0), ratings.get((entry, DOWN), 0)) for entry, n in answers]


def _purchases(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    in_period = (PurchaseQuote.created_at >= since, PurchaseQuote.created_at < until)
    started = session.scalar(select(func.count(PurchaseQuote.id)).where(*in_period)) or 0
    confirmed = (
        session.scalar(
            select(func.count(PurchaseQuote.id)).where(*in_period, PurchaseQuote.status == QuoteStatus.CONFIRMED)
        )
        or 0
    )
    paid = (
        session.scalar(
            select(func.count(PurchaseQuote.id))
            .join(Purchase, Purchase.id == PurchaseQuote.purchase_id)
            .where(*in_period, Purchase.status == PurchaseStatus.SUCCEEDED)
        )
        or 0
    )
    return {"started": int(started), "confirmed": int(confirmed), "paid": int(paid)}
