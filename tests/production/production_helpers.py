"""Driving the production topology as Messenger does, and checking what reached the users."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import requests
from sqlalchemy import create_engine, pool, select
from sqlalchemy.orm import Session

from bot.channel.processing import APOLOGY_TEXT, SLOW_TEXT
from bot.channel.signature import SIGNATURE_HEADER, sign
from bot.db import messaging as m

# What subscribers send without a linked line: FAQ, lost phone, help, agencies, chit-chat.
MESSAGES = [
    "bonjour",
    "code puk",
    "pas de reseau",
    "g perdu mon tel",
    "ou est lagence la plus proche",
    "merci",
    "c koi le 1000",
    "roaming en australie",
    "aide",
    "au revoir",
]


@dataclass
class TopologyClient:
    stack: object  # bot.ops.topology.Topology
    run: str
    _clock: int = field(default=0)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.stack.ports.webhook}"

    @property
    def standin(self) -> str:
        return f"http://127.0.0.1:{self.stack.standin_port}"

    def psid(self, name: str) -> str:
        return f"{self.run}-{name}"

    def _timestamp(self) -> int:
        with self._lock:  # strictly increasing, as Messenger stamps one user's messages
            self._clock = max(self._clock + 1, int(time.time() * 1000))
            return self._clock

    def deliver(self, psid: str, text: str, mid: str, deadline: float = 60.0) -> None:
        """POST one signed event like Meta: redelivered until a 200 (dedup makes that safe)."""
        body = json.dumps(
            {
                "object": "page",
                "entry": [
                    {
                        "id": "PAGE",
                        "time": int(time.time() * 1000),
                        "messaging": [
                            {
                                "sender": {"id": psid},
                                "recipient": {"id": "PAGE"},
                                "timestamp": self._timestamp(),
                                "message": {"mid": mid, "text": text},
                            }
                        ],
                    }
                ],
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.stack._environment()["FB_APP_SECRET"], body),
        }
        give_up = time.monotonic() + deadline
        while True:
            try:
                response = requests.post(f"{self.webhook}/webhook", data=body, headers=headers, timeout=10)
                if response.status_code == 200:
                    return
            except requests.RequestException:
                pass  # e.g. the worker holding this connection was killed: Meta would retry too
            if time.monotonic() > give_up:
                raise AssertionError(f"webhook never accepted {mid}")
            time.sleep(0.2)

    def converse_all(self, scripts: dict[str, list[str]]) -> dict[str, list[str]]:
        """Every user sends their messages in order (without waiting for answers), all at once."""
        mids: dict[str, list[str]] = {}

        def one_user(psid: str, texts: list[str]) -> None:
            mids[psid] = []
            for index, text in enumerate(texts):
                mid = f"m_{psid}_{index}"
                self.deliver(psid, text, mid)
                mids[psid].append(mid)
                time.sleep(0.05)

        threads = [threading.Thread(target=one_user, args=item) for item in scripts.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return mids

    # ---- reading the outcome ----

    def events(self, psids) -> dict[str, list[m.InboundEvent]]:
        engine = create_engine(self.stack.database_url, poolclass=pool.NullPool)
        try:
            with Session(engine) as session:
                rows = session.scalars(
                    select(m.InboundEvent)
                    .where(m.InboundEvent.sender_id.in_(list(psids)))
                    .order_by(m.InboundEvent.event_time, m.InboundEvent.id)
                ).all()
                session.expunge_all()
        finally:
            engine.dispose()
        by_user = defaultdict(list)
        for row in rows:
            by_user[row.sender_id].append(row)
        return by_user

    def recorded_notices(self, event_ids: list[int]) -> dict[int, list[str]]:
        """The webhook's own notices ("Un instant…", apology) recorded as sent, by inbound event."""
        engine = create_engine(self.stack.database_url, poolclass=pool.NullPool)
        try:
            with Session(engine) as session:
                rows = session.execute(
                    select(m.OutboundMessage.inbound_event_id, m.OutboundMessage.payload_json)
                    .where(
                        m.OutboundMessage.inbound_event_id.in_(event_ids),
                        m.OutboundMessage.status == "sent",
                        m.OutboundMessage.kind == "message",
                    )
                    .order_by(m.OutboundMessage.id)
                ).all()
        finally:
            engine.dispose()
        found = defaultdict(list)
        for event_id, payload in rows:
            text = json.loads(payload).get("message", {}).get("text")
            if text in NOTICES:
                found[event_id].append(text)
        return found

    def wait_finished(self, psids, expected: int, timeout: float = 240.0) -> dict[str, list[m.InboundEvent]]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(psids)
            rows = [row for user in events.values() for row in user]
            if len(rows) == expected and all(row.status in (m.DONE, m.FAILED) for row in rows):
                time.sleep(1.0)  # let any stray duplicate send arrive before checking
                return self.events(psids)
            if time.monotonic() > deadline:
                open_rows = [(r.id, r.status, r.attempts) for r in rows if r.status not in (m.DONE, m.FAILED)]
                raise AssertionError(f"{len(rows)}/{expected} events, still open: {open_rows[:10]}")
            time.sleep(0.5)

    def sends(self) -> list[dict]:
        return requests.get(f"{self.standin}/_standin/sends", timeout=10).json()


