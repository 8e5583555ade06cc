"""The stand-in Graph API as a process of its own, for multi-process topologies and benchmarks.

    python -m bot.devtools.standin_server --port 8095 [--token TOKEN]

In dev mode the webhook serves its own stand-in in-process; with several webhook processes they
must all send to ONE stand-in, which this runs. Besides Graph's own routes it answers, for tests
and benchmarks only (never Facebook's API):
  GET  /_standin/sends?after=SEQ     every Send API call recorded after SEQ, oldest first
  POST /_standin/fail                {"code", "http_status", "subcode", "count"}: next sends fail
  POST /_standin/reset               forget everything
"""
from __future__ import annotations

import argparse
import logging

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from bot.devtools.graph_standin import StandinStore, create_standin_app


def create_app(store: StandinStore) -> Flask:
    app = create_standin_app(store)

    @app.get("/_standin/sends")
    def sends():
        after = request.args.get("after", default=0, type=int)
        with store._lock:
            return jsonify([record for record in store.sends if record["seq"] > after])

    @app.post("/_standin/fail")
    def fail():
        body = request.get_json(force=True)
        store.fail_next(int(body.get("code", 2)), http_status=int(body.get("http_status", 500)),
                        subcode=body.get("subcode"), count=int(body.get("count", 1)))
        return jsonify({"ok": True})

    @app.post("/_standin/reset")
    def reset():
        return jsonify({"removed": store.reset()})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Stand-in Graph API (local tests and benchmarks)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--token", default=None, help="page access token to expect (default: any)")
    args = parser.parse_args()
    logging.basicConfig(level="WARNING")
    server = make_server(args.host, args.port, create_app(StandinStore(expected_token=args.token)), threaded=True)
    print(f"Stand-in Graph API on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
