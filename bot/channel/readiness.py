"""GET /readyz: can this webhook do its job right now? (GET /healthz only says the process lives.)

200 {"database": "ok", "rasa": "ok", "redis": "ok" | "not configured"}; 503 with the failing part
set to "error: <ExceptionClass>" (never the message: URLs may carry passwords). Each check has a
short timeout so a load balancer's probe never hangs. Redis is checked only when REDIS_URL is set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.channel.rasa_client import server_urls
from bot.channel.state import current_channel
from bot.config import Settings

log = logging.getLogger(__name__)

bp = Blueprint("readiness", __name__)


def check_database(sessions: Callable[[], Session]) -> None:
    with sessions() as session:
        session.execute(text("SELECT 1")).scalar_one()


def check_rasa(rasa_url: str, timeout: float, token: str = "") -> None:
    """Ready when at least one of the Rasa servers in RASA_URL has a model loaded (the client
    skips the others). /status needs `rasa run --enable-api --auth-token` (RASA_API_TOKEN)."""
    failures = []
    for url in server_urls(rasa_url):
        try:  # a fresh connection each time: never share the turn client's pool
            response = requests.get(
                url + "/status", params={"token": token} if token else None, timeout=(timeout, timeout)
            )
        except requests.RequestException as exc:
            failures.append(type(exc).__name__)
            continue
        if response.status_code == 200:
            return
        failures.append(f"HTTP {response.status_code}")
    raise RuntimeError(", ".join(failures))


def check_redis(redis_url: str, timeout: float) -> None:
    import redis  # only needed when REDIS_URL is set

    client = redis.Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        if not client.ping():
            raise RuntimeError("no PONG")
    finally:
        client.close()


def readiness(sessions: Callable[[], Session], settings: Settings) -> tuple[dict[str, Any], bool]:
    timeout, redis_url = settings.readyz_timeout_seconds, settings.redis_url
    checks: dict[str, Callable[[], None]] = {
        "database": lambda: check_database(sessions),
        "rasa": lambda: check_rasa(settings.rasa_url, timeout, token=settings.rasa_api_token),
    }
    if redis_url:
        checks["redis"] = lambda: check_redis(redis_url, timeout)
    report, ready = {}, True
    for name, check in checks.items():
        try:
            check()
            report[name] = "ok"
        except Exception as exc:  # any failure means "not ready"
            # Our own RuntimeErrors carry a short text (HTTP status); others only their class name.
            detail = str(exc) if type(exc) is RuntimeError else type(exc).__name__
            log.warning("readiness: %s failed (%s)", name, detail)
            report[name] = f"error: {detail}"
            ready = False
    if not redis_url:
        report["redis"] = "not configured"
    return report, ready


class CachedReadiness:
    """One probe of the dependencies per `ttl` seconds, whatever the number of requests: a flood
    of /readyz (a misconfigured balancer, an attacker) must not become a flood on Rasa, the
    database and Redis. Requests arriving during a probe wait for its result."""

    def __init__(
        self,
        probe: Callable[[], tuple[dict[str, Any], bool]],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._probe, self._ttl, self._clock = probe, ttl, clock
        self._lock = threading.Lock()
        self._result: tuple[dict[str, Any], bool] | None = None
        self._at = 0.0

    def get(self) -> tuple[dict[str, Any], bool]:
        with self._lock:
            if self._result is None or self._clock() - self._at >= self._ttl:
                self._result = self._probe()
                self._at = self._clock()
            return self._result


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    cached = current_app.extensions.get("mobilis_readiness")
    if cached is None:
        channel = current_channel()
        sessions = current_app.extensions["mobilis_sessions"]
        settings = channel.settings
        cached = current_app.extensions.setdefault(
            "mobilis_readiness",
            CachedReadiness(lambda: readiness(sessions, settings), ttl=settings.readyz_cache_seconds),
        )
    report, ready = cached.get()
    return jsonify(report), 200 if ready else 503
