"""HTTP to the operator's TM Forum Open APIs: OAuth2 client credentials, timeouts, a circuit
breaker, and errors the port understands.

- a timeout, a connection error, a 5xx or a 429 is `OperatorUnavailable` (for a write: outcome
  unknown; the caller looks the key up before any resend), and counts towards the breaker;
- a 4xx is `OperatorRefused` (the operator understood and said no; for a write: nothing done);
- after `breaker_failures` unavailabilities in a row the breaker opens: calls fail at once for
  `breaker_seconds` (so a slow operator cannot hold every worker thread), then one call tries again.
Reads may be retried once after a timeout; writes never are here (see fulfilment.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from bot.services.operator.port import OperatorRefused, OperatorUnavailable

log = logging.getLogger(__name__)

API_PATHS = {  # each spec's basePath (TMF676's file says /payment/v4, not /tmf-api/…)
    "TMF620": "/tmf-api/productCatalogManagement/v4",
    "TMF622": "/tmf-api/productOrderingManagement/v4",
    "TMF635": "/tmf-api/usageManagement/v4",
    "TMF637": "/tmf-api/productInventory/v4",
    "TMF654": "/tmf-api/prepayBalanceManagement/v4",
    "TMF677": "/tmf-api/usageConsumption/v4",
    "TMF676": "/payment/v4",
    "TMF681": "/tmf-api/communicationManagement/v4",
}


@dataclass
class CircuitBreaker:
    failures_to_open: int
    open_seconds: float
    clock: Any = time.monotonic
    _failures: int = 0
    _open_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self) -> None:
        with self._lock:
            if self._failures >= self.failures_to_open and self.clock() < self._open_until:
                raise OperatorUnavailable("operator circuit open: recent calls failed")

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failures_to_open:
                self._open_until = self.clock() + self.open_seconds
                log.error("operator circuit open for %.0f s after %d failures", self.open_seconds, self._failures)


_BREAKERS: dict[str, CircuitBreaker] = {}
_BREAKERS_LOCK = threading.Lock()


def breaker_for(base_url: str, failures: int, seconds: float) -> CircuitBreaker:
    """One breaker per operator per process (adapters are created per unit of work)."""
    with _BREAKERS_LOCK:
        return _BREAKERS.setdefault(base_url, CircuitBreaker(failures, seconds))


@dataclass
class _Token:
    value: str
    expires_at: float


class TmfClient:
    def __init__(
        self,
        base_url: str,
        *,
        token_url: str = "",
        client_id: str = "",
        client_secret: str = "",
        timeout: float = 5.0,
        breaker: CircuitBreaker | None = None,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.breaker = breaker or CircuitBreaker(5, 30.0)
        self.http = http or requests.Session()
        self._token: _Token | None = None
        self._token_lock = threading.Lock()

    def get(self, api: str, path: str, params: dict[str, str]) -> Any:
        return self._call("GET", api, path, params=params, retry=True)

    def post(self, api: str, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", api, path, body=body, retry=False)

    def _call(
        self, method: str, api: str, path: str, *, params: dict[str, str] | None = None, body: Any = None, retry: bool
    ) -> Any:
        self.breaker.check()
        url = self.base_url + API_PATHS[api] + path
        for attempt in (1, 2):
            try:
                response = self.http.request(
                    method, url, params=params, json=body, timeout=self.timeout, headers=self._headers()
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if retry and attempt == 1:
                    continue
                self.breaker.failed()
                raise OperatorUnavailable(f"{method} {api}{path}: {type(exc).__name__}") from None
            if response.status_code == 401 and attempt == 1 and self.token_url:
                self._token = None  # expired or revoked: one new token, then the same call (nothing was done)
                continue
            if response.status_code >= 500 or response.status_code == 429:
                if retry and attempt == 1:
                    continue
                self.breaker.failed()
                raise OperatorUnavailable(f"{method} {api}{path}: HTTP {response.status_code}")
            self.breaker.succeeded()
            if response.status_code >= 400:
                raise OperatorRefused(response.status_code, response.text[:200])
            return response.json() if response.content else None
        raise OperatorUnavailable(f"{method} {api}{path}: no answer")  # pragma: no cover - the loop returns

    def _headers(self) -> dict[str, str]:
        if not self.token_url:
            return {"Accept": "application/json"}
        return {"Accept": "application/json", "Authorization": f"Bearer {self._access_token()}"}

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token is not None and time.monotonic() < self._token.expires_at:
                return self._token.value
            try:
                response = self.http.post(
                    self.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.breaker.failed()
                raise OperatorUnavailable(f"token: {type(exc).__name__}") from None
            if response.status_code != 200:
                self.breaker.failed()
                raise OperatorUnavailable(f"token: HTTP {response.status_code}")
            answer = response.json()
            lifetime = float(answer.get("expires_in") or 300)
            # Renewed a little before it expires, so a call never starts with a dying token.
            self._token = _Token(str(answer["access_token"]), time.monotonic() + max(1.0, lifetime - 30))
            return self._token.value
