"""The assistant's own record of each line (`lines`, `subscribers`), kept in step with the operator.

A number typed by a user is looked up at the operator (the operator port's `find_line`); the local
row is created or brought up to date from the answer, so links, quotes and purchases keep pointing
at one row per line. With the embedded simulator the operator's data and ours are the same rows.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.account import Line, Offer, Subscriber
from bot.services.identity.phone import mask_number
from bot.services.operator.backends import operator_for
from bot.services.operator.port import LineInfo

log = logging.getLogger(__name__)


def line_for_number(session: Session, msisdn: str) -> Line | None:
    """The line the operator has under this number, recorded locally; None when it has none (or
    an offer our catalogue does not know: the assistant could not describe it)."""
    info = operator_for(session).find_line(msisdn)
    return record(session, info) if info is not None else None


def holder_lines(session: Session, line: Line) -> list[Line]:
    """Every working line of the person holding `line`, recorded locally, by number."""
    operator = operator_for(session)
    info = operator.find_line(line.msisdn)
    if info is None:
        return []
    return [row for other in operator.holder_lines(info.holder) if (row := record(session, other)) is not None]


def record(session: Session, info: LineInfo) -> Line | None:
    """Create or update the local row of a line from what the operator says (flushed)."""
    if session.get(Offer, info.offer_code) is None:
        log.error("line %s: offer %r is not in the catalogue, not recorded", mask_number(info.msisdn), info.offer_code)
        return None
    line = session.scalar(select(Line).where(Line.msisdn == info.msisdn))
    if line is None:
        line = Line(msisdn=info.msisdn, subscriber_id=_subscriber(session, info.holder).id)
        session.add(line)
    elif line.subscriber.operator_ref not in (None, info.holder):  # the number changed hands
        line.subscriber_id = _subscriber(session, info.holder).id
    line.plan_family, line.offer_code, line.status = info.plan_family, info.offer_code, info.status
    session.flush()
    return line


def _subscriber(session: Session, holder: str) -> Subscriber:
    found = session.scalar(select(Subscriber).where(Subscriber.operator_ref == holder))
    if found is None:
        found = Subscriber(first_name="", last_name="", operator_ref=holder)
        session.add(found)
        session.flush()
    return found
