"""Messenger thread control (Conversation Routing keeps the Handover Protocol calls) over Graph.

`POST /{page_id}/pass_thread_control` {recipient, target_app_id, metadata} gives the thread to
another app, here the Page Inbox (263902037430900) where the page's agents answer;
`take_thread_control` takes it back; `release_thread_control` returns it to idle. Metadata is
cut to Messenger's 1000 characters. Graph errors become ThreadControlError so the hand-off
service never sees channel classes.
"""

from __future__ import annotations

from typing import Any

from bot.channel.graph import GraphClient, GraphError
from bot.services.handoff.escalations import ThreadControlError

PAGE_INBOX_APP_ID = "263902037430900"
METADATA_LIMIT = 1000


class GraphThreadControl:
    """The hand-off's ThreadControlPort, over the channel's GraphClient (same retries/timeouts)."""

    def __init__(self, graph: GraphClient, page_id: str = "me", inbox_app_id: str = PAGE_INBOX_APP_ID):
        self.graph, self.page_id, self.inbox_app_id = graph, page_id or "me", inbox_app_id

    def pass_thread_control(self, psid: str, metadata: str = "", target_app_id: str | None = None) -> None:
        self._call("pass_thread_control", psid, metadata, target_app_id=_app_id(target_app_id or self.inbox_app_id))

    def take_thread_control(self, psid: str, metadata: str = "") -> None:
        self._call("take_thread_control", psid, metadata)

    def release_thread_control(self, psid: str, metadata: str = "") -> None:
        self._call("release_thread_control", psid, metadata)

    def _call(self, action: str, psid: str, metadata: str, **extra: int | str) -> None:
        body: dict[str, Any] = {"recipient": {"id": psid}, **extra}
        if metadata:
            body["metadata"] = metadata if len(metadata) <= METADATA_LIMIT else metadata[: METADATA_LIMIT - 1] + "…"
        try:
            answer = self.graph.post(f"{self.page_id}/{action}", body)
        except GraphError as exc:
            raise ThreadControlError(f"{action}: {exc}") from None
        if answer.get("success") is False:
            raise ThreadControlError(f"{action}: Graph answered success=false")


def _app_id(value: str) -> int | str:
    # Graph documents target_app_id as a number; send one when the id is numeric.
    return int(value) if str(value).isdigit() else value
