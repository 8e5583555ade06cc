"""The concurrency proof: the same confirmation submitted N times at once, each from its own
thread and session, gives exactly one purchase and one debit — on SQLite and on PostgreSQL, with the
embedded operator and through the TM Forum adapter (an operator stub over HTTP)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from purchase_helpers import (
    MARIE_FORFAIT,
    MARIE_LIBERTE,
    LocalServer,
    assistant_purchases,
    credit,
    data_buckets,
    link,
    settings,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.base import make_engine
from bot.db.purchasing import PaymentSession
from bot.devtools.operator_stub import create_operator_stub
from bot.services.purchasing import purchases
from bot.services.purchasing.purchases import Outcome

N = 16


def hammer(engine, psid: str, tokens: list[str], now) -> list[purchases.PurchaseResult]:
    """Each token confirmed from its own thread and session, all released at the same instant."""
    barrier = threading.Barrier(len(tokens))
    results: list = [None] * len(tokens)
    errors: list = []

    def worker(i: int, token: str) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                results[i] = purchases.confirm_purchase(session, psid, token, now=now, settings=settings())
            except Exception as exc:  # collected and reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, t)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def scenario_same_quote(url: str, now) -> None:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            line = link(session, "racer", MARIE_LIBERTE, now)
            before = credit(session, line)
            token = purchases.choose_product(session, "racer", "IMD_1GO", now=now, settings=settings()).quote_token
        results = hammer(engine, "racer", [token] * N, now)
        [winner] = [r for r in results if not r.duplicate]  # one call did it
        assert winner.outcome == Outcome.SUCCEEDED
        # The others saw it done, or, while the winner was still hearing from the operator, being confirmed.
        assert {r.outcome for r in results} <= {Outcome.SUCCEEDED, Outcome.DELIVERY_PENDING}
        assert len({r.reference for r in results}) == 1
        with Session(engine) as session:
            [purchase] = assistant_purchases(session, line)
            assert purchase.idempotency_key == f"quote:{token}"
            assert credit(session, line) == before - 1000  # one debit
            assert len(data_buckets(session, line, "Pass Internet 1 Go")) == 2  # the demo pack + one new
    finally:
        engine.dispose()


def scenario_card_quote(url: str, now) -> None:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            line = link(session, "carder", MARIE_LIBERTE, now)
            token = purchases.choose_product(session, "carder", "RL_3000", now=now, settings=settings()).quote_token
        results = hammer(engine, "carder", [token] * N, now)
        assert {r.outcome for r in results} == {Outcome.PAYMENT_PENDING}
        assert len({r.payment_url for r in results}) == 1
        with Session(engine) as session:
            assert len(assistant_purchases(session, line)) == 1
            assert session.scalar(select(func.count(PaymentSession.id))) == 1
    finally:
        engine.dispose()


def scenario_competing_quotes(url: str, now) -> None:
    """N different summaries of the same line race for 2 340 F of credit: no overdraft."""
    engine = make_engine(url)
    try:
        psids = [f"twin{i}" for i in range(N)]
        with Session(engine, expire_on_commit=False) as session:
            for psid in psids:
                line = link(session, psid, MARIE_LIBERTE, now)
            tokens = [
                purchases.choose_product(session, p, "IMD_1GO", now=now, settings=settings()).quote_token for p in psids
            ]
        barrier = threading.Barrier(N)
        results, errors = [], []

        def worker(psid: str, token: str) -> None:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait()
                try:
                    results.append(purchases.confirm_purchase(session, psid, token, now=now, settings=settings()))
                except Exception as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=worker, args=pair) for pair in zip(psids, tokens)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        outcomes = Counter(r.outcome for r in results)
        assert outcomes[Outcome.SUCCEEDED] == 2  # 2 340 F pays for two 1 000 F packs, not three
        assert outcomes[Outcome.INSUFFICIENT_CREDIT] + outcomes[Outcome.LIMIT_COUNT] == N - 2
        with Session(engine) as session:
            assert credit(session, line) == 340 and len(assistant_purchases(session, line)) == 2
    finally:
        engine.dispose()


def scenario_daily_limit(url: str, now) -> None:
    """N different TOP UP summaries of one line at once: the daily count limit (5) holds."""
    engine = make_engine(url)
    try:
        psids = [f"biller{i}" for i in range(N)]
        with Session(engine, expire_on_commit=False) as session:
            for psid in psids:
                line = link(session, psid, MARIE_FORFAIT, now)
            tokens = [
                purchases.choose_product(session, p, "TOPUP_1GO", now=now, settings=settings()).quote_token
                for p in psids
            ]
        barrier = threading.Barrier(N)
        results = []

        def worker(psid: str, token: str) -> None:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait()
                results.append(purchases.confirm_purchase(session, psid, token, now=now, settings=settings()))

        threads = [threading.Thread(target=worker, args=pair) for pair in zip(psids, tokens)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        outcomes = Counter(r.outcome for r in results)
        assert outcomes == {Outcome.SUCCEEDED: 5, Outcome.LIMIT_COUNT: N - 5}, outcomes
        with Session(engine) as session:
            assert len(assistant_purchases(session, line)) == 5
    finally:
        engine.dispose()


SCENARIOS = [scenario_same_quote, scenario_card_quote, scenario_competing_quotes, scenario_daily_limit]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_sqlite(demo_db_url, demo_now, scenario):
    scenario(demo_db_url, demo_now)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_postgresql(pg_demo_url, demo_now, scenario):
    scenario(pg_demo_url, demo_now)


@pytest.fixture
def through_tmf(set_env):
    """through_tmf(url, now): the services buy through the TM Forum adapter, against an operator
    stub serving that database."""
    started = []

    def start(url: str, now) -> None:
        engine = make_engine(url)
        server = LocalServer(create_operator_stub(sessionmaker(bind=engine, expire_on_commit=False), now=lambda: now))
        started.append((server, engine))
        set_env("OPERATOR_BACKEND", "tmf")
        set_env("OPERATOR_API_URL", server.url)

    yield start
    for server, engine in started:
        server.close()
        engine.dispose()


MONEY_SCENARIOS = [scenario_same_quote, scenario_competing_quotes, scenario_daily_limit]


@pytest.mark.parametrize("scenario", MONEY_SCENARIOS, ids=lambda f: f.__name__)
def test_sqlite_through_the_tm_forum_adapter(demo_db_url, demo_now, scenario, through_tmf):
    through_tmf(demo_db_url, demo_now)
    scenario(demo_db_url, demo_now)


@pytest.mark.parametrize("scenario", MONEY_SCENARIOS, ids=lambda f: f.__name__)
def test_postgresql_through_the_tm_forum_adapter(pg_demo_url, demo_now, scenario, through_tmf):
    through_tmf(pg_demo_url, demo_now)
    scenario(pg_demo_url, demo_now)
