"""Rasa REST replies → Messenger Send API `message` objects (pure functions, no I/O).

Messenger refuses or silently cuts anything over its limits, so every message is brought within
them here: text ≤ 2000 (split on paragraph, line, sentence, then word boundaries), ≤ 13 quick
replies with 20-character titles, button templates of 1–3 buttons with text ≤ 640, generic
templates of ≤ 10 elements with 80-character title/subtitle and ≤ 3 buttons each.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable
from typing import Any

from bot.services.dialogue.context import FORGET_MARKER, READING_MARKER
from bot.services.dialogue.context import MARKER as CONTEXT_MARKER
from bot.services.i18n import N_, _
from bot.services.replies import (
    BUTTON_TEXT_LIMIT,
    BUTTON_TITLE_LIMIT,
    ELEMENT_TEXT_LIMIT,
    ELLIPSIS,
    GENERIC_ELEMENT_LIMIT,
    PAYLOAD_LIMIT,
    QUICK_REPLY_LIMIT,
    QUICK_REPLY_TITLE_LIMIT,
    TEMPLATE_BUTTON_LIMIT,
    TEXT_LIMIT,
    phone_number,
)

log = logging.getLogger(__name__)


# French, read by users.
DEFAULT_CHOICE_TEXT = N_("Choisissez une option :")
MORE_CHOICES_TEXT = N_("Autres options :")

_SENTENCE_END = re.compile(r"[.!?…:;](?=\s)")


def cut(text: Any, limit: int) -> str:
    """Text shortened to `limit` characters, ending with "…" when something was removed."""
    shown = str(text or "").strip()
    if len(shown) <= limit:
        return shown
    return shown[: limit - 1].rstrip() + ELLIPSIS


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of ≤ limit characters, cut at the best boundary available; no empty piece."""
    text = (text or "").strip()
    pieces: list[str] = []
    while len(text) > limit:
        at = _split_point(text, limit)
        piece, text = text[:at].rstrip(), text[at:].lstrip()
        if piece:
            pieces.append(piece)
    if text:
        pieces.append(text)
    return pieces


def _split_point(text: str, limit: int) -> int:
    window = text[: limit + 1]  # a boundary right after the limit still gives a full piece
    floor = limit // 3  # refuse boundaries that would leave a tiny first piece
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator, 0, limit)
        if at > floor:
            return at
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= limit]
    if ends and ends[-1] > floor:
        return ends[-1]
    at = window.rfind(" ", 0, limit + 1)
    if at > floor:
        return at
    return limit  # one very long word: hard cut


def quick_replies(buttons: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa payload buttons → Messenger text quick replies (≤ 13, titles ≤ 20)."""
    result = []
    for button in buttons:
        title, payload = button.get("title"), button.get("payload")
        if not title or not payload:
            continue
        result.append(
            {
                "content_type": "text",
                "title": cut(title, QUICK_REPLY_TITLE_LIMIT),
                "payload": str(payload)[:PAYLOAD_LIMIT],
            }
        )
    if len(result) > QUICK_REPLY_LIMIT:
        log.warning("dropping %d quick replies over the limit", len(result) - QUICK_REPLY_LIMIT)
    return result[:QUICK_REPLY_LIMIT]


def template_button(button: dict[str, Any]) -> dict[str, Any] | None:
    """Rasa button (url or payload) → Messenger web_url / phone_number / postback button."""
    title = cut(button.get("title"), BUTTON_TITLE_LIMIT)
    if not title:
        return None
    number = phone_number(str(button.get("url") or ""))
    if number:  # Messenger's call button: the number (international format, "+687…") goes in `payload`
        return {"type": "phone_number", "title": title, "payload": number}
    if button.get("url"):
        return {"type": "web_url", "url": str(button["url"]), "title": title}
    if button.get("payload"):
        return {"type": "postback", "title": title, "payload": str(button["payload"])[:PAYLOAD_LIMIT]}
    return None


def button_templates(text: str, buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messenger-format buttons spread over as many button templates as needed (3 each).

    Text over 640 characters goes first as plain text messages; the template keeps the last part.
    """
    limited = [_limit_button(b) for b in buttons if isinstance(b, dict)]
    buttons = [b for b in limited if b]
    if not buttons:
        return [{"text": piece} for piece in split_text(text)]
    body = (text or "").strip()
    pieces = split_text(body, BUTTON_TEXT_LIMIT)
    tail = pieces[-1] if pieces else _(DEFAULT_CHOICE_TEXT)
    head = body[: body.rfind(tail)].rstrip() if len(pieces) > 1 else ""
    messages: list[dict[str, Any]] = [{"text": piece} for piece in split_text(head)]
    for start in range(0, len(buttons), TEMPLATE_BUTTON_LIMIT):
        messages.append(
            {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "button",
                        "text": tail if start == 0 else _(MORE_CHOICES_TEXT),
                        "buttons": buttons[start : start + TEMPLATE_BUTTON_LIMIT],
                    },
                }
            }
        )
    return messages


def _limit_button(button: dict[str, Any]) -> dict[str, Any] | None:
    if button.get("type") is None:  # a Rasa-style button
        return template_button(button)
    button = dict(button)
    if "title" in button:
        button["title"] = cut(button["title"], BUTTON_TITLE_LIMIT)
    if "payload" in button:
        button["payload"] = str(button["payload"])[:PAYLOAD_LIMIT]
    return button


