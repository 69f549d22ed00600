"""The socket.io channel, emitting one `bot_uttered` event per bot reply."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, FrozenSet

from engineio import AsyncServer as EngineIOServer
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import guarded
from connectors.message_ids import client_message_id
from connectors.origins import allowed_origins, origin_allowed, refused_origin
from connectors.replies import OneMessageSocketIOOutput
from conversations.ids import replica_name


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
        on_new_message = guarded(on_new_message, self.name())

        async def with_one_message_per_reply(message: UserMessage) -> None:
            in_reply_to = client_message_id(message.metadata)
            message.output_channel = OneMessageSocketIOOutput(self.sio, self.bot_message_evt, in_reply_to)
            await on_new_message(message)

        socketio_blueprint = super().blueprint(with_one_message_per_reply)
        screen_engine_requests(self.sio.eio, allowed_origins())
        name_sessions_after_replica(self.sio.eio, replica_name())
        return socketio_blueprint


def name_sessions_after_replica(engine: EngineIOServer, replica: str) -> None:
    """Begin every engine.io session id with this replica's name, so the balancer can route by it.

    A socket.io session that long-polls must reach the replica that holds it, and every polling
    request carries its session id (`?sid=`). The balancer's cookie does the same for a page on the
    bot's own origin, but a widget embedded on another site would need a third-party cookie, which
    browsers increasingly block; the id needs none. HAProxy reads the prefix (`use-server rasa-1 if
    { urlp(sid) -m beg rasa-1. }`, deploy/haproxy/).
    """
    if not replica:
        return
    generate_id = engine.generate_id
    engine.generate_id = lambda: f"{replica}.{generate_id()}"


def screen_engine_requests(engine: EngineIOServer, origins: FrozenSet[str]) -> None:
    """Refuse pages from other origins, and give Sanic a response when a WebSocket conversation ends.

    Rasa turns engine.io's own origin check off (`cors_allowed_origins=[]`),
    and a WebSocket is not subject to CORS, so any web page could chat through
    this server; turning engine.io's check back on would also add its own CORS
    headers on top of the ones Rasa's `--cors` adds. So the check is done here.

    engine.io's request handler returns None once a WebSocket closes (a parent
    closes the tab), and Sanic then logs a ServerError traceback for every
    closed chat.

    The route is attached when the blueprint is registered, after this runs,
    so it picks up the wrapped handler.
    """
    handle_request = engine.handle_request

    async def handle_request_with_response(request: Request, *args: Any, **kwargs: Any) -> Any:
        if not origin_allowed(request.headers.get("origin"), origins):
            return refused_origin()
        response = await handle_request(request, *args, **kwargs)
        return HTTPResponse(status=204) if response is None else response

    engine.handle_request = handle_request_with_response
