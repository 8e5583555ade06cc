"""Linking by SMS code: happy path, wrong/expired codes, resend, unlink, switch, dev shortcut."""

import logging

import pytest
from identity_helpers import last_code, link_by_sms
from sqlalchemy import select

from bot.db.identity import LinkChallenge, MessengerLink
from bot.services.identity import linking
from bot.services.identity.link_results import LinkOutcome
from bot.services.identity.sms import SmsError, recent_messages

PSID = "psid-alice"


def test_happy_path_reads_code_from_outbox(session, clock, lines, outbox):
    result = linking.start_linking(session, PSID, "+687 79.12.34", now=clock.now, gateway=outbox)
    assert result.outcome == LinkOutcome.CODE_SENT and result.ok
    assert result.message.startswith("Si ce numéro est une ligne Mobilis, un code")
    assert linking.has_pending_challenge(session, PSID, now=clock.now)
    [sms] = recent_messages(session, msisdn="791234")
    code = last_code(session, "791234")
    assert sms["text"] == (
        f"Mobilis Assistant : votre code est {code}. Il expire dans 5 minutes. Ne le communiquez à personne."
    )
    assert linking.get_linked_line(session, PSID) is None  # nothing before the code
    clock.advance(minutes=4, seconds=59)
    done = linking.verify_code(session, PSID, code[:3] + " " + code[3:], now=clock.now)
    assert done.outcome == LinkOutcome.LINKED and done.msisdn == "791234"
    assert "79 12 34" in done.message
    assert linking.get_linked_line(session, PSID).id == lines["alice_a"].id
    assert not linking.has_pending_challenge(session, PSID, now=clock.now)
    # The code is single-use.
    assert linking.verify_code(session, PSID, code, now=clock.now).outcome == LinkOutcome.NO_CHALLENGE


def test_default_gateway_is_the_outbox(session, clock, lines):
    linking.start_linking(session, PSID, "791234", now=clock.now)
    assert len(recent_messages(session, msisdn="791234")) == 1


def test_wrong_code_counts_down_then_right_code_still_works(session, clock, lines, outbox):
    linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox)
    code = last_code(session, "791234")
    wrong = "000000" if code != "000000" else "111111"
    first = linking.verify_code(session, PSID, wrong, now=clock.now)
    assert first.outcome == LinkOutcome.WRONG_CODE and first.attempts_left == 2
    assert "2 essais" in first.message
    second = linking.verify_code(session, PSID, wrong, now=clock.now)
    assert second.attempts_left == 1 and "1 essai." in second.message
    assert linking.verify_code(session, PSID, code, now=clock.now).outcome == LinkOutcome.LINKED


def test_malformed_code_is_not_an_attempt(session, clock, lines, outbox):
    linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox)
    for text in ["12345", "abcdef", "", "1234567"]:
        assert linking.verify_code(session, PSID, text, now=clock.now).outcome == LinkOutcome.INVALID_CODE
    assert session.scalar(select(LinkChallenge.attempts)) == 0


def test_three_wrong_codes_kill_the_challenge(session, clock, lines, outbox):
    linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox)
    code = last_code(session, "791234")
    wrong = "000000" if code != "000000" else "111111"
    outcomes = [linking.verify_code(session, PSID, wrong, now=clock.now).outcome for _ in range(3)]
    assert outcomes == [LinkOutcome.WRONG_CODE, LinkOutcome.WRONG_CODE, LinkOutcome.EXHAUSTED]
    assert linking.verify_code(session, PSID, code, now=clock.now).outcome == LinkOutcome.NO_CHALLENGE
    assert linking.get_linked_line(session, PSID) is None
    assert session.scalar(select(LinkChallenge.status)) == "exhausted"


def test_expired_code(session, clock, lines, outbox):
    linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox)
    code = last_code(session, "791234")
    clock.advance(minutes=5)
    result = linking.verify_code(session, PSID, code, now=clock.now)
    assert result.outcome == LinkOutcome.EXPIRED and "expiré" in result.message
    assert linking.get_linked_line(session, PSID) is None
    # "Renvoyer le code" after expiry gives a fresh code that works.
    assert linking.resend_code(session, PSID, now=clock.now, gateway=outbox).outcome == LinkOutcome.CODE_SENT
    assert linking.verify_code(session, PSID, last_code(session, "791234"), now=clock.now).outcome == LinkOutcome.LINKED


