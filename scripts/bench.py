"""Benchmark: the full Messenger path (signed webhook POST → last Send API call) against bare Rasa.

    .venv/app/bin/python scripts/bench.py            # full run (≈ 6–8 min on the 2-core box)
    .venv/app/bin/python scripts/bench.py --quick    # smoke run (≈ 2 min)
    .venv/app/bin/python scripts/bench.py --with-training   # also times `rasa train` into /tmp

One run starts its own processes on free 127.0.0.1 ports (never 8080/5005/5055): a stand-in Graph
API (scripts/bench_graph_standin.py), the action server, the Rasa server with models/mobilis.tar.gz
and the webhook in production mode (gunicorn, no MOBILIS_DEV_MODE), on a fresh SQLite database in
/tmp with the catalogue and the demo lines. Simulated subscribers (one PSID each, linked to a demo
line, CGU accepted) play realistic French conversations; each sends its next message only once the
previous answer has fully arrived.

Timing (all CLOCK_MONOTONIC, shared by the processes of one Linux machine):
- ours: t0 just before the signed POST /webhook; ack = its 200; end = arrival, at the stand-in, of
  the last Send API `message` of that turn. Turns are cut on the `typing_on` each turn starts with,
  and the number of bubbles a turn must produce is learnt in a calibration pass, so the end is
  exact whatever the polling: the stand-in pushes every send on one streamed response.
- bare Rasa: the same messages, same sequence per user (own PSIDs, same lines), posted to
  /webhooks/mobilis/webhook of the same Rasa server (the internal channel); end = its HTTP answer.
The two paths alternate in A/B/B/A rounds at each concurrency so machine noise hits both alike.

Writes results/bench/latency.json, docs/benchmarks.md and docs/img/bench-latency.png (the plot is
drawn by scripts/bench_plot.py in .venv/rasa, which has matplotlib).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import itertools
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
from bench_report import fmt_ms, fmt_ratio, ratio, write_report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP_PY = ROOT / ".venv" / "app" / "bin" / "python"
RASA_BIN = ROOT / ".venv" / "rasa" / "bin" / "rasa"
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
MODEL = ROOT / "models" / "mobilis.tar.gz"
RESULTS = ROOT / "results" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "img" / "bench-latency.png"

APP_SECRET = "bench-app-secret-0123456789"
VERIFY_TOKEN = "bench-verify-token"
PAGE_TOKEN = "bench-page-token-0123456789"
PAGE_ID = "BENCHPAGE"
SIGNATURE_HEADER = "X-Hub-Signature-256"
TURN_TIMEOUT = 60.0  # seconds before a turn counts as lost


# Demo lines (docs/demo-lines.md) a subscriber can consult; 92 11 11 is suspended, left out.
DEMO_LINES = ["791234", "874512", "797878", "771020", "951177", "781515", "835050", "546789"]

# Conversations as subscribers type them. A step is plain text, or ("pick", prefix, title):
# tap the first quick reply of the previous answer whose payload starts with prefix (the webhook
# forwards quick_reply.payload to Rasa as the text; bare Rasa gets the same payload).
SCRIPTS: list[tuple[str, list]] = [
    ("consultation", ["bonjour", "solde", "ma conso", "mon offre", "merci"]),
    ("achat", ["acheter recharge", ("pick", "/choose_product", None), ("pick", "/confirm_purchase", None), "merci"]),
    ("faq", ["code puk", "pas de reseau", "c koi le code pin", "ok merci"]),
    ("mixte", ["il me reste combien", "mes recharges", "notifications", "agence kone", "au revoir"]),
    (
        "achat-internet",
        [
            "je veux un pass internet",
            ("pick", "/choose_product", None),
            ("pick", "/cancel_purchase", None),
            "mon offre",
        ],
    ),
    ("aide", ["slt", "hors forfait", "cgu", "pas de reseau a kone", "merci bcp"]),
]
# Each script always runs on the same demo line, so that the calibration pass (one user per script)
# sees the answers every later user of that script gets (a purchase list has more bubbles on a
# line with purchases than on one without).
SCRIPT_LINES = [DEMO_LINES[i % len(DEMO_LINES)] for i in range(len(SCRIPTS))]


# ---------------------------------------------------------------- small pure helpers (unit-tested)


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), like numpy's default; None when empty."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(data[lo] + (data[hi] - data[lo]) * (pos - lo))


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values) if values else None,
        "max": max(values) if values else None,
    }


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _notice_texts() -> frozenset[str]:
    """Texts the channel sends on its own while an answer is pending ("un instant…")."""
    texts = set()
    try:
        from bot.channel import processing

        for name in ("SLOW_TEXT",):
            if isinstance(getattr(processing, name, None), str):
                texts.add(getattr(processing, name))
    except Exception:
        pass
    return frozenset(texts)


NOTICE_TEXTS = _notice_texts()


def is_answer(send: dict) -> bool:
    """A bubble of the answer: a `message` send that is not a waiting notice."""
    return send.get("kind") == "message" and (send.get("message") or {}).get("text") not in NOTICE_TEXTS


def segment_turns(sends: list[dict]) -> list[list[dict]]:
    """One PSID's sends in arrival order → one list per turn. Each turn starts with typing_on;
    messages before any typing_on (hand-off, rate-limit notices) form a turn of their own."""
    turns: list[list[dict]] = []
    for send in sends:
        if (send.get("kind") == "sender_action" and send.get("action") == "typing_on") or not turns:
            turns.append([send])
        else:
            turns[-1].append(send)
    return turns


def alternation(rounds: int, paths: tuple[str, ...] = ("ours", "bare")) -> list[str]:
    """A/B/B/A/A/B… (with more paths: rotated and mirrored each round), so each path runs early
    and late as often as the others and slow phases of the machine hit all of them."""
    order: list[str] = []
    for r in range(rounds):
        rotated = list(paths[(r // 2) % len(paths) :]) + list(paths[: (r // 2) % len(paths)])
        order += rotated if r % 2 == 0 else rotated[::-1]
    return order


def bubbles(replies: list[dict]) -> int:
    """How many Send API messages the channel makes of a Rasa REST answer."""
    try:
        from bot.channel.formatting import messages_from_rasa

        return len(messages_from_rasa(replies))
    except Exception:  # the channel code changes under us: fall back to one per reply
        return len(replies)


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Starts and stops the benchmark's processes with bot.ops.launcher.Stack (same start-up as
    `./mobilis run` and the e2e tests)."""

    def __init__(self, env: dict[str, str | None], log_dir: Path, ports: dict[str, int]):
        from bot.ops.launcher import Ports, Stack

        self.log_dir, self.ports = log_dir, ports
        self.procs: dict[str, subprocess.Popen] = {}
        self._stack = Stack(
            rasa_bin=str(RASA_BIN),
            model=str(MODEL),
            ports=Ports(webhook=ports["webhook"], rasa=ports["rasa"], actions=ports["actions"], backoffice=None),
            env=env,
            log_dir=log_dir,
        )

    def environment(self) -> dict[str, str]:
        return self._stack._environment()

    def spawn(self, name: str, argv: list[str]) -> None:
        self._stack._spawn(name, argv)
        self.procs[name] = self._stack.processes[-1]

    def wait(self, url: str, deadline: float, ready=lambda r: True, params: dict | None = None) -> None:
        try:
            self._stack._wait(url, deadline, ready, params)
        except RuntimeError as error:  # a process died: show the end of its log
            name = str(error).split(" ", 1)[0]
            log = self.log_dir / f"{name}.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{error}\n{tail}") from None

    def stop(self) -> None:
        self._stack.stop()


