"""The real stack on loopback: action server, Rasa server (trained model) and the webhook in
development mode, on a fresh migrated SQLite database with the demo data.

`./mobilis test` sets MOBILIS_RASA_BIN and MOBILIS_MODEL and MOBILIS_REQUIRE_E2E=1, so there these
tests can never be skipped; a developer running pytest alone without a model gets a skip instead.
"""
from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from bot.catalogue import sync_catalogue
from bot.db.base import session_scope
from bot.db.migrate import upgrade
from bot.demo import load_demo
from bot.launcher import Ports, Stack
from e2e_helpers import E2E_APP_SECRET, StackClient


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("MOBILIS_REQUIRE_E2E") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    rasa_bin = os.environ.get("MOBILIS_RASA_BIN", "")
    model = os.environ.get("MOBILIS_MODEL", "")
    _require(bool(rasa_bin) and Path(rasa_bin).exists(), "MOBILIS_RASA_BIN not set: run ./mobilis test")
    _require(bool(model) and Path(model).exists(), "MOBILIS_MODEL not set or missing: run ./mobilis test")

    workdir = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{workdir / 'e2e.db'}"
    upgrade(db_url)
    with session_scope(db_url) as session:
        sync_catalogue(session)
    with session_scope(db_url) as session:
        load_demo(session)

    ports = Ports(webhook=_free_port(), rasa=_free_port(), actions=_free_port())
    env = {
        "DATABASE_URL": db_url,
        "MOBILIS_DEV_MODE": "1",
        "FB_APP_SECRET": E2E_APP_SECRET,
        "FB_VERIFY_TOKEN": "e2e-verify",
        "FB_PAGE_ACCESS_TOKEN": "e2e-page-token",
        "GRAPH_API_URL": None,  # the webhook replies through its own stand-in Graph API
    }
    running = Stack(rasa_bin=rasa_bin, model=model, ports=ports, env=env, log_dir=workdir / "logs")
    try:
        running.start(timeout=240)
    except (TimeoutError, RuntimeError):
        for log in sorted((workdir / "logs").glob("*.log")):
            sys.stderr.write(f"\n===== {log.name} =====\n{log.read_text(errors='replace')[-4000:]}\n")
        raise
    yield StackClient(base_url=f"http://127.0.0.1:{ports.webhook}", rasa_url=f"http://127.0.0.1:{ports.rasa}",
                      db_url=db_url, log_dir=workdir / "logs")
    running.stop()


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    _require(path is not None, "Debian's chromium is not installed (./mobilis test installs it)")
    return path
