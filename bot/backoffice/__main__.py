"""python -m bot.backoffice [--host H] [--port P] — the staff's back office (review queue, dashboard).

Served by gunicorn with ONE process (a few threads): FAQ edits are serialised inside the process
(bot/services/assistance/faq_editing.py). Reach it through the VPN or an SSH tunnel only.
"""

from __future__ import annotations

import argparse
from typing import Any

from gunicorn.app.base import BaseApplication

from bot import logmask
from bot.backoffice.app import create_app
from bot.config import get_settings


class _Server(BaseApplication):
    def __init__(self, app: Any, options: dict[str, Any]):
        self.application, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.backoffice", description=__doc__)
    parser.add_argument("--host", default=settings.backoffice_host)
    parser.add_argument("--port", type=int, default=settings.backoffice_port)
    args = parser.parse_args(argv)
    logmask.configure()
    app = create_app(settings)
    options = {"bind": f"{args.host}:{args.port}", "workers": 1, "threads": 4, "worker_class": "gthread"}
    _Server(app, {**options, "accesslog": "-", "timeout": 60}).run()


if __name__ == "__main__":
    main()
