"""The socket.io channel, emitting one `bot_uttered` event per bot reply."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from connectors.replies import OneMessageSocketIOOutput


class MetadataSocketIOInput(SocketIOInput):
    """Rasa's socket.io input, with each reply's `custom` metadata kept in the same event."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return OneMessageSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_one_message_per_reply(message: UserMessage) -> None:
            message.output_channel = OneMessageSocketIOOutput(self.sio, self.bot_message_evt)
            await on_new_message(message)

        return super().blueprint(with_one_message_per_reply)
