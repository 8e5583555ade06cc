"""Send API client: pymessenger's `Bot.send_raw` made safe for production.

pymessenger 0.0.7.0 calls the bare `requests.post` with no timeout, no session, never raises and
returns `response.json()`. SessionBot, a subclass, keeps what pymessenger knows (the Graph URL and
`appsecret_proof`) and sends through the GraphClient's requests.Session with explicit (connect,
read) timeouts, handing back the whole response so that HTTP status and Graph error codes can be
checked here; pymessenger's module is left untouched.

The page token travels in the query string (pymessenger's way, also Graph's documented one), so
URLs are never logged: exceptions are reduced to their class name, and bot.logmask (the one
redaction point) masks `access_token=` in any log line, urllib3's debug lines included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from pymessenger.bot import Bot
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.config import Settings

log = logging.getLogger(__name__)

# Where the development webhook serves its own stand-in Graph API (bot.devtools).
DEV_GRAPH_PREFIX = "/dev/graph"

DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({1, 2})
USER_UNAVAILABLE_CODE, USER_UNAVAILABLE_SUBCODE = 551, 1545041
OUTSIDE_WINDOW_CODE, OUTSIDE_WINDOW_SUBCODE = 10, 2018278
TOKEN_CODE = 190


class GraphError(Exception):
    """A refused Graph call; permanent unless a subclass says otherwise."""

    def __init__(
        self,
        message: str,
        code: int | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
    ):
        super().__init__(message)
        self.code, self.subcode, self.http_status, self.fbtrace_id = code, subcode, http_status, fbtrace_id

    def __str__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code}, subcode={self.subcode}, http={self.http_status}): {self.args[0]}"
        )


class TransientGraphError(GraphError):
    """Worth retrying: rate limit, Graph-side hiccup, HTTP 5xx, connection failure."""


class RecipientUnavailable(GraphError):
    """The person blocked the page or deleted their account: drop the message."""


class OutsideWindow(GraphError):
    """More than 24 h since the user's last message: needs a message tag."""


class TokenError(GraphError):
    """The page token is invalid or expired: an operator must act."""


@dataclass(frozen=True)
class SendResult:
    recipient_id: str | None
    message_id: str | None


class SessionBot(Bot):  # type: ignore[misc]  # pymessenger ships no type information
    """pymessenger's Bot (Graph URL, `appsecret_proof`) sending through our HTTP session, with our
    timeouts, and handing back the whole response so that the status and the Graph error are kept
    (pymessenger's own send_raw posts with a bare `requests.post` and returns only the body)."""

    def __init__(
        self,
        access_token: str,
        *,
        api_version: str,
        app_secret: str | None,
        session: requests.Session,
        timeout: tuple[float, float],
    ):
        super().__init__(access_token, api_version=api_version, app_secret=app_secret)
        self.session, self.timeout = session, timeout

    def send_raw(self, payload: dict[str, Any]) -> requests.Response:
        return self.session.post(
            f"{self.graph_url}/me/messages", params=self.auth_args, json=payload, timeout=self.timeout
        )


