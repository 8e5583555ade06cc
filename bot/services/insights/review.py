"""The editors' review queue: open turns to look at, grouped by similarity, and what an editor does
with a group (add its messages as questions of a FAQ entry, draft a new entry, or dismiss it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.insights import TurnRecord
from bot.services.insights import grouping
from bot.services.insights.turns import ATTACHED, DISMISSED, OPEN

QUEUE_LIMIT = 2000  # newest open items considered at once


@dataclass(frozen=True)
class ReviewGroup:
    items: tuple[TurnRecord, ...]  # newest first

    @property
    def key(self) -> int:
        """Stable while the group's first message is open: its id."""
        return min(item.id for item in self.items)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def language(self) -> str:
        return self.items[0].language

    @property
    def example(self) -> str:
        return self.items[0].text_masked or ""

    @property
    def texts(self) -> list[str]:
        """The distinct messages, most frequent first."""
        counts = Counter(item.text_masked or "" for item in self.items if item.text_masked)
        return [text for text, _count in counts.most_common()]

    @property
    def reasons(self) -> Counter[str]:
        return Counter(item.review_reason or "" for item in self.items)

    @property
    def likely_intent(self) -> str | None:
        intents = Counter(item.faq_key or item.intent for item in self.items if item.intent)
        return intents.most_common(1)[0][0] if intents else None

    @property
    def last_at(self) -> datetime:
        return max(item.at for item in self.items)


def open_items(session: Session, limit: int = QUEUE_LIMIT) -> list[TurnRecord]:
    return list(
        session.scalars(
            select(TurnRecord)
            .where(TurnRecord.review_status == OPEN, TurnRecord.text_masked.is_not(None))
            .order_by(TurnRecord.at.desc(), TurnRecord.id.desc())
            .limit(limit)
        )
    )


def open_groups(session: Session) -> list[ReviewGroup]:
    """Open items grouped by language then by similar text, the largest groups first."""
    items = open_items(session)
    groups: list[ReviewGroup] = []
    for language in sorted({item.language for item in items}):
        same = [item for item in items if item.language == language]
        groups += [ReviewGroup(tuple(g)) for g in grouping.group(same, lambda item: item.text_masked or "")]
    return sorted(groups, key=lambda g: (-g.count, -g.last_at.timestamp()))


def find_group(session: Session, key: int) -> ReviewGroup | None:
    return next((g for g in open_groups(session) if key in {item.id for item in g.items}), None)


def close(
    session: Session, ids: Sequence[int], status: str, by: str, now: datetime, attached_to: str | None = None
) -> int:
    """Mark open items attached (to a FAQ entry) or dismissed; returns how many (the caller commits)."""
    if status not in (ATTACHED, DISMISSED):
        raise ValueError(status)
    result = session.execute(
        update(TurnRecord)
        .where(TurnRecord.id.in_(list(ids)), TurnRecord.review_status == OPEN)
        .values(review_status=status, reviewed_by=by, reviewed_at=now, attached_to=attached_to)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
