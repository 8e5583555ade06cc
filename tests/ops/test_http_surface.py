"""The webhook's HTTP surface under abuse, on the real servers: /readyz is cheap under a flood, a
chunked body over the limit gets 413 like one with a Content-Length, and gunicorn refuses several
worker processes without Redis."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from channel_helpers import LocalServer
from flask import Flask, jsonify

from bot.channel.readiness import CachedReadiness
from bot.channel.signature import SIGNATURE_HEADER, sign
from bot.config import SECRET_DEV_VALUES, get_settings
from bot.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
LIMIT = 4096


# ------------------------------------------------------------------------------ /readyz


def test_readiness_probes_once_per_window_whatever_the_requests(ops_app, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    rasa, probes = Flask("counting_rasa"), []

    @rasa.get("/status")
    def status():
        probes.append(1)
        return jsonify({"model_file": "m"}), 200

    server = LocalServer(rasa)
    try:
        client = ops_app(start_worker=False, rasa_url=server.url).test_client()
        started = time.monotonic()
        assert all(client.get("/readyz").status_code == 200 for _ in range(50))
        app = client.application

        def hit(_):
            return app.test_client().get("/readyz").status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(hit, range(80))) == {200}
        windows = int((time.monotonic() - started) / get_settings().readyz_cache_seconds) + 1
        assert 1 <= len(probes) <= windows < 130  # one probe per window, not one per request
    finally:
        server.close()


def test_a_change_is_seen_after_the_window():
    clock, state, calls = [0.0], {"ready": True}, []

    def probe():
        calls.append(1)
        return {"rasa": "ok" if state["ready"] else "error"}, state["ready"]

    cached = CachedReadiness(probe, ttl=1.5, clock=lambda: clock[0])
    assert cached.get()[1] is True
    state["ready"] = False
    clock[0] = 1.0
    assert cached.get()[1] is True and len(calls) == 1  # within the window: the last result
    clock[0] = 1.6
    assert cached.get()[1] is False and len(calls) == 2


# ------------------------------------------------------------------------ body limit


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def webhook_env(tmp_path: Path, port: int, **extra) -> dict[str, str]:
    db_url = f"sqlite:///{tmp_path / 'webhook.db'}"
    upgrade(db_url)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "GRAPH_API_URL")}
    env.update(
        {
            "MOBILIS_DEV_MODE": "1",
            "DATABASE_URL": db_url,
            "WEBHOOK_HOST": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_MAX_BODY_BYTES": str(LIMIT),
            "RASA_URL": "http://127.0.0.1:9",
            "PYTHONPATH": str(ROOT),
            "WEB_CONCURRENCY": "1",
            **extra,
        }
    )
    return env


def wait_healthy(process: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else "exited"
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("the webhook did not start")


@pytest.fixture(params=["gunicorn", "werkzeug"])
def webhook_port(request, tmp_path):
    """The webhook as production runs it (gunicorn) and as `./mobilis run` does (werkzeug)."""
    port = free_port()
    argv = (
        [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "webhook:app"]
        if request.param == "gunicorn"
        else [sys.executable, "webhook.py"]
    )
    process = subprocess.Popen(
        argv, cwd=ROOT, env=webhook_env(tmp_path, port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_healthy(process, port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def post_chunked(port: int, body: bytes, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.putrequest("POST", "/webhook")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders()
    try:
        for start in range(0, len(body), 1000):
            piece = body[start : start + 1000]
            connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        connection.send(b"0\r\n\r\n")
    except OSError:  # the server answered 413 and closed before the end: that is the point
        pass
    return connection.getresponse().status


def test_a_chunked_body_over_the_limit_gets_413(webhook_port):
    huge = b'{"object": "page", "entry": [' + b" " * (LIMIT * 5) + b"]}"
    assert post_chunked(webhook_port, huge) == 413
    assert requests.post(f"http://127.0.0.1:{webhook_port}/webhook", data=huge, timeout=10).status_code == 413
    small = b'{"object": "page", "entry": []}'
    signature = sign(SECRET_DEV_VALUES["FB_APP_SECRET"], small)
    assert post_chunked(webhook_port, small, {SIGNATURE_HEADER: signature}) == 200


def test_gunicorn_refuses_several_workers_without_redis(tmp_path):
    env = webhook_env(tmp_path, free_port(), WEB_CONCURRENCY="2")
    result = subprocess.run(
        [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "webhook:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "sans REDIS_URL" in result.stderr
