"""Client for Rasa's REST channel (`POST /webhooks/rest/webhook`)."""
from __future__ import annotations

import logging
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 30.0)  # (connect, read): a turn with a slow action can take seconds
RETRYABLE_STATUSES = frozenset({502, 503, 504})  # a proxy in front of a (re)starting Rasa


class RasaUnavailable(Exception):
    """Rasa did not answer usably; the user gets an apology."""


class _Retryable(Exception):
    pass


class RasaClient:
    def __init__(self, base_url: str, *, session: requests.Session | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, attempts: int = 3,
                 backoff: float = 0.5, backoff_max: float = 4.0):
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self.session = session or requests.Session()
        self.timeout = timeout
        self._retrying = dict(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=backoff, max=backoff_max),
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )

    def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Rasa's replies for one user message (may be empty)."""
        try:
            for attempt in Retrying(**self._retrying):
                with attempt:
                    return self._post_once(sender, text)
        except _Retryable as exc:
            raise RasaUnavailable(str(exc)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _post_once(self, sender: str, text: str) -> list[dict[str, Any]]:
        try:
            response = self.session.post(self.url, json={"sender": sender, "message": text},
                                         timeout=self.timeout)
        except requests.ReadTimeout:
            # Rasa received the message and may have run the turn: resending would play it twice.
            raise RasaUnavailable("read timeout") from None
        except requests.ConnectionError as exc:
            log.warning("Rasa unreachable (%s)", type(exc).__name__)
            raise _Retryable(type(exc).__name__) from None
        except requests.RequestException as exc:
            raise RasaUnavailable(type(exc).__name__) from None
        if response.status_code in RETRYABLE_STATUSES:
            raise _Retryable(f"HTTP {response.status_code}")
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
