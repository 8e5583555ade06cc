"""Fixtures of the operator tests: the operator stub on loopback, the contract check on every call,
and the services switched to the TM Forum adapter."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker
from tmf_contract import ContractSession, LocalServer
from tmf_helpers import CLIENT_ID, CLIENT_SECRET

from bot.devtools.operator_stub import create_operator_stub
from bot.services.operator import backends
from bot.services.operator.read_cache import BalanceCache, CatalogueCache
from bot.services.operator.tmf_client import CircuitBreaker, TmfClient


@pytest.fixture
def stub(demo_engine, demo_now):
    sessions = sessionmaker(bind=demo_engine, expire_on_commit=False)
    app = create_operator_stub(sessions, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, now=lambda: demo_now)
    server = LocalServer(app)
    yield server
    server.close()


@pytest.fixture
def contract():
    session = ContractSession()
    yield session
    assert session.violations == [], session.violations  # every call matched the TM Forum documents


@pytest.fixture
def client(stub, contract):
    return TmfClient(
        stub.url,
        token_url=f"{stub.url}/oauth/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        timeout=2.0,
        breaker=CircuitBreaker(3, 60.0),
        http=contract,
    )


@pytest.fixture
def use_tmf(monkeypatch, set_env, stub, client):
    """use_tmf(): from now on the services use the TM Forum adapter (through the contract check),
    reading the operator at each question (the caches have their own tests)."""

    def enable() -> TmfClient:
        set_env("OPERATOR_BACKEND", "tmf")
        set_env("OPERATOR_API_URL", stub.url)
        monkeypatch.setattr(backends, "tmf_client", lambda settings: client)
        monkeypatch.setattr(backends, "balance_cache", lambda settings: BalanceCache(0))
        monkeypatch.setattr(backends, "catalogue_cache", lambda settings: CatalogueCache(0))
        return client

    return enable
