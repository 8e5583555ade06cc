"""Stand-in Graph API for the benchmark, as a process of its own (`scripts/bench.py` starts it).

    gunicorn 'bench_graph_standin:create_app("bench-page-token")' --pythonpath scripts \
        --bind 127.0.0.1:18099 --workers 1 --threads 32 --keep-alive 75     # what bench.py runs
    python scripts/bench_graph_standin.py --port 18099 --token bench-page-token   # werkzeug, no keep-alive

ONE process (the log of sends lives in its memory), threads for concurrency, HTTP keep-alive as
graph.facebook.com does: werkzeug's development server closes each connection (≈ 3 ms per call
here against ≈ 1 ms), which would be billed to the webhook's path.

Serves bot/devtools/graph_standin.py's blueprint (same validation and answers as in the tests)
and adds, for the benchmark only:

- an arrival timestamp per Send API call, taken in `before_request` with CLOCK_MONOTONIC, which
  Linux shares between processes: bench.py compares it with the time it sent the webhook POST;
- `GET /bench/stream`: every recorded send, one JSON line each, pushed as it arrives (one
  long-lived response instead of polling, so turn boundaries are seen within a millisecond and
  the benchmark adds no polling load);
- `GET /bench/sends`: the whole log (after a run, for the analysis);
- `POST /bench/payments`: a payment provider stand-in (MOBILIS_PAYMENT_API_URL), so that the
  card-payment purchase flow runs in production mode as it would against a real provider.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import threading
import time
import uuid

from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import make_server

from bot.devtools.graph_standin import StandinStore, make_standin_blueprint


class BenchLog:
    """Arrival-ordered log of Send API calls, with a condition for the streaming readers."""

    def __init__(self):
        self.cond = threading.Condition()
        self.entries: list[dict] = []

    def add(self, entry: dict) -> None:
        with self.cond:
            entry["i"] = len(self.entries)
            self.entries.append(entry)
            self.cond.notify_all()

    def since(self, index: int, timeout: float) -> list[dict]:
        with self.cond:
            if len(self.entries) <= index:
                self.cond.wait(timeout)
            return self.entries[index:]


class BenchStore(StandinStore):
    """StandinStore that also logs each accepted send with its arrival time (monotonic)."""

    def __init__(self, log: BenchLog, **kwargs):
        super().__init__(**kwargs)
        self.bench_log = log

    def record_send(self, payload: dict) -> dict:
        record = super().record_send(payload)
        self.bench_log.add(
            {
                "t": getattr(g, "t_arrival", time.monotonic()),
                "psid": record["psid"],
                "kind": record["kind"],
                "action": record["sender_action"],
                "message": record["message"],
            }
        )
        return record

    def keep_memory_flat(self) -> None:
        # The base store keeps every send for its own queries; the bench log is enough here.
        with self._lock:
            self.sends.clear()


def create_app(token: str) -> Flask:
    log = BenchLog()
    store = BenchStore(log, expected_token=token)
    app = Flask("bench_graph_standin")
    app.extensions["graph_standin"] = store
    app.extensions["bench_log"] = log

    @app.before_request
    def _arrival():
        g.t_arrival = time.monotonic()

    app.register_blueprint(make_standin_blueprint(store))

    @app.get("/bench/stream")
    def stream():
        start = int(request.args.get("from", "0"))

        def generate():
            index = start
            yield b'{"hello": true}\n'
            while True:
                new = log.since(index, timeout=1.0)
                if not new:
                    yield b"\n"  # keep-alive; also lets the server notice a closed client
                    continue
                index += len(new)
                yield "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in new).encode()
                store.keep_memory_flat()

        return Response(
            generate(),
            mimetype="application/x-ndjson",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/bench/sends")
    def sends():
        start = int(request.args.get("from", "0"))
        with log.cond:
            return jsonify({"sends": log.entries[start:], "count": len(log.entries)})

    @app.get("/bench/health")
    def health():
        return jsonify({"ok": True, "sends": len(log.entries), "requests": store.request_count})

    sessions = itertools.count(1)

    @app.post("/bench/payments")
    def payments():  # what HttpPaymentProvider expects: {"id", "url"}
        body = request.get_json(silent=True) or {}
        ref = f"pay_{next(sessions)}_{uuid.uuid4().hex[:8]}"
        return jsonify(
            {
                "id": ref,
                "url": f"http://127.0.0.1:{request.host.split(':')[-1]}/bench/pay/{ref}",
                "reference": body.get("reference"),
            }
        )

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True, help="the page token the webhook must present")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log: it costs CPU per send
    server = make_server(args.host, args.port, create_app(args.token), threaded=True)
    print(f"bench stand-in Graph API on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
