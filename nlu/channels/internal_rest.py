"""The only way into Rasa's conversations: Rasa's REST channel, for the webhook alone.

Rasa's stock `rest` channel lets anyone who reaches the port speak as any PSID (balance, a quote
to confirm, a line to suspend). This one is the same channel at /webhooks/mobilis/webhook, but a
request without the internal token (header set by bot/channel/rasa_client.py) is refused before
Rasa sees the message. The token is read once at start: outside development mode Rasa does not
start without a real one (bot/config.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.internal_auth import HEADER, RASA_CHANNEL, internal_token, token_matches
from bot.services.dialogue.context import READING_MARKER, turn_from_metadata
from nlu.components.context_resolver import take_reading


class InternalRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return RASA_CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InternalRestInput:
        return cls()

    def __init__(self) -> None:
        # Rasa's start: reads the settings (no secret may keep a development value outside
        # development mode) and requires the internal token.
        self._token = internal_token()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def answer_with_reading(message: UserMessage) -> Any:
            # The answer ends with what the NLU understood (intent, confidence, FAQ entry): the
            # webhook records it for the review queue and the dashboard, then drops it.
            try:
                return await on_new_message(message)
            finally:
                reading = take_reading(turn_from_metadata(message.metadata))
                if reading is not None and isinstance(message.output_channel, CollectingOutputChannel):
                    message.output_channel.messages.append(
                        {"recipient_id": message.sender_id, "custom": {READING_MARKER: reading}}
                    )

        channel = super().blueprint(answer_with_reading)

        @channel.middleware("request")
        async def only_the_webhook(request: Request):
            if not token_matches(request.headers.get(HEADER), self._token):
                return response.json({"error": "forbidden"}, status=403)
            return None

        return channel
