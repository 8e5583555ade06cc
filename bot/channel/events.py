"""Turn a Messenger webhook body into flat, typed events (pure functions, no I/O).

One POST may carry several `entry[]` items, each with `messaging[]` (we own the thread) and
`standby[]` (another app, e.g. the Page Inbox, owns it). Every item becomes at most one event.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Text sent to Rasa when the user sends a picture, a voice note, a sticker...: the payload of the
# intent `attachment` (nlu/domain.yml), so the assistant can say it only reads text.
ATTACHMENT_INTENT = "/attachment"

# Kinds the bot answers (when they come on `messaging`).
ANSWERABLE_KINDS = frozenset({"text", "quick_reply", "postback", "attachment"})
THREAD_CONTROL_KINDS = (
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "release_thread_control",
)


@dataclass(frozen=True)
class MessengerEvent:
    channel: str  # "messaging" or "standby"
    kind: str  # text | quick_reply | postback | attachment | <thread control kind>
    sender_id: str
    recipient_id: str
    timestamp: int  # milliseconds since epoch, as sent by Meta
    dedup_key: str
    text: str | None  # what goes to Rasa; None when nothing should be sent
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def answerable(self) -> bool:
        return self.channel == "messaging" and self.kind in ANSWERABLE_KINDS and bool(self.text)


@dataclass(frozen=True)
class TemplateStatus:
    """A `message_template_status_update` change: a utility template approved, rejected, paused…
    Meta documents the payload for WhatsApp only; the Page's is read the same way, defensively."""

    status: str
    template_id: str
    name: str
    language: str
    reason: str | None


@dataclass
class ParseResult:
    events: list[MessengerEvent] = field(default_factory=list)
    template_statuses: list[TemplateStatus] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # reason -> count, for logs/metrics
    delivered: list[tuple[int, int]] = field(default_factory=list)  # (event id, bubble index) from echoes

    def ignore(self, reason: str) -> None:
        self.ignored[reason] = self.ignored.get(reason, 0) + 1


DELIVERY_TAG = re.compile(r"mobilis:(\d{1,18}):(\d{1,3})")


def delivery_tag(event_id: int, index: int) -> str:
    """`message.metadata` of bubble `index` answering inbound event `event_id` (echoed back by Meta)."""
    return f"mobilis:{event_id}:{index}"


def parse_delivery_tag(metadata: Any) -> tuple[int, int] | None:
    match = DELIVERY_TAG.fullmatch(metadata) if isinstance(metadata, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_webhook(body: Any) -> ParseResult:
    """Events of a `page` webhook body; anything else yields nothing."""
    result = ParseResult()
    if not isinstance(body, dict) or body.get("object") != "page":
        result.ignore("not_page")
        return result
    for channel, item in _items(body):
        event = parse_item(channel, item, result)
        if event is not None:
            result.events.append(event)
    result.template_statuses = list(_template_statuses(body))
    return result


def _template_statuses(body: dict[str, Any]) -> Iterator[TemplateStatus]:
    for entry in _list(body.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "message_template_status_update":
                continue
            status = value.get("event")
            if isinstance(status, str) and status:
                reason = value.get("reason")
                yield TemplateStatus(
                    status=status.upper(),
                    template_id=str(value.get("message_template_id") or ""),
                    name=str(value.get("message_template_name") or ""),
                    language=str(value.get("message_template_language") or ""),
                    reason=str(reason) if reason not in (None, "NONE") else None,
                )


def _list(value: Any) -> list[Any]:
    """Meta sends lists here; anything else (fuzzed or broken bodies) counts as empty."""
    return value if isinstance(value, list) else []


def _id_of(party: Any) -> str:
    return str(party.get("id") or "") if isinstance(party, dict) else ""


def _items(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in _list(body.get("entry")):
        if not isinstance(entry, dict):
            continue
        for channel in ("messaging", "standby"):
            for item in _list(entry.get(channel)):
                if isinstance(item, dict):
                    yield channel, item


def parse_item(channel: str, item: dict[str, Any], result: ParseResult) -> MessengerEvent | None:
    sender = _id_of(item.get("sender"))
    recipient = _id_of(item.get("recipient"))
    timestamp = _int(item.get("timestamp"))
    message = item.get("message")
    if isinstance(message, dict) and message.get("is_echo"):
        tag = parse_delivery_tag(message.get("metadata"))
        if tag is not None:  # proof that one of our bubbles reached the user (see processing)
            result.delivered.append(tag)
        result.ignore("echo")  # our own sends or a human agent's: never fed to Rasa
        return None
    if "delivery" in item or "read" in item:
        result.ignore("delivery" if "delivery" in item else "read")
        return None
    if not sender:
        result.ignore("no_sender")
        return None

    def make(kind: str, key: str, text: str | None) -> MessengerEvent:
        return MessengerEvent(channel, kind, sender, recipient, timestamp, key, text, item)

    if isinstance(message, dict):
        return _parse_message(message, make, result)
    postback = item.get("postback")
    if isinstance(postback, dict):
        payload = postback.get("payload")  # absent on standby: only the button's owner gets it
        key = f"pb:{sender}:{timestamp}:{_short_hash(payload or postback.get('title') or '')}"
        return make("postback", key, str(payload) if payload else None)  # fuzzed bodies send numbers
    for kind in THREAD_CONTROL_KINDS:
        if isinstance(item.get(kind), dict):
            return make(kind, f"tc:{kind}:{sender}:{timestamp}", None)
    result.ignore("unsupported")
    log.info("ignored unsupported webhook item with keys %s", sorted(item))
    return None


def _parse_message(
    message: dict[str, Any], make: Callable[[str, str, str | None], MessengerEvent], result: ParseResult
) -> MessengerEvent | None:
    mid = message.get("mid")
    if not mid:
        result.ignore("no_mid")
        return None
    key = f"mid:{mid}"
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict) and quick_reply.get("payload"):
        return make("quick_reply", key, str(quick_reply["payload"]))
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        return make("text", key, text)
    if message.get("attachments"):
        return make("attachment", key, ATTACHMENT_INTENT)
    result.ignore("empty_message")
    return None


def _short_hash(value: str) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:16]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def raw_json(event: MessengerEvent) -> str:
    return json.dumps(event.raw, ensure_ascii=False, separators=(",", ":"))