class GraphClient:
    """Messenger Send API and the few other Graph calls the bot makes."""

    def __init__(
        self,
        access_token: str,
        app_secret: str | None,
        base_url: str,
        api_version: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        attempts: int = 4,
        backoff: float = 1.0,
        backoff_max: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        version = api_version if api_version.startswith("v") else "v" + api_version
        # Version passed as a string: pymessenger formats it with "v{}", a float 2.10 → "v2.1".
        self.session = session or requests.Session()
        self.timeout = timeout
        self._bot = SessionBot(
            access_token, api_version=version[1:], app_secret=app_secret or None, session=self.session, timeout=timeout
        )
        self._bot.graph_url = f"{base_url.rstrip('/')}/{version}"
        self._retrying: dict[str, Any] = dict(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=backoff, max=backoff_max),
            retry=retry_if_exception_type(TransientGraphError),
            reraise=True,
            before_sleep=_log_retry,
            sleep=sleep,  # injectable so tests can check the backoff without waiting for it
        )

    @property
    def graph_url(self) -> str:
        return str(self._bot.graph_url)

    def send_message(
        self, psid: str, message: dict[str, Any], messaging_type: str = "RESPONSE", tag: str | None = None
    ) -> SendResult:
        payload: dict[str, Any] = {"recipient": {"id": psid}, "messaging_type": messaging_type, "message": message}
        if tag:
            payload["tag"] = tag
        return self.send_raw(payload)

    def send_action(self, psid: str, action: str) -> SendResult:
        """typing_on / typing_off / mark_seen: a request of its own, no message allowed beside it."""
        return self.send_raw({"recipient": {"id": psid}, "sender_action": action})

    def send_raw(self, payload: dict[str, Any]) -> SendResult:
        body = self._with_retries(self._send_once, payload)
        return SendResult(body.get("recipient_id"), body.get("message_id"))

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Other Graph POSTs (messenger_profile, <page>/pass_thread_control...), same policy."""
        return self._with_retries(self._request_once, "POST", path, None, payload)

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Graph GETs (me/messenger_profile?fields=..., <page>/thread_owner), same policy."""
        return self._with_retries(self._request_once, "GET", path, params, None)

    def delete(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Graph DELETEs with a JSON body (me/messenger_profile {"fields": [...]})."""
        return self._with_retries(self._request_once, "DELETE", path, None, payload)

    def close(self) -> None:
        self.session.close()

    def _with_retries(self, func: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        # Logged here, once per call, so every caller's refusals leave a trace (by code, not URL).
        try:
            for attempt in Retrying(**self._retrying):
                with attempt:
                    return func(*args)
        except TransientGraphError as exc:
            log.error("Graph call given up after %d attempt(s): %s", self._retrying["stop"].max_attempt_number, exc)
            raise
        except GraphError as exc:
            if not isinstance(exc, TokenError):  # classify_error already raised the alert
                log.warning("Graph call refused, not retried: %s", exc)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, payload: dict[str, Any]) -> dict[str, Any]:
        with _http_errors():
            response = self._bot.send_raw(payload)
        return check_response(response)

    def _request_once(
        self, method: str, path: str, params: dict[str, Any] | None, payload: dict[str, Any] | None
    ) -> dict[str, Any]:
        url = f"{self._bot.graph_url}/{path.lstrip('/')}"
        query = {**(params or {}), **self._bot.auth_args}
        with _http_errors():
            response = self.session.request(method, url, params=query, json=payload, timeout=self.timeout)
        return check_response(response)


@contextmanager
def _http_errors() -> Iterator[None]:
    """requests exceptions carry the URL (with the token): keep only their class name."""
    try:
        yield
    except requests.ReadTimeout:
        # The request reached Facebook and may have been delivered: retrying could send twice.
        raise GraphError("read timeout") from None  # `from None`: the chained message has the URL
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientGraphError(type(exc).__name__) from None
    except requests.RequestException as exc:
        raise GraphError(type(exc).__name__) from None


def check_response(response: requests.Response) -> dict[str, Any]:
    """The JSON body of a successful Graph answer, or the GraphError its status/code means."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    error = body.get("error") if isinstance(body, dict) else None
    if error is None and 200 <= status < 300 and isinstance(body, dict):
        return body
    if not isinstance(error, dict):
        kind = TransientGraphError if status >= 500 or status == 429 else GraphError
        raise kind(f"HTTP {status} without a Graph error", http_status=status)
    raise classify_error(error, status)


def classify_error(error: dict[str, Any], status: int | None = None) -> GraphError:
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    args = (str(error.get("message") or "")[:300], code, subcode, status, error.get("fbtrace_id"))
    if code in RATE_LIMIT_CODES or code in TRANSIENT_CODES or error.get("is_transient"):
        return TransientGraphError(*args)
    if code == USER_UNAVAILABLE_CODE or subcode == USER_UNAVAILABLE_SUBCODE:
        return RecipientUnavailable(*args)
    if code == OUTSIDE_WINDOW_CODE and subcode == OUTSIDE_WINDOW_SUBCODE:
        return OutsideWindow(*args)
    if code == TOKEN_CODE:
        log.critical(
            "ALERT: Graph API refused the page access token (code 190, subcode %s): renew FB_PAGE_ACCESS_TOKEN", subcode
        )
        return TokenError(*args)
    if status is not None and status >= 500:
        return TransientGraphError(*args)
    return GraphError(*args)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning(
        "Graph call failed (%s), retry %d in %.1f s",
        exc,
        state.attempt_number,
        state.next_action.sleep if state.next_action else 0.0,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def graph_base_url(settings: Settings) -> str:
    """Where replies go: Facebook, or in dev mode without GRAPH_API_URL, our own stand-in."""
    if settings.dev_mode and not settings.graph_api_url_explicit:
        return settings.public_url + DEV_GRAPH_PREFIX
    return settings.graph_api_url


def graph_client_from_settings(settings: Settings, base_url: str | None = None, **kwargs: Any) -> GraphClient:
    return GraphClient(
        settings.fb_page_access_token,
        settings.fb_app_secret,
        base_url or settings.graph_api_url,
        settings.graph_api_version,
        **kwargs,
    )