def test_resend_cooldown_and_new_code_replaces_old(session, clock, lines, outbox):
    linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox)
    old = last_code(session, "791234")
    clock.advance(seconds=30)
    early = linking.resend_code(session, PSID, now=clock.now, gateway=outbox)
    assert early.outcome == LinkOutcome.COOLDOWN and early.retry_after_s == 30
    assert "30 secondes" in early.message
    # Asking again with the number does not bypass the cooldown either (SMS bombing).
    assert linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox).outcome == LinkOutcome.COOLDOWN
    assert len(recent_messages(session, msisdn="791234")) == 1
    clock.advance(seconds=30)
    assert linking.resend_code(session, PSID, now=clock.now, gateway=outbox).outcome == LinkOutcome.CODE_SENT
    new = last_code(session, "791234")
    assert len(recent_messages(session, msisdn="791234")) == 2
    if new != old:  # one chance in a million that the new code equals the old one
        assert linking.verify_code(session, PSID, old, now=clock.now).outcome == LinkOutcome.WRONG_CODE
    assert linking.verify_code(session, PSID, new, now=clock.now).outcome == LinkOutcome.LINKED


def test_resend_keeps_wrong_attempts(session, clock, lines, outbox):
    linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox)
    for _ in range(2):
        linking.verify_code(
            session, PSID, "000000" if last_code(session, "791234") != "000000" else "1" * 6, now=clock.now
        )
    clock.advance(seconds=61)
    linking.resend_code(session, PSID, now=clock.now, gateway=outbox)
    code = last_code(session, "791234")
    wrong = "000000" if code != "000000" else "111111"
    assert linking.verify_code(session, PSID, wrong, now=clock.now).outcome == LinkOutcome.EXHAUSTED


def test_resend_without_challenge(session, clock, lines, outbox):
    result = linking.resend_code(session, PSID, now=clock.now, gateway=outbox)
    assert result.outcome == LinkOutcome.NO_CHALLENGE and result.quick_replies


def test_invalid_number_sends_nothing(session, clock, lines, outbox):
    result = linking.start_linking(session, PSID, "25 12 34", now=clock.now, gateway=outbox)
    assert result.outcome == LinkOutcome.INVALID_NUMBER and "fixe" in result.message
    assert recent_messages(session) == [] and session.scalar(select(LinkChallenge)) is None


def test_code_is_bound_to_the_psid_that_asked(session, clock, lines, outbox):
    linking.start_linking(session, "psid-1", "791234", now=clock.now, gateway=outbox)
    code_for_1 = last_code(session, "791234")
    linking.start_linking(session, "psid-2", "791234", now=clock.now, gateway=outbox)
    code_for_2 = last_code(session, "791234")
    if code_for_1 != code_for_2:
        assert linking.verify_code(session, "psid-2", code_for_1, now=clock.now).outcome == LinkOutcome.WRONG_CODE
    assert linking.verify_code(session, "psid-1", code_for_1, now=clock.now).outcome == LinkOutcome.LINKED


def test_gateway_failure_gives_the_same_answer(session, clock, lines, caplog):
    class Broken:
        def send(self, msisdn, text):
            raise SmsError("down")

    with caplog.at_level(logging.ERROR, logger="bot.services.identity.linking"):
        result = linking.start_linking(session, PSID, "791234", now=clock.now, gateway=Broken())
    assert result.outcome == LinkOutcome.CODE_SENT
    assert "79****" in caplog.text and "791234" not in caplog.text


def test_logs_never_hold_code_or_full_number(session, clock, lines, outbox, caplog):
    with caplog.at_level(logging.DEBUG):
        link_by_sms(session, PSID, "791234", clock, outbox)
        linking.start_linking(session, "other", "771111", now=clock.now, gateway=outbox)
    code = recent_messages(session, msisdn="791234")[0]["text"].split("est ")[1][:6]
    assert code not in caplog.text and "791234" not in caplog.text and "771111" not in caplog.text
    assert "79****" in caplog.text


