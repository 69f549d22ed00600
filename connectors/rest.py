"""The REST channel at /webhooks/rest/webhook, replying one message per bot reply.

Rasa's own REST handler trusts its input: a body that isn't a JSON object
gives a 500, a missing `sender` puts the message into one shared "default"
conversation (one parent would see another's), and a `message` that isn't a
string fails deep inside the model. Requests are checked here first, and a
malformed one gets a 400 that says what is wrong.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import guarded
from connectors.message_ids import HEADER, METADATA_KEY, client_message_id
from connectors.origins import allowed_origins, origin_allowed, refused_origin
from connectors.replies import OneMessageCollector

# Sender ids are conversation ids: the widget's are UUIDs, messaging apps' are
# phone numbers or user ids. Anything longer is not an id.
MAX_SENDER_CHARS = 128


def request_error(body: bytes) -> str | None:
    """What is wrong with a webhook request body, or None if it is a usable message."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "The request body must be UTF-8 encoded JSON."
    except json.JSONDecodeError:
        return 'The request body must be JSON: {"sender": "...", "message": "..."}.'
    if not isinstance(payload, dict):
        return 'The request body must be a JSON object: {"sender": "...", "message": "..."}.'
    sender, message = payload.get("sender"), payload.get("message")
    if not isinstance(sender, str) or not sender.strip():
        return '"sender" must be a non-empty string that identifies the conversation.'
    if len(sender) > MAX_SENDER_CHARS or not sender.isprintable():
        return f'"sender" must be printable and at most {MAX_SENDER_CHARS} characters.'
    if not isinstance(message, str):
        return '"message" must be a string.'
    if payload.get("metadata") is not None and not isinstance(payload["metadata"], dict):
        return '"metadata" must be a JSON object.'
    channel = payload.get("input_channel")
    if channel is not None and not (isinstance(channel, str) and channel.isprintable() and len(channel) <= 64):
        return '"input_channel" must be a short name.'
    return None


def error_response(message: str, status: int) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class MetadataRestInput(RestInput):
    """Rasa's REST input, with each reply's `custom` metadata kept in the same message."""

    @classmethod
    def name(cls) -> str:
        # Same URL as Rasa's built-in channel, so clients need no change.
        return "rest"

    def get_metadata(self, request: Request) -> Dict[str, Any] | None:
        """Only the message's own id, from the body's metadata or HAProxy's header (connectors/message_ids.py).

        The rest of a REST client's metadata is not kept: a conversation stores what the parent said.
        """
        supplied = (request.json or {}).get("metadata") or {}
        message_id = client_message_id(supplied) or client_message_id({METADATA_KEY: request.headers.get(HEADER)})
        return {METADATA_KEY: message_id} if message_id else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = guarded(on_new_message, self.name())
        origins = allowed_origins()

        async def with_one_message_per_reply(message: UserMessage) -> None:
            message.output_channel = OneMessageCollector(message.output_channel)
            await on_new_message(message)

        blueprint = super().blueprint(with_one_message_per_reply)

        @blueprint.middleware("request")
        async def screen_request(request: Request) -> HTTPResponse | None:
            if not origin_allowed(request.headers.get("origin"), origins):
                return refused_origin()
            if request.method != "POST":
                return None
            error = request_error(request.body)
            return error_response(error, 400) if error else None

        return blueprint
