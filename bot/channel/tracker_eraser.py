"""Erasing a user's conversation from Rasa's tracker store ("effacer mes données"), and masking
the one-time codes a user typed (Rasa keeps every message it reads).

The erasure action cannot do it itself: Rasa saves the tracker after the action's turn, which would
write the conversation back. So the action declares it (bot.services.dialogue.context.FORGET_MARKER)
and the webhook erases the tracker once Rasa has answered that turn, before delivering the answer:

- without TRACKER_DATABASE_URL (the embedded default, in-memory store): Rasa's HTTP API,
  `PUT /conversations/<psid>/tracker/events` with no events (RASA_API_TOKEN), which replaces the
  tracker under Rasa's own conversation lock;
- with it (production, a SQL store shared by every Rasa server): the store itself — Rasa's SQL
  store only ever appends, so the `events` rows are deleted (or masked) directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from sqlalchemy import Connection, create_engine, inspect, pool, text
from tenacity import Retrying, stop_after_attempt, wait_exponential

from bot.channel.rasa_client import server_urls
from bot.config import Settings
from bot.logmask import mask_codes


class TrackerEraseError(Exception):
    """The tracker could not be erased (Rasa or its store unreachable)."""


class TrackerEraser:
    def __init__(
        self,
        rasa_url: str,
        api_token: str,
        tracker_database_url: str | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
    ):
        self.urls = server_urls(rasa_url)
        self.api_token = api_token
        self.tracker_database_url = tracker_database_url
        self.timeout = timeout
        self.attempts = attempts

    @classmethod
    def from_settings(cls, settings: Settings) -> TrackerEraser:
        # Every Rasa server that may hold the user's conversation: the English model's too.
        servers = ",".join(url for url in (settings.rasa_url, settings.rasa_url_en) if url)
        return cls(servers, settings.rasa_api_token, settings.tracker_database_url or None)

    def erase(self, psid: str, before: datetime | None = None) -> None:
        """Everything Rasa holds of the conversation, or only what was said before `before` (an
        erasure done late keeps the conversation the user started since)."""
        self._retried(lambda who: self._erase_once(who, before), psid)

    def _retried(self, operation: Callable[[str], None], psid: str) -> None:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts), wait=wait_exponential(multiplier=0.5, max=4), reraise=True
        )
        try:
            for attempt in retrying:
                with attempt:
                    operation(psid)
        except Exception as exc:  # HTTP, refusal or database driver error: same meaning
            raise TrackerEraseError(str(exc) if isinstance(exc, TrackerEraseError) else type(exc).__name__) from None

    def _api_urls(self) -> list[str]:
        """With a shared SQL store the database is the truth (and a Rasa server may be down);
        otherwise each server's in-memory store is reached through its API."""
        return [] if self.tracker_database_url else self.urls

    def mask_codes(self, psid: str) -> None:
        """Replace the codes in the user's messages kept by Rasa ("******"), once the turn that read
        them is saved. Only user messages' texts and entity values change, nothing else."""
        self._retried(self._mask_once, psid)

    def _mask_once(self, psid: str) -> None:
        path = f"/conversations/{quote(psid, safe='')}/tracker"
        for url in self._api_urls():
            response = requests.get(
                url + path, params={"token": self.api_token, "include_events": "ALL"}, timeout=self.timeout
            )
            if response.status_code != 200:
                raise TrackerEraseError(f"HTTP {response.status_code}")
            found: list[dict[str, Any]] = response.json().get("events") or []
            masked = [_masked_event(event) for event in found]
            if masked != found:
                put = requests.put(
                    url + path + "/events", params={"token": self.api_token}, json=masked, timeout=self.timeout
                )
                if put.status_code != 200:
                    raise TrackerEraseError(f"HTTP {put.status_code}")
        with self._sql_store() as connection:
            if connection is None:
                return
            rows = connection.execute(
                text("SELECT id, data FROM events WHERE sender_id = :psid AND type_name = 'user'"), {"psid": psid}
            ).all()
            for row_id, data in rows:
                event = json.loads(data)
                stored = _masked_event(event)
                if stored != event:
                    connection.execute(
                        text("UPDATE events SET data = :data WHERE id = :id"),
                        {"data": json.dumps(stored), "id": row_id},
                    )

    def _erase_once(self, psid: str, before: datetime | None) -> None:
        path = f"/conversations/{quote(psid, safe='')}/tracker"
        for url in self._api_urls():
            kept: list[dict[str, Any]] = []
            if before is not None:
                response = requests.get(
                    url + path, params={"token": self.api_token, "include_events": "ALL"}, timeout=self.timeout
                )
                if response.status_code != 200:
                    raise TrackerEraseError(f"HTTP {response.status_code}")
                found: list[dict[str, Any]] = response.json().get("events") or []
                kept = [e for e in found if float(e.get("timestamp") or 0) >= before.timestamp()]
            response = requests.put(
                url + path + "/events", params={"token": self.api_token}, json=kept, timeout=self.timeout
            )
            if response.status_code != 200:
                raise TrackerEraseError(f"HTTP {response.status_code}")
        with self._sql_store() as connection:
            if connection is None:
                return
            if before is None:
                connection.execute(text("DELETE FROM events WHERE sender_id = :psid"), {"psid": psid})
            else:
                connection.execute(
                    text("DELETE FROM events WHERE sender_id = :psid AND timestamp < :before"),
                    {"psid": psid, "before": before.timestamp()},
                )

    @contextmanager
    def _sql_store(self) -> Iterator[Connection | None]:
        """One transaction on the SQL tracker store, or None without one (or before Rasa made its table)."""
        if not self.tracker_database_url:
            yield None
            return
        engine = create_engine(self.tracker_database_url, poolclass=pool.NullPool)
        try:
            if not inspect(engine).has_table("events"):
                yield None
                return
            with engine.begin() as connection:
                yield connection
        finally:
            engine.dispose()


def _masked_event(event: dict[str, Any]) -> dict[str, Any]:
    """A user event with the codes of its texts and entity values masked (other events as they are)."""
    if not isinstance(event, dict) or event.get("event", "user") != "user":
        return event

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and key in ("text", "value"):
            return mask_codes(value)
        return value

    masked: dict[str, Any] = walk(event)
    return masked
