"""Talking to the running stack as Messenger would: signed webhook posts, and reading what
reached the stand-in Graph API (the webhook's own, in development mode)."""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.channel.processing import SLOW_TEXT
from bot.channel.signature import SIGNATURE_HEADER, sign

E2E_APP_SECRET = "e2e-app-secret"
_mids = itertools.count(1)


def message_event(psid: str, text: str, mid: str | None = None, quick_reply: str | None = None) -> dict:
    message: dict = {"mid": mid or f"m_e2e_{psid}_{next(_mids)}_{time.time_ns()}", "text": text}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    return {
        "sender": {"id": psid},
        "recipient": {"id": "PAGE"},
        "timestamp": int(time.time() * 1000),
        "message": message,
    }


def page_body(*events: dict, entries: int = 1) -> bytes:
    """Spread events over `entries` entry[] items, as Facebook batches them."""
    chunks = [list(events[i::entries]) for i in range(entries)]
    payload = {
        "object": "page",
        "entry": [{"id": "PAGE", "time": int(time.time() * 1000), "messaging": chunk} for chunk in chunks],
    }
    return json.dumps(payload).encode()


@dataclass
class StackClient:
    base_url: str
    rasa_url: str
    db_url: str
    log_dir: Path
    app_secret: str = E2E_APP_SECRET
    rasa_token: str = ""  # RASA_API_TOKEN of this stack (Rasa's HTTP API refuses calls without it)
    internal_token: str = ""  # MOBILIS_INTERNAL_TOKEN (webhook → Rasa channel, Rasa → actions)
    actions_url: str = ""
    backoffice_url: str = ""  # the staff's back office (review queue, dashboard)
    faq_dir: Path | None = None  # the stack's copy of faq/ (the back office edits it)

    def post(self, body: bytes, signature: str | None = "valid") -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers[SIGNATURE_HEADER] = sign(self.app_secret, body)
        elif signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return requests.post(f"{self.base_url}/webhook", data=body, headers=headers, timeout=10)

    def say(self, psid: str, text: str, **kwargs) -> requests.Response:
        response = self.post(page_body(message_event(psid, text, **kwargs)))
        response.raise_for_status()
        return response

    def sent_messages(self, psid: str) -> list[dict]:
        """Messages (not sender actions) the webhook sent to this PSID through the Send API."""
        data = requests.get(f"{self.base_url}/dev/api/messages", params={"psid": psid}, timeout=10).json()
        return [m for m in data["messages"] if m["kind"] == "message"]

    def wait_for_messages(self, psid: str, count: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.sent_messages(psid)
            if len(messages) >= count:
                return messages
            time.sleep(0.2)
        raise AssertionError(f"{psid}: expected {count} messages, got {self.sent_messages(psid)}")

    def exchange(self, psid: str, text: str, quick_reply: str | None = None, timeout: float = 30.0) -> list[dict]:
        """Send one message and return the replies it produced (waits until they stop coming)."""
        before = len(self.sent_messages(psid))
        self.say(psid, text, quick_reply=quick_reply)
        messages = self.wait_for_messages(psid, before + 1, timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:  # a turn may send several messages: wait for a quiet 0.8 s
            time.sleep(0.8)
            latest = self.sent_messages(psid)
            # "Un instant…" (Rasa slow under load) is never the end of a turn: the answer follows.
            waiting = text_of(latest[-1]) == SLOW_TEXT and time.monotonic() < deadline
            if len(latest) == len(messages) and not waiting:
                return latest[before:]
            messages = latest

    def sms_outbox(self, msisdn: str) -> list[dict]:
        response = requests.get(f"{self.base_url}/dev/api/sms-outbox", params={"msisdn": msisdn}, timeout=10)
        response.raise_for_status()
        return response.json()["messages"]

    def parse(self, text: str) -> dict:
        """Rasa's NLU result for one text (its HTTP API is on, on loopback only)."""
        response = requests.post(
            f"{self.rasa_url}/model/parse", json={"text": text}, params={"token": self.rasa_token}, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def tracker_user_texts(self, psid: str) -> list[str]:
        """What Rasa's tracker store holds of the user's messages (read with RASA_API_TOKEN)."""
        response = requests.get(
            f"{self.rasa_url}/conversations/{psid}/tracker", params={"token": self.rasa_token}, timeout=10
        )
        response.raise_for_status()
        return [e.get("text") for e in response.json().get("events", []) if e.get("event") == "user"]

    def subscriber(self, psid: str, msisdn: str) -> str:
        """`psid` accepted the CGU and linked the demo line `msisdn`."""
        from bot.db.base import session_scope
        from bot.services.privacy.consent import record_consent

        with session_scope(self.db_url) as session:
            record_consent(session, psid)
        self.link_demo_line(psid, msisdn)
        return psid

    def link_demo_line(self, psid: str, msisdn: str) -> None:
        response = requests.post(
            f"{self.base_url}/dev/api/link-line", json={"psid": psid, "msisdn": msisdn}, timeout=10
        )
        assert response.ok, response.text


def quick_reply_payloads(messages: list[dict]) -> list[str]:
    return [q.get("payload", "") for m in messages for q in m["message"].get("quick_replies", [])]


def all_text(messages: list[dict]) -> str:
    return "\n".join(text_of(m) for m in messages)


def text_of(message: dict) -> str:
    """The visible text of a Send API message: plain text or a template's text/first card."""
    body = message["message"]
    if "text" in body:
        return body["text"]
    payload = body.get("attachment", {}).get("payload", {})
    if "text" in payload:
        return payload["text"]
    return " ".join(f"{e.get('title', '')} {e.get('subtitle', '')}" for e in payload.get("elements", []))


# ---- starting the real stack (the e2e `stack` fixture and tests/ops' full-run log grep) ----


def require(condition: bool, reason: str) -> None:
    """Skip when the stack cannot run here, unless MOBILIS_REQUIRE_E2E=1 (./mobilis test) makes it a failure."""
    if condition:
        return
    if os.environ.get("MOBILIS_REQUIRE_E2E") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


# Below Linux's ephemeral range (32768-60999): a port the OS picks for bind(0) is also one it may
# give, a moment later, to an outgoing connection (webhook → Rasa, keep-alive), and the server
# started on it then fails with "Address already in use".
_PORTS = range(20000, 32000)
_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on, never handed out twice by this test process."""
    rng = random.Random()
    for _ in range(200):
        port = rng.choice(_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port between 20000 and 32000")


def rasa_and_model() -> tuple[str, str]:
    rasa_bin = os.environ.get("MOBILIS_RASA_BIN", "")
    model = os.environ.get("MOBILIS_MODEL", "")
    require(bool(rasa_bin) and Path(rasa_bin).exists(), "MOBILIS_RASA_BIN not set: run ./mobilis test")
    require(bool(model) and Path(model).exists(), "MOBILIS_MODEL not set or missing: run ./mobilis test")
    return rasa_bin, model


def english_model() -> str:
    model = os.environ.get("MOBILIS_MODEL_EN", "")
    require(bool(model) and Path(model).exists(), "MOBILIS_MODEL_EN not set or missing: run ./mobilis test")
    return model


@contextmanager
def running_stack(
    workdir: Path,
    env: dict[str, str | None] | None = None,
    operator: str = "embedded",
    english: bool = False,
    backoffice: bool = False,
) -> Iterator[StackClient]:
    """Action server, Rasa and the dev-mode webhook on free loopback ports, on a fresh migrated
    SQLite database with the catalogue and demo data. Each process writes stdout+stderr to
    `<workdir>/logs/<name>.log` (actions, rasa, webhook); they are stopped on exit.
    `operator="tmf"`: the assistant talks TM Forum to the local operator stub (its own process).
    `english=True`: the English model's Rasa server too (MOBILIS_MODEL_EN), for visitors' journeys."""
    from bot.db.base import session_scope
    from bot.db.migrate import upgrade
    from bot.ops.launcher import Ports, Stack
    from bot.services.purchasing.catalogue import sync_catalogue
    from bot.tools.demo import load_demo

    rasa_bin, model = rasa_and_model()
    model_en = english_model() if english else None
    db_url = f"sqlite:///{workdir / 'e2e.db'}"
    upgrade(db_url)
    with session_scope(db_url) as session:
        sync_catalogue(session)
    with session_scope(db_url) as session:
        load_demo(session)

    # The stack's own copy of the FAQ: the back office's edits (browser test) never touch faq/.
    faq_dir = workdir / "faq"
    shutil.copytree(Path(__file__).resolve().parents[2] / "faq", faq_dir)
    ports = Ports(
        webhook=free_port(),
        rasa=free_port(),
        actions=free_port(),
        operator=free_port(),
        backoffice=free_port() if backoffice else None,
    )
    settings = {
        "DATABASE_URL": db_url,
        "MOBILIS_DEV_MODE": "1",
        "FB_APP_SECRET": E2E_APP_SECRET,
        "FB_VERIFY_TOKEN": "e2e-verify",
        "FB_PAGE_ACCESS_TOKEN": "e2e-page-token",
        "GRAPH_API_URL": None,  # the webhook replies through its own stand-in Graph API
        "MOBILIS_FAQ_DIR": str(faq_dir),
    }
    settings.update(env or {})
    log_dir = workdir / "logs"
    ports.rasa_en = free_port()
    running = Stack(
        rasa_bin=rasa_bin,
        model=model,
        model_en=model_en,
        ports=ports,
        env=settings,
        log_dir=log_dir,
        operator_stub=operator == "tmf",
    )
    try:
        running.start(timeout=240)
    except (TimeoutError, RuntimeError):
        for log in sorted(log_dir.glob("*.log")):
            sys.stderr.write(f"\n===== {log.name} =====\n{log.read_text(errors='replace')[-4000:]}\n")
        raise
    try:
        yield StackClient(
            base_url=f"http://127.0.0.1:{ports.webhook}",
            rasa_url=f"http://127.0.0.1:{ports.rasa}",
            db_url=db_url,
            log_dir=log_dir,
            app_secret=settings["FB_APP_SECRET"],
            rasa_token=running.rasa_api_params["token"],
            internal_token=running._environment()["MOBILIS_INTERNAL_TOKEN"],
            actions_url=f"http://127.0.0.1:{ports.actions}",
            backoffice_url=f"http://127.0.0.1:{ports.backoffice}" if backoffice else "",
            faq_dir=faq_dir,
        )
    finally:
        running.stop()
