"""One outgoing message per bot reply, with its `custom` metadata inside it.

Rasa's own output channels send a reply's text and its `custom` payload as two
separate messages (and socket.io passes `custom` keys to `emit` as arguments).
A widget could not tell which source or `kind` belongs to which text, so these
outputs keep them together.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.channels.socketio import SocketIOOutput

# The parts of a bot message a channel can show; everything else Rasa adds
# (timestamps, template names) stays in the tracker.
REPLY_KEYS = ("text", "buttons", "quick_replies", "image", "attachment", "elements", "custom")


def one_message(message: Dict[str, Any]) -> Dict[str, Any]:
    return {key: message[key] for key in REPLY_KEYS if message.get(key)}


class OneMessageCollector(CollectingOutputChannel):
    """Collects replies for the REST response, writing into the channel's own collector."""

    def __init__(self, collector: CollectingOutputChannel) -> None:
        super().__init__()
        self._collector = collector
        self.messages = collector.messages

    async def _persist_message(self, message: Dict[str, Any]) -> None:
        await self._collector._persist_message(message)

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        await self._persist_message({"recipient_id": recipient_id, **one_message(message)})


def as_quick_replies(buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Rasa's socket.io shape for buttons, which existing socket.io widgets understand."""
    return [{"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons]


class OneMessageSocketIOOutput(SocketIOOutput):
    """Emits each reply as one `bot_uttered` event, naming the message it answers (`in_reply_to`).

    The widget sends a message again when its connection drops before the answer came, and the first
    attempt may still answer after all: the id tells it which replies it has already shown, and
    which of its messages are answered (widget/src/connection.js, connectors/message_ids.py).
    """

    def __init__(self, sio: Any, bot_message_evt: str, in_reply_to: str | None = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.in_reply_to = in_reply_to

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        reply = one_message(message)
        if "buttons" in reply:
            reply["quick_replies"] = as_quick_replies(reply.pop("buttons"))
        if self.in_reply_to:
            reply["in_reply_to"] = self.in_reply_to
        await self._send_message(recipient_id, reply)