def tree_rss_mb(pid: int) -> tuple[float, int]:
    """VmRSS of a process and all its descendants (gunicorn master + workers), in MB."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children[ppid].append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    total, count, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    count += 1
        except OSError:
            continue
        todo.extend(children.get(current, []))
    return total / 1024.0, count


def tree_cpu_s(pid: int) -> float:
    """utime + stime (seconds) of a process and its descendants, from /proc/<pid>/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += stats[current][1]
        todo.extend(p for p, (ppid, _) in stats.items() if ppid == current)
    return total


def cpu_snapshot(procs: dict[str, subprocess.Popen]) -> dict[str, float]:
    snap = {name: tree_cpu_s(proc.pid) for name, proc in procs.items()}
    times = os.times()
    snap["bench_driver"] = times.user + times.system
    return snap


# ---------------------------------------------------------------- database set-up


def prepare_database(db_url: str, env: dict[str, str]) -> None:
    for module in ("bot.db.migrate", "bot.services.purchasing.catalogue", "bot.tools.demo"):
        subprocess.run([str(APP_PY), "-m", module], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def link_users(db_url: str, psids_by_line: list[tuple[str, str]]) -> None:
    """Link each PSID to its demo line and record its CGU acceptance, as a subscriber who did
    both earlier. link_line_for_dev refuses outside dev mode: the flag is set in THIS process only
    (the webhook and the action server run without it)."""
    from bot.db.base import session_scope
    from bot.services.identity.linking import link_line_for_dev
    from bot.services.privacy.consent import record_consent

    previous = os.environ.get("MOBILIS_DEV_MODE")
    os.environ["MOBILIS_DEV_MODE"] = "1"
    try:
        with session_scope(db_url) as session:
            for psid, msisdn in psids_by_line:
                link_line_for_dev(session, psid, msisdn)
                record_consent(session, psid)
    finally:
        if previous is None:
            os.environ.pop("MOBILIS_DEV_MODE", None)
        else:
            os.environ["MOBILIS_DEV_MODE"] = previous


# ---------------------------------------------------------------- the stand-in's stream


class SendStream:
    """Reads the stand-in's stream of sends; wakes the conversation waiting for that PSID."""

    def __init__(self, port: int):
        self.port = port
        self.lock = threading.Lock()
        self.by_psid: dict[str, list[dict]] = defaultdict(list)
        self.waiters: dict[str, tuple[int, int, threading.Event]] = {}
        self.count = 0
        self.error: str | None = None
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=None)
        self._conn.request("GET", "/bench/stream")
        self._response = self._conn.getresponse()
        if self._response.status != 200:
            raise RuntimeError(f"stand-in stream answered {self._response.status}")
        self._response.readline()  # hello line: the stream is open before any send
        self._thread = threading.Thread(target=self._run, name="bench-stream", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                line = self._response.readline()
                if not line:
                    self.error = "stream closed"
                    return
                line = line.strip()
                if not line:
                    continue
                send = json.loads(line)
                with self.lock:
                    sends = self.by_psid[send["psid"]]
                    sends.append(send)
                    self.count += 1
                    waiter = self.waiters.get(send["psid"])
                    if waiter and self._done(sends, waiter[0], waiter[1]):
                        waiter[2].set()
        except Exception as exc:  # reported by wait(
            self.error = f"{type(exc).__name__}: {exc}"

    @staticmethod
    def _done(sends: list[dict], turn: int, expected: int) -> bool:
        turns = segment_turns(sends)
        if len(turns) <= turn:
            return False
        return sum(1 for s in turns[turn] if is_answer(s)) >= expected

    def wait_turn(self, psid: str, turn: int, expected: int, timeout: float) -> list[dict] | None:
        """Block until turn `turn` (0-based) of psid has `expected` messages; its sends, or None."""
        event = threading.Event()
        with self.lock:
            if self._done(self.by_psid[psid], turn, expected):
                return segment_turns(self.by_psid[psid])[turn]
            self.waiters[psid] = (turn, expected, event)
        ok = event.wait(timeout)
        with self.lock:
            self.waiters.pop(psid, None)
            turns = segment_turns(self.by_psid[psid])
            return turns[turn] if ok and len(turns) > turn else None

    def sends_of(self, psid: str) -> list[dict]:
        with self.lock:
            return list(self.by_psid.get(psid, []))


# ---------------------------------------------------------------- the two clients


@dataclass
class Turn:
    path: str
    level: int
    round: int
    psid: str
    script: str
    step: int
    turn: int  # index of this user's message
    text: str
    payload: str | None
    t0: float = 0.0
    t_ack: float | None = None
    t_end: float | None = None
    t_typing: float | None = None
    t_first: float | None = None
    status: int | None = None
    replies: int = 0
    notices: int = 0  # "un instant…" bubbles sent while Rasa was slow
    expected: int | None = None
    error: str | None = None

    @property
    def latency_ms(self) -> float | None:
        return None if self.t_end is None else (self.t_end - self.t0) * 1000.0


_mids = itertools.count(1)


def messenger_body(psid: str, text: str, payload: str | None) -> bytes:
    message: dict = {"mid": f"m_bench_{psid}_{next(_mids)}_{time.time_ns()}", "text": text}
    if payload:
        message["quick_reply"] = {"payload": payload}
    now = int(time.time() * 1000)
    event = {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now, "message": message}
    return json.dumps(
        {"object": "page", "entry": [{"id": PAGE_ID, "time": now, "messaging": [event]}]}, ensure_ascii=False
    ).encode()


def quick_replies_of_messages(messages: list[dict]) -> list[tuple[str, str]]:
    found = []
    for message in messages:
        for chip in message.get("quick_replies") or []:
            if chip.get("payload"):
                found.append((chip.get("title") or chip["payload"], chip["payload"]))
        payload = (message.get("attachment") or {}).get("payload") or {}
        for button in payload.get("buttons") or []:
            if button.get("payload"):
                found.append((button.get("title") or button["payload"], button["payload"]))
        for element in payload.get("elements") or []:
            for button in element.get("buttons") or []:
                if button.get("payload"):
                    found.append((button.get("title") or button["payload"], button["payload"]))
    return found


def quick_replies_of_rasa(replies: list[dict]) -> list[tuple[str, str]]:
    found = [
        (b.get("title") or b["payload"], b["payload"])
        for r in replies
        for b in r.get("buttons") or []
        if b.get("payload")
    ]
    customs = [r["custom"] for r in replies if isinstance(r.get("custom"), dict)]
    return found + quick_replies_of_messages(customs)


class Bench:
    def __init__(
        self, ports: dict[str, int], stream: SendStream, expected: dict | None = None, internal_token: str = ""
    ):
        self.webhook_url = f"http://127.0.0.1:{ports['webhook']}/webhook"
        # Tuning variants ("v:<label>"): other webhook processes, same Rasa, stand-in and database.
        self.variant_urls = {
            name: f"http://127.0.0.1:{port}/webhook" for name, port in ports.items() if name.startswith("v:")
        }
        from bot.internal_auth import HEADER, RASA_CHANNEL_PATH

        self.rasa_url = f"http://127.0.0.1:{ports['rasa']}{RASA_CHANNEL_PATH}"
        self.rasa_headers = {HEADER: internal_token}
        self.stream = stream
        self.expected = expected or {}  # (path, script, step) → bubbles
        self.local = threading.local()

    def session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        return session

    def ours(self, turn: Turn, timeout: float = TURN_TIMEOUT) -> list[tuple[str, str]]:
        body = messenger_body(turn.psid, turn.text, turn.payload)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body)}
        session = self.session()
        url = self.variant_urls.get(turn.path, self.webhook_url)
        turn.t0 = time.monotonic()
        try:
            response = session.post(url, data=body, headers=headers, timeout=30)
            turn.t_ack = time.monotonic()
            turn.status = response.status_code
        except requests.RequestException as exc:
            turn.error = f"post: {type(exc).__name__}"
            return []
        if response.status_code != 200:
            turn.error = f"HTTP {response.status_code}"
            return []
        expected = turn.expected if turn.expected is not None else 1
        sends = self.stream.wait_turn(turn.psid, turn.turn, expected, timeout)
        if sends is None:
            turn.error = "lost: answer incomplete after timeout"
            sends = (segment_turns(self.stream.sends_of(turn.psid)) + [[]] * (turn.turn + 1))[turn.turn]
        self._timestamps(turn, sends)
        return quick_replies_of_messages([s["message"] for s in sends if is_answer(s)])

    @staticmethod
    def _timestamps(turn: Turn, sends: list[dict]) -> None:
        turn.notices = sum(1 for s in sends if s["kind"] == "message" and not is_answer(s))
        messages = [s for s in sends if is_answer(s)]
        turn.replies = len(messages)
        typing = [s["t"] for s in sends if s.get("action") == "typing_on"]
        turn.t_typing = typing[0] if typing else None
        if messages:
            turn.t_first = messages[0]["t"]
            turn.t_end = messages[-1]["t"]

    def bare(self, turn: Turn) -> list[tuple[str, str]]:
        session = self.session()
        message = turn.payload or turn.text
        turn.t0 = time.monotonic()
        try:
            response = session.post(
                self.rasa_url,
                json={"sender": turn.psid, "message": message},
                headers=self.rasa_headers,
                timeout=TURN_TIMEOUT,
            )
            replies = response.json() if response.status_code == 200 else []
            turn.t_end = time.monotonic()
            turn.status = response.status_code
        except (requests.RequestException, ValueError) as exc:
            turn.error = f"rasa: {type(exc).__name__}"
            return []
        if response.status_code != 200:
            turn.error = f"HTTP {response.status_code}"
            turn.t_end = None
            return []
        turn.replies = len(replies)
        turn.bare_bubbles = bubbles(replies)  # type: ignore[attr-defined]
        return quick_replies_of_rasa(replies)


