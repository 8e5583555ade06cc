"""Linking security: no enumeration, hashed codes, lockouts, per-number SMS cap, line isolation."""

import hashlib
import hmac

import pytest
from conftest import PEPPER
from identity_helpers import assert_cannot_reach_line, last_code, link_by_sms, make_line
from sqlalchemy import select

from bot.config import ConfigError
from bot.db.all_models import Base
from bot.db.identity import LinkChallenge, LinkLockout
from bot.services.identity import link_limits, linking
from bot.services.identity.link_results import LinkOutcome
from bot.services.identity.sms import recent_messages


class RecordingGateway:
    """In-memory gateway: the code exists only here, so the database can be searched for it."""

    def __init__(self):
        self.sent = []

    def send(self, msisdn, text):
        self.sent.append((msisdn, text))


def fail_challenge(session, psid, msisdn, clock, gateway):
    """Ask a code, then type three wrong ones. Returns the last outcome."""
    linking.start_linking(session, psid, msisdn, now=clock.now, gateway=gateway)
    code = last_code(session, msisdn)
    wrong = "000000" if code != "000000" else "111111"
    result = None
    for _ in range(3):
        result = linking.verify_code(session, psid, wrong, now=clock.now)
    clock.advance(seconds=61)
    return result


def test_unknown_number_same_answer_and_no_sms(session, clock, lines, outbox):
    real = linking.start_linking(session, "psid-1", "791234", now=clock.now, gateway=outbox)
    unknown = linking.start_linking(session, "psid-2", "771111", now=clock.now, gateway=outbox)
    suspended = make_line(session, "551111", status=linking.LineStatus.SUSPENDED)
    inactive = linking.start_linking(session, "psid-3", suspended.msisdn, now=clock.now, gateway=outbox)
    assert real == unknown == inactive  # outcome, message, quick replies: identical
    assert recent_messages(session, msisdn="771111") == []
    assert recent_messages(session, msisdn="551111") == []
    assert len(recent_messages(session)) == 1
    # The unknown number's challenge behaves like any other: wrong codes, attempts left.
    for guess in ("000000", "123456"):
        result = linking.verify_code(session, "psid-2", guess, now=clock.now)
        assert result.outcome == LinkOutcome.WRONG_CODE
    assert linking.get_linked_line(session, "psid-2") is None
    # Resend answers the same too.
    clock.advance(seconds=61)
    assert linking.resend_code(session, "psid-2", now=clock.now, gateway=outbox) == linking.resend_code(
        session, "psid-1", now=clock.now, gateway=outbox
    )


def test_codes_are_stored_hashed_never_in_clear(session, clock, lines):
    gateway = RecordingGateway()
    linking.start_linking(session, "psid-1", "791234", now=clock.now, gateway=gateway)
    [(_msisdn, text)] = gateway.sent
    code = text.split("est ")[1][:6]
    session.flush()
    dump = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).all():
            dump.extend(str(v) for v in row)
    assert not any(code in value for value in dump)
    challenge = session.scalar(select(LinkChallenge))
    expected = hmac.new(PEPPER.encode(), f"code:psid-1:791234:{code}".encode(), hashlib.sha256).hexdigest()
    assert challenge.code_hash == expected


def test_pepper_is_part_of_the_hash(session, clock, lines, outbox, set_env):
    linking.start_linking(session, "psid-1", "791234", now=clock.now, gateway=outbox)
    set_env("MOBILIS_OTP_PEPPER", "another-pepper")
    assert (
        linking.verify_code(session, "psid-1", last_code(session, "791234"), now=clock.now).outcome
        == LinkOutcome.WRONG_CODE
    )


def test_pepper_required_outside_dev_mode(session, clock, lines, outbox, monkeypatch, set_env):
    monkeypatch.delenv("MOBILIS_OTP_PEPPER")
    with pytest.raises(ConfigError):
        linking.start_linking(session, "psid-1", "791234", now=clock.now, gateway=outbox)
    set_env("MOBILIS_DEV_MODE", "1")
    assert (
        linking.start_linking(session, "psid-1", "791234", now=clock.now, gateway=outbox).outcome
        == LinkOutcome.CODE_SENT
    )


def test_lockout_for_psid_after_three_failed_challenges(session, clock, lines, outbox):
    # Three different numbers, so only the PSID counter reaches the limit.
    assert fail_challenge(session, "psid-x", "791234", clock, outbox).outcome == LinkOutcome.EXHAUSTED
    assert fail_challenge(session, "psid-x", "791235", clock, outbox).outcome == LinkOutcome.EXHAUSTED
    locked = fail_challenge(session, "psid-x", "881111", clock, outbox)
    assert locked.outcome == LinkOutcome.LOCKED and "30 minutes" in locked.message
    assert "compte Messenger" in locked.message
    # Any number, even a fresh one, is refused for this PSID; nothing is sent.
    sms_before = len(recent_messages(session))
    again = linking.start_linking(session, "psid-x", "991234", now=clock.now, gateway=outbox)
    assert again.outcome == LinkOutcome.LOCKED and again.retry_after_s > 0
    assert len(recent_messages(session)) == sms_before
    # The numbers themselves are not locked for their owners.
    assert link_by_sms(session, "owner", "791234", clock, outbox).outcome == LinkOutcome.LINKED
    # After 30 minutes the PSID may try again.
    clock.advance(minutes=30)
    assert (
        linking.start_linking(session, "psid-x", "791234", now=clock.now, gateway=outbox).outcome
        == LinkOutcome.CODE_SENT
    )


