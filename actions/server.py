"""The action server, started with `python -m actions.server [--interface H] [--port P]`.

rasa-sdk's own `python -m rasa_sdk` listens on every interface and runs whatever action any
caller names for whatever `sender_id` its body carries: from the LAN, one POST returned a line's
balance. Here the same rasa-sdk application listens on loopback unless told otherwise
(ACTION_SERVER_HOST; 0.0.0.0 only inside a container network that only Rasa shares), and every
route but /health refuses a request without the internal token, which Rasa sends as a header
(nlu/endpoints*.yml). The token is read at start: outside development mode the server does not
start without a real one.
"""

from __future__ import annotations

import argparse
import logging

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response

import actions  # noqa: F401 - installs the log masking, then registers every action
from bot.config import get_settings
from bot.internal_auth import HEADER, internal_token, token_matches

log = logging.getLogger(__name__)
OPEN_PATHS = frozenset({"/health"})  # liveness probes of launchers and compose


def configure_logging() -> None:
    """rasa-sdk's log format at LOG_LEVEL; the masking filters come with the actions package."""
    utils.configure_colored_logging(get_settings().log_level)
    utils.update_sanic_log_level()


def build_app(token: str) -> Sanic:
    """The application: rasa-sdk's routes, every action of the package, and the token check."""
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=None)

    @app.middleware("request")
    async def only_rasa(request):
        if request.path not in OPEN_PATHS and not token_matches(request.headers.get(HEADER), token):
            return response.json({"error": "forbidden"}, status=403)
        return None

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Mobilis action server (rasa-sdk)")
    settings = get_settings()  # outside development mode, no secret may keep a development value
    parser.add_argument("--interface", default=settings.action_server_host)
    parser.add_argument("--port", type=int, default=settings.action_server_port)
    args = parser.parse_args()
    configure_logging()
    if utils.number_of_sanic_workers() != 1:
        # Sanic 25's worker processes were seen not to stop on SIGTERM (a container would hang until
        # killed): scale with more action server processes behind one address instead.
        raise SystemExit("ACTION_SERVER_SANIC_WORKERS must be 1: run more action server processes to scale")
    app = build_app(internal_token())
    log.info("Action server on http://%s:%s", args.interface, args.port)
    app.prepare(host=args.interface, port=args.port, single_process=True)
    Sanic.serve_single(primary=app)


if __name__ == "__main__":
    main()
