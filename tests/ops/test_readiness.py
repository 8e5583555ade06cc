"""GET /readyz (database, Rasa /status, Redis when REDIS_URL is set) and GET /healthz."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest
from sqlalchemy.orm import sessionmaker

from bot.db.base import make_engine


def test_ready_when_database_and_rasa_answer(ops_app, rasa_status, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    client = ops_app(start_worker=False, rasa_url=rasa_status.url).test_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "rasa": "ok", "redis": "not configured"}


def test_rasa_down_makes_it_not_ready(ops_app, closed_port_url, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    response = ops_app(start_worker=False, rasa_url=closed_port_url).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "ok" and body["rasa"].startswith("error")


def test_rasa_without_model_is_not_ready(ops_app, rasa_status, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    rasa_status.state["code"] = 503
    response = ops_app(start_worker=False, rasa_url=rasa_status.url).test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["rasa"] == "error: HTTP 503"


def test_database_failure_is_named(ops_app, rasa_status, tmp_path):
    app = ops_app(start_worker=False, rasa_url=rasa_status.url)
    # Swap in sessions on a database that cannot be opened (its directory does not exist).
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    app.extensions["mobilis_sessions"] = sessionmaker(bind=engine)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"].startswith("error") and body["rasa"] == "ok"
    engine.dispose()


class _FakeRedis(socketserver.BaseRequestHandler):
    """Just enough RESP3 for redis-py 8: HELLO -> {proto: 3}, PING -> PONG, anything else -> OK."""

    def handle(self):
        while True:
            data = self.request.recv(4096).upper()
            if not data:
                return
            if b"HELLO" in data:
                self.request.sendall(b"%1\r\n$5\r\nproto\r\n:3\r\n")
            else:
                self.request.sendall(b"+PONG\r\n" if b"PING" in data else b"+OK\r\n")


@pytest.fixture
def fake_redis_url():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeRedis)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"redis://127.0.0.1:{server.server_address[1]}/0"
    server.shutdown()
    server.server_close()


def test_redis_checked_only_when_configured(ops_app, rasa_status, fake_redis_url):
    response = (
        ops_app(start_worker=False, rasa_url=rasa_status.url, REDIS_URL=fake_redis_url).test_client().get("/readyz")
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["redis"] == "ok"


def test_redis_down_makes_it_not_ready(ops_app, rasa_status):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    redis_url = f"redis://:s3cretpass@127.0.0.1:{port}/0"
    response = ops_app(start_worker=False, rasa_url=rasa_status.url, REDIS_URL=redis_url).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["redis"].startswith("error") and "s3cretpass" not in response.get_data(as_text=True)
    assert body["database"] == "ok" and body["rasa"] == "ok"


def test_healthz_stays_alive_only(ops_app, closed_port_url):
    response = ops_app(start_worker=False, rasa_url=closed_port_url).test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
