"""The stand-in Graph API as a process of its own, for multi-process topologies and benchmarks.

    python -m bot.devtools.standin_server --port 8095 [--token TOKEN]

In dev mode the webhook serves its own stand-in in-process; with several webhook processes they
must all send to ONE stand-in, which this runs. Besides Graph's own routes it answers, for tests
and benchmarks only (never Facebook's API):
  GET  /_standin/sends?after=SEQ     every Send API call recorded after SEQ, oldest first
  POST /_standin/fail                {"code", "http_status", "subcode", "count"}: next sends fail
  POST /_standin/reset               forget everything
With --echo-url and --app-secret it also plays Meta's message echoes: each message it accepts is
posted back, signed, to the webhook as `message.is_echo` with the message's `metadata`, as Meta
does for a page subscribed to `message_echoes`.
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import threading
import time
from typing import Any

import requests
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.serving import make_server

from bot import logmask
from bot.channel.signature import SIGNATURE_HEADER, sign
from bot.devtools.graph_standin import StandinStore, create_standin_app

log = logging.getLogger(__name__)


class EchoingStore(StandinStore):
    """A stand-in store that echoes each accepted message back to the webhook, in order."""

    def __init__(self, expected_token: str | None, echo_url: str, app_secret: str):
        super().__init__(expected_token=expected_token)
        self._echo_url, self._secret = echo_url, app_secret
        self._echoes: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._post_echoes, name="standin-echoes", daemon=True).start()

    def record_send(self, payload: dict[str, Any]) -> dict[str, Any]:
        record = super().record_send(payload)
        if record["kind"] == "message":
            self._echoes.put(record)
        return record

    def _post_echoes(self) -> None:
        session = requests.Session()
        while True:
            record = self._echoes.get()
            item = {
                "sender": {"id": "PAGE"},
                "recipient": {"id": record["psid"]},
                "timestamp": int(time.time() * 1000),
                "message": {"is_echo": True, "app_id": 1, "mid": record["message_id"], **record["message"]},
            }
            body = json.dumps(
                {"object": "page", "entry": [{"id": "PAGE", "time": item["timestamp"], "messaging": [item]}]}
            ).encode()
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body)}
            for attempt in range(10):  # like Meta, redeliver until a 200 (a webhook worker may be restarting)
                try:
                    if session.post(self._echo_url, data=body, headers=headers, timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2 * (attempt + 1))
            else:
                log.warning("echo of %s not delivered", record["message_id"])


def create_app(store: StandinStore) -> Flask:
    app = create_standin_app(store)

    @app.get("/_standin/sends")
    def sends() -> ResponseReturnValue:
        after = request.args.get("after", default=0, type=int)
        with store._lock:
            return jsonify([record for record in store.sends if record["seq"] > after])

    @app.post("/_standin/fail")
    def fail() -> ResponseReturnValue:
        body = request.get_json(force=True)
        store.fail_next(
            int(body.get("code", 2)),
            http_status=int(body.get("http_status", 500)),
            subcode=body.get("subcode"),
            count=int(body.get("count", 1)),
        )
        return jsonify({"ok": True})

    @app.post("/_standin/reset")
    def reset() -> ResponseReturnValue:
        return jsonify({"removed": store.reset()})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Stand-in Graph API (local tests and benchmarks)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--token", default=None, help="page access token to expect (default: any)")
    parser.add_argument("--echo-url", default=None, help="webhook URL to post message echoes to")
    parser.add_argument("--app-secret", default=None, help="app secret signing the echoes")
    args = parser.parse_args()
    logmask.configure(level="WARNING")  # the access log would print each request's access_token
    store: StandinStore
    if args.echo_url and args.app_secret:
        store = EchoingStore(args.token, args.echo_url, args.app_secret)
    else:
        store = StandinStore(expected_token=args.token)
    server = make_server(args.host, args.port, create_app(store), threaded=True)
    print(f"Stand-in Graph API on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
