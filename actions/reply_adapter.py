"""bot.services.replies.Reply → Rasa bot messages (what the webhook turns into Messenger sends).

Conventions (docs/contracts.md, bot/channel/formatting.py):
- text with quick replies → `utter_message(text=..., buttons=[{"title", "payload"}])`; the channel
  makes payload buttons Messenger quick replies;
- URL / postback buttons → `json_message` = a Messenger `message` with a button template;
- cards → `json_message` with a generic template.
Messenger only shows quick replies under the LAST message, so they are hung on the last message
built here: as Rasa buttons on a text message, or as Messenger `quick_replies` inside a custom
payload (the channel keeps them there). Limits are enforced again by the channel.
"""

from __future__ import annotations

from typing import Any

from bot.services.i18n import N_, _
from bot.services.replies import Button, Card, Reply, phone_number

DEFAULT_BUTTON_TEXT = N_("Choisissez une option :")


def template_button(button: Button) -> dict[str, Any] | None:
    """Messenger button: web_url, phone_number (for "tel:+687…") or postback; its title translated."""
    title = _(button.title)
    if button.url:
        number = phone_number(button.url)
        if number:
            return {"type": "phone_number", "title": title, "payload": number}
        return {"type": "web_url", "title": title, "url": button.url}
    if button.payload:
        return {"type": "postback", "title": title, "payload": button.payload}
    return None  # a button with nowhere to go is dropped rather than sent broken


def button_template(text: str, buttons: list[Button] | tuple[Button, ...]) -> dict[str, Any]:
    return {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": text or _(DEFAULT_BUTTON_TEXT),
                "buttons": [b for b in (template_button(x) for x in buttons) if b],
            },
        }
    }


def generic_template(cards: list[Card]) -> dict[str, Any]:
    elements = []
    for card in cards:
        element: dict[str, Any] = {"title": _(card.title)}
        if card.subtitle:
            element["subtitle"] = _(card.subtitle)
        buttons = [b for b in (template_button(x) for x in card.buttons) if b]
        if buttons:
            element["buttons"] = buttons
        elements.append(element)
    return {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": elements}}}


def rasa_messages(reply: Reply) -> list[dict[str, Any]]:
    """Keyword arguments for each `dispatcher.utter_message` call, in order."""
    messages: list[dict[str, Any]] = []
    buttons = [b for b in reply.buttons if template_button(b)]
    if buttons:
        messages.append({"json_message": button_template(reply.text, buttons)})
    elif reply.text:
        messages.append({"text": reply.text})
    if reply.cards:
        messages.append({"json_message": generic_template(reply.cards)})
    if not messages:
        messages.append({"text": _(DEFAULT_BUTTON_TEXT)})

    if reply.quick_replies:
        last = messages[-1]
        if "json_message" in last:
            last["json_message"]["quick_replies"] = [
                {"content_type": "text", "title": _(q.title), "payload": q.payload} for q in reply.quick_replies
            ]
        else:
            last["buttons"] = [{"title": _(q.title), "payload": q.payload} for q in reply.quick_replies]
    return messages


def send_reply(dispatcher, reply: Reply) -> None:
    """Send a service Reply through a rasa_sdk CollectingDispatcher."""
    for message in rasa_messages(reply):
        dispatcher.utter_message(**message)
