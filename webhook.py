"""Messenger webhook entry point.

gunicorn 'webhook:app' --workers 1 --threads 8      # production: ONE process per database
                                                    # unless WEBHOOK_CLAIM_LEASE_SECONDS is set
python webhook.py                                   # threaded dev server on WEBHOOK_HOST:WEBHOOK_PORT
"""

from __future__ import annotations

from flask import Flask

from bot import logmask
from bot.channel.app import create_app
from bot.channel.state import channel_of


def _configure_logging() -> None:
    # Correlation ids + masking of phone numbers, codes and tokens (LOG_LEVEL, LOG_FORMAT=json).
    logmask.configure()


def _build_app() -> Flask:
    app = create_app()
    if channel_of(app).settings.dev_mode:
        from bot import devtools  # never loaded in production

        devtools.install(app)
    return app


_configure_logging()  # before create_app (start-up recovery is logged); gunicorn too, not only __main__

app = _build_app()


def main() -> None:
    _configure_logging()
    settings = channel_of(app).settings
    # threaded: the background workers call this same server's stand-in Graph API in dev mode.
    app.run(host=settings.webhook_host, port=settings.webhook_port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