def split_context(replies: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Rasa's replies without the actions' context declarations, and the declared context
    (bot.services.dialogue.context): the last declared question and topic, or None."""
    kept: list[dict[str, Any]] = []
    declared: dict[str, Any] = {}
    for reply in replies or []:
        custom = reply.get("custom") if isinstance(reply, dict) else None
        if isinstance(custom, dict) and CONTEXT_MARKER in custom:
            if isinstance(custom[CONTEXT_MARKER], dict):
                declared.update({k: v for k, v in custom[CONTEXT_MARKER].items() if v is not None})
            continue
        if isinstance(custom, dict) and FORGET_MARKER in custom:
            continue
        kept.append(reply)
    return kept, declared or None


def split_reading(replies: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Rasa's replies without the NLU's reading our channel appends (nlu/channels/internal_rest.py),
    and that reading (intent, confidence, FAQ entry), or None."""
    kept: list[dict[str, Any]] = []
    reading: dict[str, Any] | None = None
    for reply in replies or []:
        custom = reply.get("custom") if isinstance(reply, dict) else None
        if isinstance(custom, dict) and READING_MARKER in custom:
            reading = custom[READING_MARKER] if isinstance(custom[READING_MARKER], dict) else None
            continue
        kept.append(reply)
    return kept, reading


def asks_to_forget(replies: Iterable[dict[str, Any]]) -> bool:
    """Did this turn erase the user's data? (then the webhook erases Rasa's tracker too)"""
    return any(
        isinstance(r, dict) and isinstance(r.get("custom"), dict) and r["custom"].get(FORGET_MARKER)
        for r in replies or []
    )


def messages_from_rasa(replies: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """All Send API `message` objects for one Rasa REST answer, in order."""
    messages: list[dict[str, Any]] = []
    for reply in replies or []:
        if isinstance(reply, dict):
            messages.extend(messages_from_reply(reply))
    return messages


def messages_from_reply(reply: dict[str, Any]) -> list[dict[str, Any]]:
    text = reply.get("text") or ""
    buttons = [b for b in reply.get("buttons") or [] if isinstance(b, dict)]
    with_url = any(b.get("url") for b in buttons)
    # Payload-only buttons become chips; Rasa's own `quick_replies` have the same shape.
    chips = quick_replies(
        ([] if with_url else buttons) + [q for q in reply.get("quick_replies") or [] if isinstance(q, dict)]
    )
    if with_url:
        messages = button_templates(text, buttons)
    else:
        messages = [{"text": piece} for piece in split_text(text)]
    if reply.get("image"):
        messages.append(image_message(str(reply["image"])))
    attachment = reply.get("attachment")
    if isinstance(attachment, dict) and attachment.get("type"):
        messages.append({"attachment": copy.deepcopy(attachment)})
    if reply.get("custom") is not None:
        messages += limit_message(reply["custom"])
    if chips:
        if not messages:
            messages = [{"text": _(DEFAULT_CHOICE_TEXT)}]  # quick replies must hang on a message
        # Messenger shows chips under the message carrying them: the last one of this reply.
        messages[-1] = {**messages[-1], "quick_replies": chips}
    return messages


def image_message(url: str) -> dict[str, Any]:
    return {"attachment": {"type": "image", "payload": {"url": url, "is_reusable": True}}}


def limit_message(message: Any) -> list[dict[str, Any]]:
    """A Messenger `message` object from a Rasa custom payload, brought within the limits.

    May return several messages (long text, more than 3 buttons); [] when it is unusable.
    """
    if not isinstance(message, dict):
        log.warning("ignored custom payload that is not an object")
        return []
    message = copy.deepcopy(message)
    chips = message.pop("quick_replies", None)
    attachment = message.get("attachment")
    if isinstance(attachment, dict):
        messages = _limit_attachment(attachment)
    elif message.get("text"):
        messages = [{"text": piece} for piece in split_text(str(message["text"]))]
    else:
        log.warning("ignored custom payload without text or attachment")
        return []
    if isinstance(chips, list) and chips and messages:
        messages[-1]["quick_replies"] = _limit_quick_replies(chips)
    return messages


def _limit_attachment(attachment: dict[str, Any]) -> list[dict[str, Any]]:
    payload = attachment.get("payload")
    if attachment.get("type") != "template" or not isinstance(payload, dict):
        return [{"attachment": attachment}]
    kind = payload.get("template_type")
    if kind == "button":
        return button_templates(str(payload.get("text") or ""), list(payload.get("buttons") or []))
    if kind == "generic":
        elements = [e for e in payload.get("elements") or [] if isinstance(e, dict)]
        if len(elements) > GENERIC_ELEMENT_LIMIT:
            log.warning("dropping %d generic elements over the limit", len(elements) - GENERIC_ELEMENT_LIMIT)
        payload["elements"] = [_limit_element(e) for e in elements[:GENERIC_ELEMENT_LIMIT]]
        if not payload["elements"]:
            return []
    return [{"attachment": attachment}]


def _limit_element(element: dict[str, Any]) -> dict[str, Any]:
    element["title"] = cut(element.get("title") or "—", ELEMENT_TEXT_LIMIT)
    if element.get("subtitle"):
        element["subtitle"] = cut(element["subtitle"], ELEMENT_TEXT_LIMIT)
    limited = [_limit_button(b) for b in element.get("buttons") or [] if isinstance(b, dict)]
    buttons = [b for b in limited if b][:TEMPLATE_BUTTON_LIMIT]
    if buttons:
        element["buttons"] = buttons
    else:
        element.pop("buttons", None)
    return element


def _limit_quick_replies(chips: list[Any]) -> list[dict[str, Any]]:
    result = []
    for chip in chips[:QUICK_REPLY_LIMIT]:
        if not isinstance(chip, dict):
            continue
        chip = dict(chip)
        if chip.get("content_type", "text") == "text":
            chip["content_type"] = "text"
            chip["title"] = cut(chip.get("title"), QUICK_REPLY_TITLE_LIMIT)
            chip["payload"] = str(chip.get("payload") or chip["title"])[:PAYLOAD_LIMIT]
        result.append(chip)
    return result
