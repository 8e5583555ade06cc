"""Client for our Rasa channel (`POST /webhooks/mobilis/webhook`, nlu/channels/internal_rest.py:
Rasa's REST channel that only answers requests carrying the internal token), on one or several
Rasa servers.

RASA_URL may list several servers ("http://rasa-1:5005,http://rasa-2:5005"). All of them share
the tracker store (PostgreSQL) and the lock store (Redis), so any server can answer any user;
each user still goes to "their" server first (a stable hash), which spreads the load, and a
server that cannot be reached is skipped for the next one.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.internal_auth import HEADER, RASA_CHANNEL_PATH

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 30.0)  # (connect, read): a turn with a slow action can take seconds
RETRYABLE_STATUSES = frozenset({502, 503, 504})  # a proxy in front of a (re)starting Rasa


class RasaUnavailable(Exception):
    """Rasa did not answer usably; the user gets an apology."""


class _Retryable(Exception):
    pass


def server_urls(rasa_url: str) -> list[str]:
    """The base URLs listed in RASA_URL (comma-separated), without trailing slashes."""
    urls = [part.strip().rstrip("/") for part in rasa_url.split(",") if part.strip()]
    if not urls:
        raise ValueError("RASA_URL is empty")
    return urls


class RasaClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        attempts: int | None = None,
        backoff: float = 0.5,
        backoff_max: float = 4.0,
    ):
        self.urls = [url + RASA_CHANNEL_PATH for url in server_urls(base_url)]
        self.url = self.urls[0]
        attempts = attempts if attempts is not None else max(3, len(self.urls))
        self.session = session or requests.Session()
        if token:
            self.session.headers[HEADER] = token
        self.timeout = timeout
        self._retrying: dict[str, Any] = dict(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=backoff, max=backoff_max),
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )

    def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rasa's replies for one user message (may be empty); `metadata` reaches the NLU
        pipeline and the actions (docs/contracts.md)."""
        first = zlib.crc32(sender.encode()) % len(self.urls)
        try:
            for attempt in Retrying(**self._retrying):
                with attempt:
                    url = self.urls[(first + attempt.retry_state.attempt_number - 1) % len(self.urls)]
                    return self._post_once(url, sender, text, metadata)
        except _Retryable as exc:
            raise RasaUnavailable(str(exc)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _post_once(self, url: str, sender: str, text: str, metadata: dict[str, Any] | None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        try:
            response = self.session.post(url, json=body, timeout=self.timeout)
        except requests.ReadTimeout:
            # Rasa received the message and may have run the turn: no immediate resend here; the
            # processor retries later only if it must (documented risk: a turn played twice).
            raise RasaUnavailable("read timeout") from None
        except requests.ConnectionError as exc:
            log.warning("Rasa unreachable (%s)", type(exc).__name__)
            raise _Retryable(type(exc).__name__) from None
        except requests.RequestException as exc:
            raise RasaUnavailable(type(exc).__name__) from None
        if response.status_code in RETRYABLE_STATUSES:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code in (401, 403):
            log.error(
                "Rasa refused the webhook (HTTP %s): MOBILIS_INTERNAL_TOKEN differs between the webhook and Rasa",
                response.status_code,
            )
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            replies = response.json()
        except ValueError:
            raise RasaUnavailable("invalid JSON") from None
        if not isinstance(replies, list):
            raise RasaUnavailable("unexpected JSON shape")
        return [r for r in replies if isinstance(r, dict)]

    def close(self) -> None:
        self.session.close()
