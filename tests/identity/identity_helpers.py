"""Helpers shared by identity tests (a uniquely named module, unlike conftest.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.db.account import Line, LineStatus, Offer, PlanFamily, Subscriber
from bot.services.identity import linking
from bot.services.identity.sms import recent_messages


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 12:00 in Nouméa

    def advance(self, **kw) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def make_line(session, msisdn, subscriber=None, status=LineStatus.ACTIVE):
    if session.get(Offer, "TEST") is None:
        session.add(Offer(code="TEST", name="Offre test", plan_family=PlanFamily.LIBERTE, price_xpf=0))
    if subscriber is None:
        subscriber = Subscriber(first_name="Test", last_name=f"Abonné {msisdn}")
        session.add(subscriber)
    line = Line(msisdn=msisdn, subscriber=subscriber, plan_family=PlanFamily.LIBERTE, offer_code="TEST", status=status)
    session.add(line)
    session.flush()
    return line


def last_code(session, msisdn) -> str | None:
    """The code of the latest code SMS to the line (other SMS, such as the new-link notice, skipped)."""
    for message in recent_messages(session, msisdn=msisdn, limit=20):
        found = re.search(r"\b(\d{6})\b", message["text"])
        if found:
            return found.group(1)
    return None


def link_by_sms(session, psid, msisdn, clock, gateway) -> linking.LinkResult:
    linking.start_linking(session, psid, msisdn, now=clock.now, gateway=gateway)
    return linking.verify_code(session, psid, last_code(session, msisdn), now=clock.now)


def assert_cannot_reach_line(session, psid, target, clock, gateway):
    """Security invariant: a PSID linked to line A cannot end up on a stranger's line B by any
    path that does not go through the code SMS'd to B. Tries every path available to a client."""
    before = linking.get_linked_line(session, psid)
    # 1. Switching only works inside the same subscriber.
    assert linking.switch_line(session, psid, target.msisdn, now=clock.now).outcome in {
        linking.LinkOutcome.SWITCH_REFUSED,
        linking.LinkOutcome.NOT_LINKED,
    }
    # 2. The developer shortcut is closed outside development mode.
    with pytest.raises(PermissionError):
        linking.link_line_for_dev(session, psid, target.msisdn)
    # 3. Asking a code for B, then typing anything but B's code: A's last code, a guess.
    own_code = last_code(session, before.msisdn) if before else None
    clock.advance(seconds=61)
    assert (
        linking.start_linking(session, psid, target.msisdn, now=clock.now, gateway=gateway).outcome
        == linking.LinkOutcome.CODE_SENT
    )
    sent_to_b = last_code(session, target.msisdn)
    for guess in [own_code, "000000", "123456"]:
        if guess and guess != sent_to_b:
            linking.verify_code(session, psid, guess, now=clock.now)
    # 4. Whatever happened, the server-side truth is unchanged.
    after = linking.get_linked_line(session, psid)
    assert (after.id if after else None) == (before.id if before else None)
    assert after is None or after.subscriber_id != target.subscriber_id
