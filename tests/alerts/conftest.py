"""Fixtures of the alert tests: demo lines linked to a Messenger user, balances set by hand."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.db.account import Balance, BucketKind, Line
from bot.db.identity import MessengerLink


@pytest.fixture
def linked(demo_session, demo_now):
    """linked(psid, msisdn) → the line, now linked to that PSID."""

    def link(psid: str, msisdn: str) -> Line:
        line = demo_session.scalar(select(Line).where(Line.msisdn == msisdn))
        demo_session.add(MessengerLink(psid=psid, line_id=line.id, linked_at=demo_now, via="test"))
        demo_session.commit()
        return line

    return link


@pytest.fixture
def set_credit(demo_session):
    """set_credit(line, amount): the line's credit buckets now hold `amount` (the first) and 0."""

    def put(line: Line, amount: int) -> None:
        rows = demo_session.scalars(
            select(Balance).where(Balance.line_id == line.id, Balance.kind == BucketKind.CREDIT).order_by(Balance.id)
        ).all()
        for index, row in enumerate(rows):
            demo_session.execute(
                update(Balance).where(Balance.id == row.id).values(remaining=amount if index == 0 else 0)
            )
        demo_session.commit()

    return put
