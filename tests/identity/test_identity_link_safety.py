"""A code once read must not give access for good: the line is told of every new Messenger
account linked to it, links are re-verified after LINK_REVALIDATE_DAYS, one PSID may not probe
many numbers, and the per-number caps hold under concurrent requests on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from identity_helpers import last_code, make_line
from sqlalchemy import create_engine, func, pool, select
from sqlalchemy.orm import Session

from bot.db.identity import LinkEvent
from bot.db.migrate import upgrade
from bot.services.identity import link_limits, linking
from bot.services.identity.link_results import LinkOutcome
from bot.services.identity.sms import recent_messages


def link_by_code(session, psid, msisdn, now, outbox):
    assert linking.start_linking(session, psid, msisdn, now=now, gateway=outbox).outcome == LinkOutcome.CODE_SENT
    return linking.verify_code(session, psid, last_code(session, msisdn), now=now, gateway=outbox)


def test_the_line_is_told_when_a_new_messenger_account_links_it(session, clock, lines, outbox):
    assert link_by_code(session, "alice", "791234", clock.now, outbox).outcome == LinkOutcome.LINKED
    [notice, _code] = recent_messages(session, msisdn="791234", limit=2)
    assert "un compte Messenger a été relié à votre ligne" in notice["text"]
    assert "1000" in notice["text"] and "12:00" in notice["text"]  # 12:00 in Nouméa
    # The same account proving the same line again (revalidation) is not a new account.
    clock.advance(minutes=2)
    assert link_by_code(session, "alice", "791234", clock.now, outbox).outcome == LinkOutcome.LINKED
    texts = [m["text"] for m in recent_messages(session, msisdn="791234", limit=10)]
    assert sum("compte Messenger a été relié" in t for t in texts) == 1


def test_a_link_must_be_verified_again_after_the_period(session, clock, lines, outbox, monkeypatch):
    monkeypatch.setenv("LINK_REVALIDATE_DAYS", "180")
    link_by_code(session, "alice", "791234", clock.now, outbox)
    assert linking.get_linked_line(session, "alice", clock.now + timedelta(days=179)).msisdn == "791234"
    # Moving to another line of the same subscriber proves nothing new: the clock keeps running.
    assert (
        linking.switch_line(session, "alice", "791235", now=clock.now + timedelta(days=100)).outcome
        == LinkOutcome.SWITCHED
    )
    later = clock.now + timedelta(days=181)
    assert linking.get_linked_line(session, "alice", later) is None
    assert linking.link_problem(session, "alice", later) == ("stale", lines["alice_b"])
    assert link_by_code(session, "alice", "791234", later, outbox).outcome == LinkOutcome.LINKED
    assert linking.get_linked_line(session, "alice", later).msisdn == "791234"
    assert linking.link_problem(session, "alice", later) is None


def test_one_psid_may_ask_codes_for_a_few_numbers_a_day(session, clock, lines, outbox, monkeypatch):
    monkeypatch.setenv("LINK_MAX_NUMBERS_PER_DAY", "3")
    for index, number in enumerate(("791234", "791235", "881111")):
        now = clock.now + link_limits.RESEND_COOLDOWN * (index + 1)
        assert (
            linking.start_linking(session, "mallory", number, now=now, gateway=outbox).outcome == LinkOutcome.CODE_SENT
        )
    now = clock.now + link_limits.RESEND_COOLDOWN * 5
    refused = linking.start_linking(session, "mallory", "771020", now=now, gateway=outbox)
    assert refused.outcome == LinkOutcome.TOO_MANY_NUMBERS and "1000" in refused.message
    # A number already asked today stays possible (a new code after a mistake).
    assert linking.start_linking(session, "mallory", "791234", now=now, gateway=outbox).outcome == LinkOutcome.CODE_SENT
    tomorrow = clock.now + timedelta(days=1, minutes=10)
    assert (
        linking.start_linking(session, "mallory", "771020", now=tomorrow, gateway=outbox).outcome
        == LinkOutcome.CODE_SENT
    )


class CountingGateway:
    def __init__(self):
        self.sent, self.lock = [], threading.Lock()

    def send(self, msisdn, text):
        with self.lock:
            self.sent.append(msisdn)


def test_the_per_number_cap_holds_under_concurrent_requests_on_postgresql(pg_url, clock, monkeypatch):
    monkeypatch.setenv("LINK_MAX_NUMBERS_PER_DAY", "100")
    upgrade(pg_url)
    engine = create_engine(pg_url, poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            make_line(session, "791234")
            session.commit()
        gateway, outcomes, start = CountingGateway(), [], threading.Barrier(12)

        def one(index: int) -> None:
            with Session(engine) as session:
                start.wait()
                result = linking.start_linking(session, f"bot-{index}", "791234", now=clock.now, gateway=gateway)
                session.commit()
                outcomes.append(result.outcome)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cap = link_limits.MAX_SMS_PER_NUMBER_PER_HOUR
        assert outcomes.count(LinkOutcome.CODE_SENT) == cap
        assert outcomes.count(LinkOutcome.TOO_MANY_CODES) == 12 - cap
        assert len(gateway.sent) == cap
        with Session(engine) as session:
            assert session.scalar(select(func.count(LinkEvent.id)).where(LinkEvent.kind == "code_sent")) == cap
    finally:
        engine.dispose()