def step_message(step, previous: list[tuple[str, str]]) -> tuple[str, str | None] | None:
    if isinstance(step, str):
        return step, None
    _, prefix, _title = step
    for title, payload in previous:
        if payload.startswith(prefix):
            return title, payload
    return None  # the chip is not there: the conversation cannot go on as scripted


def run_user(
    bench: Bench, path: str, level: int, rnd: int, psid: str, script_index: int, out: list[Turn], lock: threading.Lock
) -> None:
    name, steps = SCRIPTS[script_index]
    previous: list[tuple[str, str]] = []
    for step_index, step in enumerate(steps):
        message = step_message(step, previous)
        if message is None:
            turn = Turn(
                path,
                level,
                rnd,
                psid,
                name,
                step_index,
                step_index,
                str(step),
                None,
                error="script: expected quick reply missing",
            )
            with lock:
                out.append(turn)
            return
        text, payload = message
        turn = Turn(path, level, rnd, psid, name, step_index, step_index, text, payload)
        turn.expected = bench.expected.get((path, name, step_index), bench.expected.get(("ours", name, step_index)))
        previous = bench.bare(turn) if path == "bare" else bench.ours(turn)
        if path == "bare" and not turn.error and turn.expected is not None and turn.replies < turn.expected:
            turn.error = f"lost: {turn.replies} replies, {turn.expected} expected"
        with lock:
            out.append(turn)
        if turn.error and turn.error.startswith(("post", "HTTP", "rasa")):
            return


