"""The assistant's record of the lines the operator tells it about (bot/services/identity/lines.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.account import Line, LineStatus, PlanFamily, Subscriber
from bot.services.identity import lines
from bot.services.operator.port import LineInfo


def info(msisdn: str = "770001", holder: str = "CUST-42", offer: str = "", **changes) -> LineInfo:
    values = dict(
        msisdn=msisdn,
        plan_family=PlanFamily.LIBERTE,
        offer_code=offer,
        status=LineStatus.ACTIVE,
        holder=holder,
        account="BA-42",
    )
    values.update(changes)
    return LineInfo(**values)


def liberte_offer(session) -> str:
    return session.scalar(select(Line.offer_code).where(Line.plan_family == PlanFamily.LIBERTE))


def test_a_line_first_met_at_the_operator_is_recorded_with_its_holder(demo_session):
    offer = liberte_offer(demo_session)
    first = lines.record(demo_session, info(offer=offer))
    second = lines.record(demo_session, info("770002", offer=offer))
    assert first.subscriber_id == second.subscriber_id  # one holder, one subscriber
    holder = demo_session.get(Subscriber, first.subscriber_id)
    assert holder.operator_ref == "CUST-42" and (holder.first_name, holder.last_name) == ("", "")


def test_the_record_follows_the_operator(demo_session):
    offer = liberte_offer(demo_session)
    line = lines.record(demo_session, info(offer=offer))
    again = lines.record(demo_session, info(offer=offer, status=LineStatus.SUSPENDED))
    assert again.id == line.id and again.status == LineStatus.SUSPENDED
    moved = lines.record(demo_session, info(offer=offer, holder="CUST-99"))  # the number changed hands
    assert moved.id == line.id and demo_session.get(Subscriber, moved.subscriber_id).operator_ref == "CUST-99"


def test_an_offer_the_catalogue_does_not_know_is_not_recorded(demo_session):
    assert lines.record(demo_session, info(offer="MYSTERY_OFFER")) is None
    assert demo_session.scalar(select(Line).where(Line.msisdn == "770001")) is None
