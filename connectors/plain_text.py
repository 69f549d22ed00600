"""Bot replies as parents should see them in a messaging app: words, never JSON.

Our actions send one message per reply: `text`, optional `buttons` and a
`custom` object ({kind, answer_id, source, source_line} or, for urgent replies,
{kind, call}). Rasa's default output would send `custom` to the parent as raw
JSON and the buttons as extra "1: Title (/payload)" messages. The messaging
channels instead render each reply once, here: the text, then the source line,
and the options either as the app's own buttons or, where it has none (SMS), as
a numbered list the parent can answer with a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Tuple

from rasa.core.channels.channel import OutputChannel, UserMessage

PARAGRAPH = "\n\n"
NUMBERED_LIST_HEADING = "Reply with a number:"

# What Rasa gives an input channel's blueprint: it hands one parent's message to the agent.
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class Option:
    title: str
    payload: str

    def as_button(self) -> Dict[str, str]:
        """Rasa's button shape, which its output channels turn into each app's buttons."""
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class PlainReply:
    """One bot message, ready for any messaging app."""

    text: str
    options: Tuple[Option, ...] = ()

    @property
    def buttons(self) -> List[Dict[str, str]]:
        return [option.as_button() for option in self.options]

    def with_numbered_options(self) -> str:
        """The text with the options listed under it, for apps without buttons."""
        if not self.options:
            return self.text
        lines = [NUMBERED_LIST_HEADING, *(f"{number}. {o.title}" for number, o in enumerate(self.options, start=1))]
        return self.text + PARAGRAPH + "\n".join(lines)


def plain_reply(message: Dict[str, Any]) -> PlainReply:
    """Render a bot message: its text, a blank line, then its source line if it has one.

    Urgent replies carry their phone number in the text itself, so nothing from
    `custom` other than the source line is shown.
    """
    custom = message.get("custom") or {}
    source_line = custom.get("source_line") if isinstance(custom, dict) else None
    parts = [(message.get("text") or "").strip(), (source_line or "").strip()]
    buttons = message.get("buttons") or []
    options = tuple(
        Option(str(button["title"]), str(button["payload"]))
        for button in buttons
        if button.get("title") and button.get("payload")
    )
    return PlainReply(PARAGRAPH.join(part for part in parts if part), options)


class PlainTextOutput(OutputChannel):
    """Mixed in before a Rasa output channel: one outgoing message per bot reply.

    Subclasses implement `send_reply` with the app's own message shape. Images
    still go through the channel's own `send_image_url`; `custom` and
    `elements` are never sent to a messaging app.
    """

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        reply = plain_reply(message)
        if reply.text:
            await self.send_reply(recipient_id, reply)
        if message.get("image"):
            await self.send_image_url(recipient_id, message["image"])

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        raise NotImplementedError(f"{type(self).__name__} must say how it sends a reply.")


def replying_with(on_new_message: OnNewMessage, plain_output: Callable[[Any], OutputChannel]) -> OnNewMessage:
    """`on_new_message`, with each message's output channel swapped for our plain-text one.

    For channels whose Rasa route builds the output channel itself, from the
    incoming request (Messenger's client, Bot Framework's conversation and
    service URL): `plain_output` gets Rasa's and returns ours, built from it.
    """

    async def handle(message: UserMessage) -> Any:
        message.output_channel = plain_output(message.output_channel)
        return await on_new_message(message)

    return handle
