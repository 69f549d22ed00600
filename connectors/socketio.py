"""The socket.io channel, emitting one `bot_uttered` event per bot reply."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from engineio import AsyncServer as EngineIOServer
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from sanic.response import HTTPResponse

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

        socketio_blueprint = super().blueprint(with_one_message_per_reply)
        answer_closed_websockets(self.sio.eio)
        return socketio_blueprint


def answer_closed_websockets(engine: EngineIOServer) -> None:
    """Give Sanic a response when a WebSocket conversation ends.

    engine.io's request handler returns None once a WebSocket closes (a parent
    closes the tab), and Sanic then logs a ServerError traceback for every
    closed chat. The route is attached when the blueprint is registered, after
    this runs, so it picks up the wrapped handler.
    """
    handle_request = engine.handle_request

    async def handle_request_with_response(*args: Any, **kwargs: Any) -> Any:
        response = await handle_request(*args, **kwargs)
        return HTTPResponse(status=204) if response is None else response

    engine.handle_request = handle_request_with_response