@dataclass
class Segment:
    path: str
    level: int
    round: int
    users: list[tuple[str, int]]  # (psid, script index) in slot order
    turns: list[Turn] = field(default_factory=list)
    wall_s: float = 0.0
    steady_s: float = 0.0  # from the start until the first conversation slot ran out of users
    steady_turns: int = 0  # turns answered within that window (all slots busy)
    cpu_s: dict = field(default_factory=dict)  # CPU seconds used by each process during the segment


def run_segment(bench: Bench, seg: Segment) -> None:
    """`level` conversations at once; each slot plays its users one after the other."""
    slots: list[list[tuple[str, int]]] = [[] for _ in range(seg.level)]
    for i, user in enumerate(seg.users):
        slots[i % seg.level].append(user)
    lock = threading.Lock()
    start_gate = threading.Barrier(seg.level + 1)

    finished: list[float] = []

    def slot_main(users):
        start_gate.wait()
        for psid, script_index in users:
            run_user(bench, seg.path, seg.level, seg.round, psid, script_index, seg.turns, lock)
        with lock:
            finished.append(time.monotonic())

    threads = [threading.Thread(target=slot_main, args=(users,), daemon=True) for users in slots]
    for thread in threads:
        thread.start()
    start_gate.wait()
    t_start = time.monotonic()
    for thread in threads:
        thread.join()
    ends = [t.t_end for t in seg.turns if t.t_end is not None and not t.error]
    seg.wall_s = (max(ends) if ends else time.monotonic()) - t_start
    steady_end = min(finished) if finished else t_start
    seg.steady_s = steady_end - t_start
    seg.steady_turns = sum(1 for t in ends if t <= steady_end)


# ---------------------------------------------------------------- calibration

TRANSCRIPT: list[dict] = []  # what the calibration pass saw through the webhook (for the report)


def _visible(message: dict) -> str:
    if "text" in message:
        return message["text"]
    payload = (message.get("attachment") or {}).get("payload") or {}
    return payload.get("text") or " | ".join(e.get("title", "") for e in payload.get("elements") or [])


def calibrate(bench: Bench, psids: dict[str, list[str]]) -> tuple[dict, list[str]]:
    """Play every script once on each path (also the warm-up), sequentially, waiting for a quiet
    second after each turn: learns how many bubbles each step gives on each path."""
    expected: dict = {}
    problems: list[str] = []
    for index, (name, steps) in enumerate(SCRIPTS):
        for path in psids:  # bare first: its answers give the bubble counts to expect
            psid = psids[path][index]
            previous: list[tuple[str, str]] = []
            for step_index, step in enumerate(steps):
                message = step_message(step, previous)
                if message is None:
                    problems.append(f"{name} step {step_index} ({path}): expected chip {step[1]} not offered")
                    break
                text, payload = message
                turn = Turn(path, 0, -1, psid, name, step_index, step_index, text, payload)
                if path == "bare":
                    previous = bench.bare(turn)
                    expected[(path, name, step_index)] = turn.replies
                    expected[("bare-bubbles", name, step_index)] = getattr(turn, "bare_bubbles", turn.replies)
                else:
                    turn.expected = 1
                    bench.ours(turn, timeout=30.0)
                    time.sleep(0.7)  # quiet 0.7 s: every bubble of this turn has arrived
                    sends = (segment_turns(bench.stream.sends_of(psid)) + [[]] * (step_index + 1))[step_index]
                    count = sum(1 for s in sends if is_answer(s))
                    expected[(path, name, step_index)] = count
                    previous = quick_replies_of_messages([s["message"] for s in sends if is_answer(s)])
                    if path == "ours":
                        TRANSCRIPT.append(
                            {
                                "script": name,
                                "step": step_index,
                                "user": text,
                                "payload": payload,
                                "bot": [_visible(s["message"])[:160] for s in sends if is_answer(s)],
                                "chips": [t for t, _ in previous][:6],
                            }
                        )
                    want = expected.get(("bare-bubbles", name, step_index))
                    if want is not None and want != count:
                        problems.append(
                            f"{name} step {step_index} ({path}): {count} bubbles through the webhook, "
                            f"{want} expected from Rasa's {expected[('bare', name, step_index)]} replies"
                        )
                if turn.error:
                    raise RuntimeError(
                        f"calibration failed on '{name}' step {step_index} ({path}): {turn.error}; "
                        "see the logs of the work directory"
                    )
    return expected, problems


# ---------------------------------------------------------------- analysis


