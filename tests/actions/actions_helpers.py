"""Helpers of the action tests: build rasa_sdk trackers, run an action, read what it sent."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.services.dialogue.context import MARKER


def make_tracker(
    sender_id: str,
    intent: str = "",
    entities: list[dict] | None = None,
    slots: dict | None = None,
    text: str = "",
    metadata: dict | None = None,
) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 1.0}, "entities": entities or [], "text": text}
    if metadata is not None:
        latest["metadata"] = metadata
    return Tracker(sender_id, slots or {}, latest, [], False, None, {}, "action_listen")


def run_action(action, tracker: Tracker) -> tuple[list[dict], list]:
    """What the user would see (the context declaration for the webhook left out) and the events."""
    messages, events, _ = run_action_with_context(action, tracker)
    return messages, events


def run_action_with_context(action, tracker: Tracker) -> tuple[list[dict], list, dict | None]:
    """Also the dialogue context the action declared (what it asked, what it showed)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    shown = [m for m in dispatcher.messages if MARKER not in (m.get("custom") or {})]
    declared = [m["custom"][MARKER] for m in dispatcher.messages if MARKER in (m.get("custom") or {})]
    return shown, events, declared[-1] if declared else None


def texts(messages: list[dict]) -> str:
    """Everything a user would read: texts and template texts/cards."""
    parts = []
    for m in messages:
        if m.get("text"):
            parts.append(m["text"])
        payload = ((m.get("custom") or {}).get("attachment") or {}).get("payload") or {}
        if payload.get("text"):
            parts.append(payload["text"])
        for element in payload.get("elements") or []:
            parts.append(f"{element.get('title', '')} {element.get('subtitle', '')}")
    return "\n".join(parts)


def chip_payloads(messages: list[dict]) -> list[str]:
    """Quick-reply payloads hung on the last message (Rasa buttons or Messenger quick_replies)."""
    last = messages[-1]
    if last.get("buttons"):
        return [b["payload"] for b in last["buttons"]]
    return [q["payload"] for q in (last.get("custom") or {}).get("quick_replies") or []]