def check_answered_once_in_order(
    client: TopologyClient, scripts: dict[str, list[str]], events: dict[str, list[m.InboundEvent]]
) -> int:
    """Each user received exactly the answers to their messages, each once, in the order sent.

    The reference is each event's stored answer (what Rasa said for it): the bubbles that reached
    the stand-in for a user must be those answers concatenated in sending order — a lost, swapped
    or doubled bubble breaks the match. The webhook's own notices are part of the reference where
    the product may send them: "Un instant…" (Rasa slow) or the apology (Rasa down) before an
    event's answer, when they are recorded as outbound messages of that event — and every notice
    recorded as sent must have arrived. One exception, the documented limit of the Send API (no
    idempotency key): in a turn interrupted by a killed process (attempts > 1), the one bubble in
    flight at the kill may arrive twice, right after itself, and a notice sent just before the kill
    may be unrecorded. Returns how many such doubles were seen.
    """
    received = defaultdict(list)
    for record in client.sends():
        if record["kind"] == "message":  # without the delivery tag, to compare with Rasa's answer
            received[record["psid"]].append({k: v for k, v in record["message"].items() if k != "metadata"})
    notices = client.recorded_notices([row.id for rows in events.values() for row in rows])
    doubled = 0
    for psid, texts in scripts.items():
        rows = events[psid]
        assert [row.text for row in rows] == texts, f"{psid}: events stored out of order or missing"
        assert all(row.status == m.DONE and row.error is None for row in rows), [
            (row.id, row.status, row.error) for row in rows if row.status != m.DONE or row.error
        ]
        answers = []
        for row in rows:
            answer = json.loads(row.replies_json or "[]")
            assert answer and row.replies_sent == len(answer), f"{psid}: event {row.id} not fully answered"
            answers.append(Answer(answer, row.attempts > 1, notices.get(row.id, [])))
        found = _match(received[psid], answers)
        assert found is not None, (
            f"{psid}: bubbles lost, doubled or out of order: received "
            f"{[_short(b) for b in received[psid]]}, answers "
            f"{[[_short(b) for b in a.bubbles] for a in answers]}"
        )
        doubled += found
    return doubled


NOTICES = frozenset({SLOW_TEXT, APOLOGY_TEXT})


@dataclass
class Answer:
    bubbles: list[dict]
    resumed: bool  # attempts > 1: interrupted by a killed process
    notices: list[str]  # notice texts recorded as sent for this event, in order


def _match(got: list[dict], answers: list[Answer]) -> int | None:
    """Fewest doubles explaining `got` from the answers in order (see above), or None."""
    expected = [(bubble, a.resumed, index) for index, a in enumerate(answers) for bubble in a.bubbles]
    first_of = {}
    for position, (_, _, event) in enumerate(expected):
        first_of.setdefault(event, position)

    def notices_then(g: int, e: int, used: frozenset) -> int | None:
        """Before an event's first bubble: its recorded notices must be there (a resumed event may
        also show an unrecorded one), then its answer."""
        answer = answers[expected[e][2]]
        for text in answer.notices:
            if g >= len(got) or got[g] != {"text": text}:
                return None
            g += 1
        best = walk(g, e, used)
        if best is None and answer.resumed and g < len(got) and got[g].get("text") in NOTICES:
            best = walk(g + 1, e, used)
        return best

    def walk(g: int, e: int, used: frozenset) -> int | None:
        if e == len(expected):
            return 0 if g == len(got) else None
        bubble, resumed, event = expected[e]
        if g >= len(got) or got[g] != bubble:
            return None
        nxt = e + 1
        step = (
            (lambda g2, u: notices_then(g2, nxt, u))
            if nxt < len(expected) and first_of[expected[nxt][2]] == nxt
            else (lambda g2, u: walk(g2, nxt, u))
        )
        best = step(g + 1, used)
        if best is None and resumed and event not in used and g + 1 < len(got) and got[g + 1] == bubble:
            more = step(g + 2, used | {event})
            best = None if more is None else more + 1
        return best

    if not expected:
        return 0 if not got else None
    return notices_then(0, 0, frozenset())


def _short(bubble: dict) -> str:
    text = bubble.get("text") or json.dumps(bubble, ensure_ascii=False)
    return text[:30]