def analyse(
    segments: list[Segment], stream: SendStream, levels: list[int], paths: tuple[str, ...] = ("ours", "bare")
) -> dict:
    by: dict = defaultdict(list)
    for seg in segments:
        by[(seg.level, seg.path)].append(seg)
    result: dict = {"levels": {}}
    for level in levels:
        entry: dict = {}
        for path in paths:
            segs = by.get((level, path), [])
            turns = [t for s in segs for t in s.turns]
            settled_later = settle_turns(turns, stream) if path != "bare" else 0
            lat = [t.latency_ms for t in turns if t.latency_ms is not None and not t.error]
            acks = [(t.t_ack - t.t0) * 1000 for t in turns if t.t_ack is not None]
            answered = len(lat)
            lost = [t for t in turns if t.error or t.t_end is None]
            wall = sum(s.wall_s for s in segs)
            steady = sum(s.steady_s for s in segs)
            info = {
                "latency_ms": summary(lat),
                "turns": len(turns),
                "answered": answered,
                "lost": len(lost),
                "lost_examples": [f"{t.psid} step {t.step} '{t.text}': {t.error}" for t in lost[:5]],
                "throughput_msg_s": sum(s.steady_turns for s in segs) / steady if steady else None,
                "throughput_whole_msg_s": answered / wall if wall else None,
                "wall_s": wall,
                "steady_s": steady,
                "rounds": [
                    {
                        "round": s.round,
                        "p50": percentile([t.latency_ms for t in s.turns if t.latency_ms is not None], 50),
                        "p95": percentile([t.latency_ms for t in s.turns if t.latency_ms is not None], 95),
                        "throughput": (sum(1 for t in s.turns if t.latency_ms is not None) / s.wall_s)
                        if s.wall_s
                        else None,
                    }
                    for s in segs
                ],
                "samples_ms": [round(x, 2) for x in lat],
            }
            cpu: dict = defaultdict(float)
            for s in segs:
                for name, seconds in s.cpu_s.items():
                    cpu[name] += seconds
            info["cpu_ms_per_turn"] = {k: 1000 * v / answered for k, v in cpu.items()} if answered else {}
            info["cpu_utilisation"] = {k: v / wall for k, v in cpu.items()} if wall else {}
            if path != "bare":
                info["ack_ms"] = summary(acks)
                info["turns_ending_after_calibrated_count"] = settled_later
                (info["duplicates"], info["extra_messages"], info["overlaps"], info["extra_examples"]) = check_ours(
                    turns, stream
                )
                info["stages_ms"] = stages(turns)
            else:
                dups = [t for t in turns if t.expected is not None and t.replies > t.expected]
                info["duplicates"] = 0  # one HTTP answer per message: nothing can arrive twice
                info["extra_messages"] = sum(t.replies - t.expected for t in dups)
                info["extra_examples"] = [
                    f"{t.psid} step {t.step} '{t.text}': {t.replies} replies, {t.expected} calibrated" for t in dups[:5]
                ]
            entry[path] = info
        ours, bare = entry["ours"], entry["bare"]
        round_ratios = [ratio(o["p50"], b["p50"]) for o, b in zip(ours["rounds"], bare["rounds"])]
        round_ratios95 = [ratio(o["p95"], b["p95"]) for o, b in zip(ours["rounds"], bare["rounds"])]
        entry["ratio_p50"] = ratio(ours["latency_ms"]["p50"], bare["latency_ms"]["p50"])
        entry["ratio_p95"] = ratio(ours["latency_ms"]["p95"], bare["latency_ms"]["p95"])
        entry["ratio_p50_rounds_median"] = (
            statistics.median([r for r in round_ratios if r]) if any(round_ratios) else None
        )
        entry["ratio_p95_rounds_median"] = (
            statistics.median([r for r in round_ratios95 if r]) if any(round_ratios95) else None
        )
        entry["round_ratios_p50"] = round_ratios
        for path in paths:
            if path.startswith("v:"):
                v = entry[path]
                v["ratio_p50"] = ratio(v["latency_ms"]["p50"], bare["latency_ms"]["p50"])
                v["ratio_p95"] = ratio(v["latency_ms"]["p95"], bare["latency_ms"]["p95"])
                rr = [ratio(o["p50"], b["p50"]) for o, b in zip(v["rounds"], bare["rounds"])]
                v["ratio_p50_rounds_median"] = statistics.median([r for r in rr if r]) if any(rr) else None
        result["levels"][str(level)] = entry
    return result


def settle_turns(turns: list[Turn], stream: SendStream) -> int:
    """Re-read each turn's end from the stand-in's full log once the run is over: a bubble that
    came after the calibrated count still counts (the turn ends at the LAST bubble). Returns how
    many turns ended later than seen live."""
    later = 0
    by_psid: dict[str, list[Turn]] = defaultdict(list)
    for t in turns:
        by_psid[t.psid].append(t)
    for psid, mine in by_psid.items():
        segs = segment_turns(stream.sends_of(psid))
        for t in mine:
            if t.t_end is None or t.turn >= len(segs):
                continue
            answers = [s for s in segs[t.turn] if is_answer(s)]
            if answers and answers[-1]["t"] > t.t_end:
                t.t_end = answers[-1]["t"]
                t.replies = len(answers)
                later += 1
    return later