def test_lockout_for_number_across_psids(session, clock, lines, outbox):
    for psid in ("attacker-1", "attacker-2"):
        assert fail_challenge(session, psid, "791234", clock, outbox).outcome == LinkOutcome.EXHAUSTED
    # Meanwhile the real owner has a pending code for the number.
    linking.start_linking(session, "owner", "791234", now=clock.now, gateway=outbox)
    owner_code = last_code(session, "791234")
    locked = fail_challenge(session, "attacker-3", "791234", clock, outbox)
    assert locked.outcome == LinkOutcome.LOCKED and "ce numéro" in locked.message
    # Locked for everybody, whichever PSID asks, including a pending challenge.
    assert (
        linking.start_linking(session, "newcomer", "79 12 34", now=clock.now, gateway=outbox).outcome
        == LinkOutcome.LOCKED
    )
    assert linking.verify_code(session, "owner", owner_code, now=clock.now).outcome == LinkOutcome.LOCKED
    # Other numbers stay available to a PSID that is not locked.
    assert (
        linking.start_linking(session, "newcomer", "881111", now=clock.now, gateway=outbox).outcome
        == LinkOutcome.CODE_SENT
    )
    assert session.scalar(select(LinkLockout.key_hash)) not in {"791234", "attacker-3"}  # hashed keys


def test_unknown_number_locks_the_same_way(session, clock, lines, outbox):
    """Lockouts must not reveal which numbers exist either."""
    for psid in ("a1", "a2", "a3"):
        last = fail_challenge(session, psid, "771111", clock, outbox)
    assert last.outcome == LinkOutcome.LOCKED


def test_sms_cap_per_number_and_hour(session, clock, lines, outbox):
    for i in range(link_limits.MAX_SMS_PER_NUMBER_PER_HOUR):
        assert (
            linking.start_linking(session, f"p{i}", "791234", now=clock.now, gateway=outbox).outcome
            == LinkOutcome.CODE_SENT
        )
        assert (
            linking.start_linking(session, f"q{i}", "771111", now=clock.now, gateway=outbox).outcome
            == LinkOutcome.CODE_SENT
        )
        clock.advance(minutes=1)
    real = linking.start_linking(session, "late", "791234", now=clock.now, gateway=outbox)
    unknown = linking.start_linking(session, "late2", "771111", now=clock.now, gateway=outbox)
    assert real.outcome == LinkOutcome.TOO_MANY_CODES and real == unknown
    assert len(recent_messages(session, msisdn="791234", limit=50)) == link_limits.MAX_SMS_PER_NUMBER_PER_HOUR
    clock.advance(hours=1)
    assert (
        linking.start_linking(session, "late", "791234", now=clock.now, gateway=outbox).outcome == LinkOutcome.CODE_SENT
    )


def test_linked_psid_cannot_reach_a_strangers_line(session, clock, lines, outbox):
    assert link_by_sms(session, "alice", "791234", clock, outbox).outcome == LinkOutcome.LINKED
    assert_cannot_reach_line(session, "alice", lines["bob"], clock, outbox)
    assert linking.get_linked_line(session, "alice").id == lines["alice_a"].id


def test_unlinked_psid_cannot_reach_any_line(session, clock, lines, outbox):
    assert_cannot_reach_line(session, "mallory", lines["bob"], clock, outbox)
    assert linking.get_linked_line(session, "mallory") is None


def test_the_helper_itself_detects_a_leak(session, clock, lines, outbox, monkeypatch):
    """If switch_line ignored the subscriber, the helper must fail (it can fail)."""
    link_by_sms(session, "alice", "791234", clock, outbox)

    def leaky_switch(session, psid, msisdn, now=None):
        line = session.scalar(select(linking.Line).where(linking.Line.msisdn == msisdn))
        linking._set_link(session, psid, line, "switch", now)
        return linking.LinkResult(LinkOutcome.SWITCHED, "ok")

    monkeypatch.setattr(linking, "switch_line", leaky_switch)
    with pytest.raises(AssertionError):
        assert_cannot_reach_line(session, "alice", lines["bob"], clock, outbox)


def test_purge_forgets_old_records_but_not_live_lockouts(session, clock, lines, outbox):
    for psid in ("a1", "a2", "a3"):
        fail_challenge(session, psid, "771111", clock, outbox)
    clock.advance(minutes=10)
    linking.purge_expired(session, clock.now)
    assert session.scalar(select(LinkLockout)) is not None
    clock.advance(hours=25)
    linking.purge_expired(session, clock.now)
    assert session.scalar(select(LinkLockout)) is None
    assert session.scalar(select(LinkChallenge)) is None
    assert recent_messages(session) == []
