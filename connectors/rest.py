"""The REST channel at /webhooks/rest/webhook, replying one message per bot reply."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from connectors.replies import OneMessageCollector


class MetadataRestInput(RestInput):
    """Rasa's REST input, with each reply's `custom` metadata kept in the same message."""

    @classmethod
    def name(cls) -> str:
        # Same URL as Rasa's built-in channel, so clients need no change.
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_one_message_per_reply(message: UserMessage) -> None:
            message.output_channel = OneMessageCollector(message.output_channel)
            await on_new_message(message)

        return super().blueprint(with_one_message_per_reply)