def check_ours(turns: list[Turn], stream: SendStream) -> tuple[int, int, int, list[str]]:
    """Duplicates: more typing_on turns than messages posted (an event processed twice) or more
    bubbles than calibrated; overlaps: a bubble that arrived after the user's next message."""
    by_psid: dict[str, list[Turn]] = defaultdict(list)
    for t in turns:
        by_psid[t.psid].append(t)
    duplicates = extra = overlaps = 0
    examples: list[str] = []
    for psid, mine in by_psid.items():
        mine.sort(key=lambda t: t.turn)
        segs = segment_turns(stream.sends_of(psid))
        posted = sum(1 for t in mine if t.status == 200)
        duplicates += max(0, len(segs) - posted)  # an event processed twice starts a second turn
        for t in mine:
            if t.turn < len(segs):
                messages = [s["message"] for s in segs[t.turn] if is_answer(s)]
                count = len(messages)
                duplicates += sum(1 for a, b in itertools.pairwise(messages) if a == b)  # same bubble twice
                if t.expected is not None and count > t.expected:
                    extra += count - t.expected
                    examples.append(f"{psid} step {t.step} '{t.text}': {count} bubbles, {t.expected} calibrated")
                    last = max(s["t"] for s in segs[t.turn])
                    later = [n for n in mine if n.turn == t.turn + 1]
                    if later and last > later[0].t0:
                        overlaps += 1
    return duplicates, extra, overlaps, examples[:5]


def stages(turns: list[Turn]) -> dict:
    """Where the time goes on our path, from the stand-in's timestamps alone."""
    ok = [t for t in turns if t.t_end is not None and not t.error]
    return {
        "ack": summary([(t.t_ack - t.t0) * 1000 for t in ok if t.t_ack]),
        "post_to_typing_on": summary([(t.t_typing - t.t0) * 1000 for t in ok if t.t_typing]),
        "typing_on_to_first_message": summary(
            [(t.t_first - t.t_typing) * 1000 for t in ok if t.t_typing and t.t_first]
        ),
        "first_to_last_message": summary([(t.t_end - t.t_first) * 1000 for t in ok if t.t_first]),
        "bubbles_per_turn": statistics.fmean([t.replies for t in ok]) if ok else None,
        "waiting_notices": sum(t.notices for t in turns),
    }


# ---------------------------------------------------------------- report


def machine_info() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    mem_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "?", ""
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit + (" (+ uncommitted changes)" if dirty else ""),
        "loadavg_start": os.getloadavg(),
    }


