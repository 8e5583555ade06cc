"""The TM Forum adapter (OPERATOR_BACKEND=tmf) against the local operator stub, every call checked
against the official documents: the same answers as the embedded simulator for every demo line,
purchases exactly once, and the faults at the boundary (answer lost, operator down or slow,
refusal, wrong credentials)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select
from tmf_helpers import CLIENT_ID, MARIE_FORFAIT, MARIE_LIBERTE, ORDER, confirm, credit, faults, link, posts, settings

from bot.db.account import BucketKind, Line
from bot.db.operator import OperatorOperation
from bot.db.purchasing import PaymentSource, Product, Purchase
from bot.services.account import consultation, history
from bot.services.operator import backends
from bot.services.operator.port import OperatorError, OperatorUnavailable
from bot.services.operator.read_cache import BalanceCache
from bot.services.operator.tmf_adapter import TmfOperator
from bot.services.operator.tmf_client import TmfClient
from bot.services.purchasing import purchases
from bot.services.purchasing.results import Outcome


def answers(session, line: Line, now) -> list[str]:
    """What a subscriber reads about the line: balance (whole and each part), usage (this period,
    the previous one, out of plan), purchase history (all, recharges only)."""
    replies = [consultation.balance_reply(session, line, now)]
    replies += [consultation.balance_reply(session, line, now, facet=f) for f in ("data", "sms", "voice", "credit")]
    replies += [
        consultation.usage_reply(session, line, now),
        consultation.usage_reply(session, line, now, months_back=1),
    ]
    replies += [consultation.usage_reply(session, line, now, facet="out_of_plan")]
    replies += [
        history.purchases_reply(session, line, now),
        history.purchases_reply(session, line, now, product_type="RL"),
    ]
    return [r.text + " | " + " / ".join(f"{c.title} {c.subtitle or ''}" for c in r.cards) for r in replies]


def test_every_demo_line_reads_the_same_through_the_tm_forum_apis(demo_session, demo_now, use_tmf, contract):
    lines = demo_session.scalars(select(Line).order_by(Line.id)).all()
    embedded = {line.msisdn: answers(demo_session, line, demo_now) for line in lines}
    use_tmf()
    for line in lines:
        assert answers(demo_session, line, demo_now) == embedded[line.msisdn], line.msisdn
    called = set(contract.calls)
    assert {
        ("GET", "TMF654", "/bucket"),
        ("POST", "TMF677", "/queryUsageConsumption"),
        ("GET", "TMF635", "/usage"),
    } <= called
    assert {("GET", "TMF622", "/productOrder"), ("GET", "TMF654", "/topupBalance")} <= called


# ------------------------------------------------------------------------------- purchases


def test_a_pass_paid_from_credit_is_one_product_order(demo_session, demo_now, use_tmf, contract):
    use_tmf()
    line = link(demo_session, "tmf-buyer", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    token, result = confirm(demo_session, "tmf-buyer", "IMD_1GO", demo_now)
    assert result.outcome == Outcome.SUCCEEDED and "C'est fait" in result.reply.text
    assert credit(demo_session, line) == before - 1000
    assert posts(contract) == [("TMF622", "/productOrder")]
    again = purchases.confirm_purchase(demo_session, "tmf-buyer", token, now=demo_now, settings=settings())
    assert again.duplicate and posts(contract) == [("TMF622", "/productOrder")]  # a second tap sends nothing
    operation = demo_session.scalar(select(OperatorOperation))
    assert operation.key == f"quote:{token}"  # the order's externalId


def test_a_top_up_on_the_bill(demo_session, demo_now, use_tmf, contract):
    use_tmf()
    link(demo_session, "tmf-bill", MARIE_FORFAIT, demo_now)
    _, result = confirm(demo_session, "tmf-bill", "TOPUP_1GO", demo_now)
    assert result.outcome == Outcome.SUCCEEDED and "prochaine facture" in result.reply.text


def test_a_lost_answer_is_settled_by_looking_the_order_up(demo_session, demo_now, use_tmf, contract, stub):
    use_tmf()
    line = link(demo_session, "tmf-lost", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    faults(stub, "lost_answer", count=1, on=ORDER)  # the operator does it; its answer never arrives
    _, result = confirm(demo_session, "tmf-lost", "IMD_1GO", demo_now)
    assert result.outcome == Outcome.DELIVERY_PENDING
    later = demo_now.replace(hour=demo_now.hour + 1)
    [pending] = purchases.purchases_to_settle(demo_session, later)
    psid, reply = purchases.settle_purchase(demo_session, pending, later)
    assert psid == "tmf-lost" and reply.text.startswith("Votre achat est confirmé.")
    assert credit(demo_session, line) == before - 1000  # debited once
    assert posts(contract) == [("TMF622", "/productOrder")]  # looked up by externalId, never sent again
    assert ("GET", "TMF622", "/productOrder") in contract.calls


def test_an_operator_down_charges_nothing_and_the_breaker_stops_calling_it(
    demo_session, demo_now, use_tmf, stub, contract
):
    client = use_tmf()
    line = link(demo_session, "tmf-down", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    token = purchases.choose_product(demo_session, "tmf-down", "IMD_1GO", now=demo_now, settings=settings()).quote_token
    faults(stub, "down")
    with pytest.raises(OperatorUnavailable):  # the action answers "Le système de Mobilis ne répond pas…"
        purchases.confirm_purchase(demo_session, "tmf-down", token, now=demo_now, settings=settings())
    assert (
        demo_session.scalar(select(Purchase).where(Purchase.line_id == line.id, Purchase.reference.like("MOB-%")))
        is None
    )
    for _ in range(2):  # with the failed confirmation: 3 failures, the breaker opens
        with pytest.raises(OperatorUnavailable):
            TmfOperator(demo_session, client).buckets(line)
    received = len(requests.get(f"{stub.url}/_stub/calls", timeout=5).json())
    with pytest.raises(OperatorUnavailable, match="circuit open"):
        consultation.balance_reply(demo_session, line, demo_now)
    assert len(requests.get(f"{stub.url}/_stub/calls", timeout=5).json()) == received  # failed at once, not sent
    faults(stub, "")
    opened_at = client.breaker.clock()
    client.breaker.clock = lambda: opened_at + 61  # a minute later the breaker lets a call try again
    result = purchases.confirm_purchase(demo_session, "tmf-down", token, now=demo_now, settings=settings())
    assert result.outcome == Outcome.SUCCEEDED  # the same summary, confirmed again once the operator is back
    assert credit(demo_session, line) == before - 1000


def test_a_slow_operator_times_out_and_the_purchase_is_settled_once(demo_session, demo_now, use_tmf, contract, stub):
    client = use_tmf()
    client.timeout = 0.3
    line = link(demo_session, "tmf-slow", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    token = purchases.choose_product(demo_session, "tmf-slow", "IMD_1GO", now=demo_now, settings=settings()).quote_token
    faults(stub, "slow", count=1, delay=1.0, on=ORDER)  # the order is made, after our timeout
    result = purchases.confirm_purchase(demo_session, "tmf-slow", token, now=demo_now, settings=settings())
    assert result.outcome == Outcome.DELIVERY_PENDING
    client.timeout = 5.0
    later = demo_now.replace(hour=demo_now.hour + 1)
    owed = [
        purchases.settle_purchase(demo_session, p, later) for p in purchases.purchases_to_settle(demo_session, later)
    ]
    assert [o[0] for o in owed if o] == ["tmf-slow"]
    assert credit(demo_session, line) == before - 1000
    assert demo_session.query(OperatorOperation).count() == 1


def test_a_refusal_charges_nothing(demo_session, demo_now, use_tmf, stub):
    use_tmf()
    line = link(demo_session, "tmf-no", MARIE_LIBERTE, demo_now)
    before = credit(demo_session, line)
    token = purchases.choose_product(demo_session, "tmf-no", "IMD_1GO", now=demo_now, settings=settings()).quote_token
    faults(stub, "refuse", count=1, on=ORDER)
    result = purchases.confirm_purchase(demo_session, "tmf-no", token, now=demo_now, settings=settings())
    assert result.outcome == Outcome.DELIVERY_FAILED and "Rien n'a été acheté ni débité" in result.reply.text
    assert credit(demo_session, line) == before


def test_wrong_credentials_are_an_unavailable_operator_not_a_crash(demo_session, demo_now, stub):
    client = TmfClient(stub.url, token_url=f"{stub.url}/oauth/token", client_id=CLIENT_ID, client_secret="wrong")
    line = demo_session.scalar(select(Line).where(Line.msisdn == MARIE_LIBERTE))
    with pytest.raises(OperatorError):
        TmfOperator(demo_session, client).buckets(line)


def test_a_linking_code_goes_through_tmf681_to_the_phone(demo_session, client, contract):
    from bot.services.identity.sms import OperatorSmsGateway, SmsError, recent_messages

    OperatorSmsGateway(client).send("791234", "Votre code Mobilis : 482913")
    [sms] = recent_messages(demo_session, "791234")
    assert sms["text"] == "Votre code Mobilis : 482913"
    assert ("POST", "TMF681", "/communicationMessage") in contract.calls
    with pytest.raises(SmsError):
        OperatorSmsGateway(client).send("12", "pas un numéro")  # refused by the operator (4xx)


def test_a_lost_phone_suspends_the_line_at_the_operator_first(demo_session, demo_now, use_tmf, contract, stub):
    from bot.db.account import LineStatus
    from bot.db.suspension import LineSuspension
    from bot.services.account.line_suspension import suspend_linked_line

    use_tmf()
    line = link(demo_session, "tmf-lost-phone", MARIE_LIBERTE, demo_now)
    faults(stub, "down", on=ORDER)
    reply = suspend_linked_line(demo_session, "tmf-lost-phone", now=demo_now)
    assert "pas pu suspendre" in reply.text and "1000" in reply.text
    demo_session.commit()
    demo_session.refresh(line)
    assert line.status == LineStatus.ACTIVE and demo_session.scalar(select(LineSuspension)) is None
    faults(stub, "")
    reply = suspend_linked_line(demo_session, "tmf-lost-phone", now=demo_now)
    demo_session.commit()
    assert reply.text.startswith("C'est fait : la ligne 79 12 34 est suspendue")
    again = suspend_linked_line(demo_session, "tmf-lost-phone", now=demo_now)  # a double tap
    assert "déjà suspendue" in again.text
    orders = [c for c in contract.calls if c == ("POST", "TMF622", "/productOrder")]
    assert len(orders) == 2  # refused while down, then the TMF622 "modify → suspended" order; none on the double tap
    [operation] = demo_session.scalars(select(OperatorOperation)).all()
    assert operation.kind == "suspension" and operation.key.startswith("suspend:")


def test_a_balance_read_a_moment_ago_says_when_and_a_purchase_forgets_it(demo_session, demo_now, use_tmf, contract):
    client = use_tmf()
    clock = [demo_now]
    cache = BalanceCache(20, clock=lambda: clock[0])
    line = link(demo_session, "tmf-cache", MARIE_LIBERTE, demo_now)

    def question() -> TmfOperator:  # each question is its own unit of work; the cache is the process's
        return TmfOperator(demo_session, client, cache)

    def reads() -> int:
        return contract.calls.count(("GET", "TMF654", "/bucket"))

    live = question().buckets(line)
    assert all(b.as_of is None for b in live) and reads() == 1
    clock[0] += timedelta(seconds=5)
    again = question().buckets(line)
    assert reads() == 1 and {b.as_of for b in again} == {demo_now}  # not read again, and marked
    assert [b.remaining for b in again] == [b.remaining for b in live]
    assert all(b.as_of is None for b in question().buckets(line, live=True)) and reads() == 2  # money: live

    imd = demo_session.scalar(select(Product).where(Product.code == "IMD_1GO"))
    question().purchase(line, imd, PaymentSource.CREDIT, 1000, "quote:cache", demo_now)
    after = question().buckets(line)
    assert all(b.as_of is None for b in after)  # read again after the purchase
    assert sum(b.remaining for b in after if b.kind == BucketKind.CREDIT) == credit(demo_session, line)
    clock[0] += timedelta(seconds=30)
    assert all(b.as_of is None for b in question().buckets(line))  # too old: read again


def test_the_balance_answer_names_the_time_of_a_figure_that_is_not_live(demo_session, demo_now, use_tmf, monkeypatch):
    use_tmf()
    line = demo_session.scalar(select(Line).where(Line.msisdn == MARIE_LIBERTE))
    cache = BalanceCache(60)
    monkeypatch.setattr(backends, "balance_cache", lambda settings: cache)
    first = consultation.balance_reply(demo_session, line, demo_now)
    second = consultation.balance_reply(demo_session, line, demo_now)
    assert "relevé à" not in first.text
    assert re.search(r"Solde de la ligne 79 12 34 \(prépayé Liberté\) \(relevé à \d\d:\d\d\) :", second.text), (
        second.text
    )


def test_linking_finds_the_line_at_the_operator(demo_session, demo_now, use_tmf, contract, set_env):
    from bot.services.identity import linking
    from bot.services.identity.link_results import LinkOutcome
    from bot.services.identity.sms import OutboxSmsGateway

    use_tmf()
    set_env("MOBILIS_OTP_PEPPER", "test-pepper")
    sent = linking.start_linking(demo_session, "tmf-linker", "79 12 34", demo_now, OutboxSmsGateway(demo_session))
    unknown = linking.start_linking(demo_session, "tmf-other", "79 99 99", demo_now, OutboxSmsGateway(demo_session))
    suspended = linking.start_linking(demo_session, "tmf-third", "92 11 11", demo_now, OutboxSmsGateway(demo_session))
    # The same answer whatever the number (a code "sent"): nothing tells a stranger which numbers exist.
    assert sent.outcome == unknown.outcome == suspended.outcome == LinkOutcome.CODE_SENT
    assert ("GET", "TMF637", "/product") in contract.calls
    from bot.db.identity import LinkChallenge

    challenges = {c.psid: c.line_id for c in demo_session.scalars(select(LinkChallenge))}
    marie = demo_session.scalar(select(Line).where(Line.msisdn == MARIE_LIBERTE))
    assert challenges == {"tmf-linker": marie.id, "tmf-other": None, "tmf-third": None}