def test_relinking_another_line_needs_its_code_and_replaces_the_link(session, clock, lines, outbox):
    assert link_by_sms(session, PSID, "791234", clock, outbox).outcome == LinkOutcome.LINKED
    clock.advance(seconds=61)
    # Holding Bob's phone (receiving his SMS) is what proves the right to see his line.
    assert link_by_sms(session, PSID, "881111", clock, outbox).outcome == LinkOutcome.LINKED
    assert linking.get_linked_line(session, PSID).id == lines["bob"].id
    assert len(session.scalars(select(MessengerLink)).all()) == 1


def test_unlink(session, clock, lines, outbox):
    link_by_sms(session, PSID, "791234", clock, outbox)
    result = linking.unlink(session, PSID)
    assert result.outcome == LinkOutcome.UNLINKED
    assert linking.get_linked_line(session, PSID) is None
    assert linking.unlink(session, PSID).outcome == LinkOutcome.NOT_LINKED


def test_unlink_cancels_a_pending_code(session, clock, lines, outbox):
    linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox)
    linking.unlink(session, PSID)
    assert (
        linking.verify_code(session, PSID, last_code(session, "791234"), now=clock.now).outcome
        == LinkOutcome.NO_CHALLENGE
    )


def test_switch_to_own_second_line(session, clock, lines, outbox):
    link_by_sms(session, PSID, "791234", clock, outbox)
    assert [ln.msisdn for ln in linking.list_lines_of_subscriber(session, PSID)] == ["791234", "791235"]
    reply = linking.lines_reply(session, PSID)
    assert [(q.title, q.payload) for q in reply.quick_replies] == [("79 12 35", '/switch_line{"msisdn":"791235"}')]
    result = linking.switch_line(session, PSID, "79 12 35", now=clock.now)
    assert result.outcome == LinkOutcome.SWITCHED and result.msisdn == "791235"
    assert linking.get_linked_line(session, PSID).id == lines["alice_b"].id
    # And back: still the same subscriber.
    assert linking.switch_line(session, PSID, "791234", now=clock.now).outcome == LinkOutcome.SWITCHED


def test_switch_to_stranger_is_refused_like_unknown(session, clock, lines, outbox):
    link_by_sms(session, PSID, "791234", clock, outbox)
    stranger = linking.switch_line(session, PSID, "881111", now=clock.now)
    unknown = linking.switch_line(session, PSID, "771111", now=clock.now)
    assert stranger.outcome == unknown.outcome == LinkOutcome.SWITCH_REFUSED
    assert stranger.message == unknown.message
    assert linking.get_linked_line(session, PSID).id == lines["alice_a"].id


def test_switch_and_list_when_not_linked(session, clock, lines):
    assert linking.switch_line(session, PSID, "791234", now=clock.now).outcome == LinkOutcome.NOT_LINKED
    assert linking.list_lines_of_subscriber(session, PSID) == []
    assert linking.get_linked_line(session, PSID) is None


def test_link_line_for_dev(session, lines, set_env):
    with pytest.raises(PermissionError):
        linking.link_line_for_dev(session, PSID, "791234")
    set_env("MOBILIS_DEV_MODE", "1")
    line = linking.link_line_for_dev(session, PSID, "79 12 34")
    assert line.id == lines["alice_a"].id == linking.get_linked_line(session, PSID).id
    with pytest.raises(LookupError):
        linking.link_line_for_dev(session, PSID, "771111")
    assert session.scalar(select(MessengerLink.via)) == "dev"


def test_prompts_fit_messenger(session, clock, lines, outbox):
    assert "79 12 34" in linking.ask_number_reply().text
    assert linking.lines_reply(session, PSID).quick_replies[0].payload == linking.LINK_PAYLOAD  # not linked
    link_by_sms(session, "bob", "881111", clock, outbox)
    only = linking.lines_reply(session, "bob")
    assert "seule ligne" in only.text and only.quick_replies == []
    for outcome, qrs in linking._QUICK.items():
        assert all(len(q.title) <= 20 for q in qrs), outcome
    assert all(len(m) <= 640 for m in linking._MESSAGES.values())