def training_time(env: dict[str, str]) -> dict:
    out = Path(tempfile.mkdtemp(prefix="mobilis-bench-train-"))
    argv = [
        str(RASA_BIN),
        "train",
        "--config",
        "nlu/config.yml",
        "--domain",
        "nlu/domain.yml",
        "--data",
        "nlu/data",
        "--out",
        str(out),
        "--fixed-model-name",
        "bench",
    ]
    # An empty training cache: Rasa reuses cached components otherwise (62 s instead of 181 s for
    # unchanged data here), and the shared .rasa/cache is left as it is.
    cache = out / "cache"
    env = dict(env, RASA_CACHE_DIRECTORY=str(cache))
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    shutil.rmtree(out, ignore_errors=True)
    return {
        "seconds": seconds,
        "ok": proc.returncode == 0,
        "cache": "an empty training cache (RASA_CACHE_DIRECTORY in /tmp)",
        "command": " ".join(argv[1:]).replace(str(out), "/tmp/<fresh dir>"),
        "error": None if proc.returncode == 0 else proc.stderr[-500:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Full Messenger path vs bare Rasa benchmark")
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer turns and rounds (1–2 min)")
    parser.add_argument("--levels", default="1,10,50", help="simultaneous conversations (default 1,10,50)")
    parser.add_argument("--turns", type=int, default=None, help="turns per path and level (default 900, quick 120)")
    parser.add_argument("--rounds", type=int, default=None, help="A/B rounds per level (default 6, quick 2)")
    parser.add_argument(
        "--server",
        choices=("gunicorn", "flask"),
        default="gunicorn",
        help="how the webhook is served (gunicorn like production, or python webhook.py)",
    )
    parser.add_argument("--gunicorn-workers", type=int, default=1)
    parser.add_argument("--gunicorn-threads", type=int, default=8)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the webhook and action server (tuning experiments)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL:NAME=VALUE,...",
        help="tuning: one more webhook process with this extra environment, measured in the "
        "same A/B rounds as the others (e.g. workers16:WEBHOOK_WORKERS=16)",
    )
    parser.add_argument("--with-training", action="store_true", help="also time `rasa train` into /tmp")
    parser.add_argument("--label", default="", help="name of this configuration in the outputs")
    parser.add_argument("--out", default=str(RESULTS / "latency.json"))
    parser.add_argument("--doc", default=str(DOC), help="markdown report ('-' to skip)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the /tmp work directory (logs, database)")
    parser.add_argument("--report-only", metavar="JSON", help="only re-render the plot and report from a result file")
    args = parser.parse_args()
    if args.report_only:
        result = json.loads(Path(args.report_only).read_text(encoding="utf-8"))
        publish(result, Path(args.report_only), args)
        return 0

    for needed in (APP_PY, RASA_BIN, MODEL):
        if not Path(needed).exists():
            print(f"missing {needed}: run ./mobilis setup first", file=sys.stderr)
            return 2
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    turns_target = args.turns or (120 if args.quick else 600)
    rounds = args.rounds or (2 if args.quick else 4)
    started_at = datetime.now(UTC)
    machine = machine_info()

    workdir = Path(tempfile.mkdtemp(prefix="mobilis-bench-"))
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    ports = {"webhook": free_port(), "rasa": free_port(), "actions": free_port(), "graph": free_port()}
    variants: dict[str, dict[str, str]] = {}
    for spec in args.variant:
        label, _, assignments_text = spec.partition(":")
        variants[f"v:{label}"] = dict(a.split("=", 1) for a in assignments_text.split(",") if a)
        ports[f"v:{label}"] = free_port()
    paths = ("ours", "bare", *variants)
    extra_env = dict(item.split("=", 1) for item in args.env)
    env: dict[str, str | None] = {
        "MOBILIS_DEV_MODE": None,  # production mode
        "DATABASE_URL": db_url,
        "FB_APP_SECRET": APP_SECRET,
        "FB_VERIFY_TOKEN": VERIFY_TOKEN,
        "FB_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
        "FB_PAGE_ID": PAGE_ID,
        "GRAPH_API_URL": f"http://127.0.0.1:{ports['graph']}",
        "RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ports['actions']}/webhook",
        "PUBLIC_URL": f"http://127.0.0.1:{ports['webhook']}",
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(ports["webhook"]),
        "RASA_TELEMETRY_ENABLED": "false",
        # Card payments through an HTTP provider (the stand-in answers it), and daily purchase
        # limits far above what hundreds of bench users buying on 8 demo lines need.
        "MOBILIS_PAYMENT_PROVIDER": "http",
        "MOBILIS_PAYMENT_SECRET": "bench-payment-secret",
        "MOBILIS_PAYMENT_API_URL": f"http://127.0.0.1:{ports['graph']}/bench/payments",
        "MOBILIS_PAYMENT_API_KEY": "bench-payment-key",
        "MOBILIS_DAILY_PURCHASE_COUNT": "1000000",
        "MOBILIS_DAILY_PURCHASE_XPF": "1000000000",
        "REDIS_URL": None,
        "METRICS_TOKEN": None,
    }
    env.update(extra_env)
    procs = Processes(env, workdir / "logs", ports)
    child_env = procs.environment()
    from bot.ops.launcher import action_server_argv, rasa_argv

    print(f"[bench] work dir {workdir}; ports {ports}", flush=True)
    prepare_database(db_url, child_env)

    # Users: calibration (one per script and path), then every measured segment's users.
    plan: list[Segment] = []
    mean_len = statistics.fmean(len(s) for _, s in SCRIPTS)
    counter = itertools.count()
    for level in levels:
        # At least two users per conversation slot beyond 1: the steady window (all slots busy)
        # then covers most of the round.
        # (--quick: one user per slot, to stay within a minute or two.)
        per_round = max(level if level == 1 or args.quick else 2 * level, math.ceil(turns_target / rounds / mean_len))
        per_round = math.ceil(per_round / level) * level  # every slot plays as many users
        for rnd, path in enumerate(alternation(rounds, paths)):
            r = rnd // len(paths)
            users = []
            for i in range(per_round):
                users.append((f"bench-{path.replace(':', '')}-{level}-{r}-{i}-{next(counter)}", (i + r) % len(SCRIPTS)))
            plan.append(Segment(path, level, r, users))
    calib = {
        path: [f"bench-cal-{path.replace(':', '')}-{i}" for i in range(len(SCRIPTS))]
        for path in ("bare", "ours", *variants)
    }
    assignments = []
    for psids in calib.values():
        assignments += [(psid, SCRIPT_LINES[i]) for i, psid in enumerate(psids)]
    for seg in plan:
        # Same line for the same script on every path: same data, same answers.
        assignments += [(psid, SCRIPT_LINES[script]) for psid, script in seg.users]
    link_users(db_url, assignments)
    print(f"[bench] {len(assignments)} subscribers linked and consented", flush=True)

    try:
        deadline = time.monotonic() + 300
        # The stand-in under gunicorn (threads, HTTP keep-alive like graph.facebook.com): the werkzeug
        # development server closes every connection, which cost ≈ 3 ms per Send API call here
        # against ≈ 1 ms with keep-alive, and would be billed to our path.
        procs.spawn(
            "graph_standin",
            [
                str(ROOT / ".venv" / "app" / "bin" / "gunicorn"),
                f"bench_graph_standin:create_app({PAGE_TOKEN!r})",
                "--pythonpath",
                str(ROOT / "scripts"),
                "--bind",
                f"127.0.0.1:{ports['graph']}",
                "--workers",
                "1",
                "--threads",
                "32",
                "--keep-alive",
                "75",
                "--log-level",
                "warning",
            ],
        )
        procs.spawn("actions", action_server_argv(str(APP_PY), ports["actions"]))
        procs.spawn(
            "rasa",
            rasa_argv(str(RASA_BIN), child_env, str(MODEL), ports["rasa"]),
        )
        if args.server == "gunicorn":
            # Production's gunicorn settings when the repository has them; bind, worker and thread
            # counts from the command line (one process: SQLite and no Redis here).
            conf = ROOT / "deploy" / "gunicorn.conf.py"
            procs.spawn(
                "webhook",
                [str(ROOT / ".venv" / "app" / "bin" / "gunicorn")]
                + (["-c", str(conf)] if conf.exists() else [])
                + [
                    "webhook:app",
                    "--bind",
                    f"127.0.0.1:{ports['webhook']}",
                    "--workers",
                    str(args.gunicorn_workers),
                    "--threads",
                    str(args.gunicorn_threads),
                ],
            )
        else:
            procs.spawn("webhook", [str(APP_PY), "webhook.py"])
        for name, extra in variants.items():
            conf = ROOT / "deploy" / "gunicorn.conf.py"
            procs.spawn(
                name.replace(":", "-"),
                ["env", *(f"{k}={v}" for k, v in extra.items()), str(ROOT / ".venv" / "app" / "bin" / "gunicorn")]
                + (["-c", str(conf)] if conf.exists() else [])
                + [
                    "webhook:app",
                    "--bind",
                    f"127.0.0.1:{ports[name]}",
                    "--workers",
                    "1",
                    "--threads",
                    str(args.gunicorn_threads),
                ],
            )
        procs.wait(f"http://127.0.0.1:{ports['graph']}/bench/health", deadline)
        procs.wait(f"http://127.0.0.1:{ports['actions']}/health", deadline)
        procs.wait(f"http://127.0.0.1:{ports['webhook']}/healthz", deadline)
        for name in variants:
            procs.wait(f"http://127.0.0.1:{ports[name]}/healthz", deadline)
        procs.wait(
            f"http://127.0.0.1:{ports['rasa']}/status",
            deadline,
            ready=lambda r: bool(r.json().get("model_id")),
            params={"token": child_env["RASA_API_TOKEN"]},
        )
        print("[bench] processes ready", flush=True)

        stream = SendStream(ports["graph"])
        bench = Bench(ports, stream, internal_token=child_env["MOBILIS_INTERNAL_TOKEN"])
        expected, problems = calibrate(bench, calib)
        for problem in problems:
            print(f"[bench] calibration: {problem}", flush=True)
        bench.expected = {k: v for k, v in expected.items() if k[0] in ("ours", "bare")}

        for seg in plan:
            before = cpu_snapshot(procs.procs)
            run_segment(bench, seg)
            after = cpu_snapshot(procs.procs)
            seg.cpu_s = {k: after[k] - before.get(k, 0.0) for k in after}
            done = [t for t in seg.turns if t.latency_ms is not None and not t.error]
            print(
                f"[bench] {seg.path:4s} x{seg.level:<3d} round {seg.round}: {len(done)}/{len(seg.turns)} turns, "
                f"p50 {fmt_ms(percentile([t.latency_ms for t in done], 50))} ms, "
                f"{len(done) / seg.wall_s if seg.wall_s else 0:.1f} msg/s",
                flush=True,
            )
        time.sleep(1.0)  # late bubbles (duplicates) would arrive now
        analysis = analyse(plan, stream, levels, paths)
        memory = {name: dict(zip(("rss_mb", "processes"), tree_rss_mb(proc.pid))) for name, proc in procs.procs.items()}
    finally:
        procs.stop()

    training = training_time(child_env) if args.with_training else None
    result = {
        "generated_at": started_at.isoformat(timespec="seconds"),
        "label": args.label,
        "command": " ".join([".venv/app/bin/python", "scripts/bench.py"] + sys.argv[1:]),
        "machine": machine,
        "loadavg_end": os.getloadavg(),
        "config": {
            "levels": levels,
            "turns_per_path_level_target": turns_target,
            "rounds": rounds,
            "server": args.server,
            "gunicorn_workers": args.gunicorn_workers,
            "gunicorn_threads": args.gunicorn_threads,
            "extra_env": extra_env,
            "variants": variants,
            "scripts": [
                {"name": n, "steps": [s if isinstance(s, str) else f"<chip {s[1]}>" for s in st]} for n, st in SCRIPTS
            ],
        },
        "calibration": {
            "expected_bubbles": {f"{k[0]}|{k[1]}|{k[2]}": v for k, v in expected.items()},
            "problems": problems,
            "transcript": TRANSCRIPT,
        },
        "results": analysis,
        "memory": memory,
        "training": training,
        "workdir": str(workdir) if args.keep else None,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)

    publish(result, out, args)
    print()
    print(console_table(result))
    return 0 if all_clean(result) else 1


def publish(result: dict, out: Path, args) -> None:
    """The plot (matplotlib lives in .venv/rasa) and docs/benchmarks.md."""
    if args.doc == "-":
        return
    plot_ok = False
    if not args.no_plot:
        PLOT.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [str(RASA_PY), str(ROOT / "scripts" / "bench_plot.py"), str(out), str(PLOT)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        plot_ok = proc.returncode == 0
        if not plot_ok:
            print(f"[bench] plot failed: {proc.stderr[-800:]}", file=sys.stderr)
    else:
        plot_ok = PLOT.exists()
    Path(args.doc).write_text(write_report(result, plot_ok, ROOT), encoding="utf-8")
    print(f"[bench] wrote {out}, {args.doc}" + (f", {PLOT}" if plot_ok else ""), flush=True)


def all_clean(result: dict) -> bool:
    return all(
        e[p]["lost"] == 0 and e[p]["duplicates"] == 0
        for e in result["results"]["levels"].values()
        for p in ("ours", "bare")
    )


def console_table(result: dict) -> str:
    rows = []
    for level, e in result["results"]["levels"].items():
        o, b = e["ours"], e["bare"]
        rows.append(
            [
                level,
                fmt_ms(o["latency_ms"]["p50"]),
                fmt_ms(o["latency_ms"]["p95"]),
                fmt_ms(o["latency_ms"]["p99"]),
                fmt_ms(b["latency_ms"]["p50"]),
                fmt_ms(b["latency_ms"]["p95"]),
                fmt_ms(b["latency_ms"]["p99"]),
                fmt_ratio(e["ratio_p50"]),
                fmt_ratio(e["ratio_p95"]),
                fmt_ms(o["ack_ms"]["p50"]),
                fmt_ms(o["ack_ms"]["p99"]),
                f"{o['throughput_msg_s'] or 0:.1f}",
                f"{b['throughput_msg_s'] or 0:.1f}",
                f"{o['lost']}/{o['duplicates']}",
                f"{b['lost']}/{b['duplicates']}",
            ]
        )
    header = [
        "conv",
        "ours p50",
        "p95",
        "p99",
        "bare p50",
        "p95",
        "p99",
        "ratio p50",
        "ratio p95",
        "ack p50",
        "ack p99",
        "ours msg/s",
        "bare msg/s",
        "ours lost/dup",
        "bare lost/dup",
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    for level, e in result["results"]["levels"].items():
        for path, v in e.items():
            if path.startswith("v:"):
                lines.append(
                    f"  variant {path[2:]} at {level}: p50 {fmt_ms(v['latency_ms']['p50'])} p95 "
                    f"{fmt_ms(v['latency_ms']['p95'])} ratio p50 {fmt_ratio(v.get('ratio_p50'))} "
                    f"(rounds median {fmt_ratio(v.get('ratio_p50_rounds_median'))}), ack p99 "
                    f"{fmt_ms(v['ack_ms']['p99'])}, {v['throughput_msg_s'] or 0:.1f} msg/s, "
                    f"lost/dup {v['lost']}/{v['duplicates']}"
                )
    mem = ", ".join(f"{k} {v['rss_mb']:.0f} MB" for k, v in result["memory"].items())
    return "\n".join(lines) + f"\n(latencies in ms)  RSS after run: {mem}"


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds to main()'s finally: processes stopped


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
