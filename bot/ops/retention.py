"""Purge what is past its retention period (bot/services/privacy/retention.py says what and how long).

python -m bot.ops.retention              one pass (cron, `./mobilis retention`)
python -m bot.ops.retention --every 86400  a pass now, then one a day (docker-compose, prod-local)
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from bot import clock
from bot.db.base import session_scope
from bot.logmask import configure
from bot.services.privacy.retention import RetentionSettings, purge

log = logging.getLogger("bot.ops.retention")


def run_once(settings: RetentionSettings | None = None) -> dict[str, int]:
    with session_scope() as session:
        counts = purge(session, clock.utcnow(), settings)
    log.info("retention pass: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Purge messages, hand-offs, quotes and payment sessions past retention"
    )
    parser.add_argument("--every", type=float, default=None, help="seconds between passes (default: one pass)")
    args = parser.parse_args()
    configure()
    settings = RetentionSettings.from_settings()
    if args.every is None:
        run_once(settings)
        return
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    while not stopping.is_set():
        try:
            run_once(settings)
        except Exception:  # the database may be restarting: try again at the next pass
            log.exception("retention pass failed")
        stopping.wait(args.every)


if __name__ == "__main__":
    main()
