"""The action server as a process: one process (rasa-sdk's Sanic workers are refused: they were seen
not to stop on SIGTERM), answering Rasa behind the token, and stopping promptly on SIGTERM."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from bot.internal_auth import HEADER

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(tmp_path: Path, token: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MOBILIS_INTERNAL_TOKEN": token,
        "MOBILIS_DEV_MODE": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        **extra,
    }


def documents_call() -> dict:
    """What Rasa posts to run a public action (no line, no consent needed)."""
    return {
        "next_action": "action_show_documents",
        "sender_id": "process-test",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "process-test",
            "slots": {"intro_shown": True},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_message": {"text": "/show_documents", "intent": {"name": "show_documents"}, "entities": []},
        },
    }


def test_several_sanic_workers_are_refused_with_a_clear_message(tmp_path):
    env = environment(tmp_path, secrets.token_hex(16), ACTION_SERVER_SANIC_WORKERS="2")
    done = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "ACTION_SERVER_SANIC_WORKERS must be 1" in done.stderr


def test_one_process_serves_behind_the_token_and_stops_on_sigterm(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    log_path = tmp_path / "actions.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "actions.server", "--port", str(port)],
            cwd=ROOT,
            env=environment(tmp_path, token),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text(errors="replace")[-2000:]
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the action server did not answer /health within 60 s"
            time.sleep(0.2)
        refused = requests.post(f"{url}/webhook", json=documents_call(), timeout=30)
        assert refused.status_code == 403
        answered = requests.post(f"{url}/webhook", json=documents_call(), headers={HEADER: token}, timeout=30)
        assert answered.status_code == 200, answered.text
        assert "CGU" in answered.text or "conditions" in answered.text.lower(), answered.text[:500]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise AssertionError("the action server did not stop within 15 s of SIGTERM") from None
    assert code is not None
