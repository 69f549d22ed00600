"""Answering an offered option with its number ("2") or its title.

On SMS the options are a numbered list, so a parent replies "2"; on Teams a
suggested action posts its title. Either way the parent means "that option",
which NLU cannot know. Before Rasa sees the message, it is replaced by the
chosen option's payload (e.g. "/pump_refill"). The options are read from the
conversation's tracker, not kept in this process, so they last exactly as long
as the tracker does, across restarts and shared by every server process. Anything that does not pick an
offered option is passed on unchanged for NLU.
"""

from __future__ import annotations

import logging
import re
import string
from typing import Any, Dict, Iterable, List

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, Event, UserUttered
from sanic import Blueprint, Sanic

from connectors.plain_text import OnNewMessage
from conversations.ids import conversation_id

logger = logging.getLogger(__name__)

NUMBER = re.compile(r"[0-9]{1,2}")
# What may surround a number ("2.", "(2)", "#2 ") or a title ("How does it work?!").
SURROUNDINGS = string.whitespace + string.punctuation

Button = Dict[str, Any]


def last_offered(events: Iterable[Event]) -> List[Button]:
    """The buttons of the bot's latest turn (its last message that had any).

    Looking no further back than the parent's last message means a "2" after a
    reply without options goes to NLU instead of picking from an older list.
    """
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered) and event.data.get("buttons"):
            return list(event.data["buttons"])
    return []


def chosen_payload(text: str | None, buttons: List[Button]) -> str | None:
    """The payload of the option `text` names by number (1-based) or by title, if any."""
    core = (text or "").strip(SURROUNDINGS)
    if not core or not buttons:
        return None
    if NUMBER.fullmatch(core):
        number = int(core)
        return buttons[number - 1].get("payload") if 1 <= number <= len(buttons) else None
    titled = {str(b.get("title", "")).strip(SURROUNDINGS).casefold(): b.get("payload") for b in buttons}
    return titled.get(core.casefold())


class OptionReplies:
    """Wraps a channel's `on_new_message` so that a reply naming an offered option sends its payload."""

    def __init__(self) -> None:
        self._app: Sanic | None = None

    def attach(self, blueprint: Blueprint) -> Blueprint:
        """Keep a reference to the app the blueprint is served by: its `ctx.agent` holds the trackers."""

        async def keep_app(app: Sanic, _loop: Any) -> None:
            self._app = app

        blueprint.listener("before_server_start")(keep_app)
        return blueprint

    def wrap(self, on_new_message: OnNewMessage, channel: str) -> OnNewMessage:
        """`channel`: whose conversations the options are read from (conversations/ids.py)."""

        async def with_chosen_option(message: UserMessage) -> Any:
            payload = await self.payload_for(message, channel)
            if payload:
                logger.debug("The reply picked an offered option: %s", payload)
                message.text = payload
            return await on_new_message(message)

        return with_chosen_option

    async def payload_for(self, message: UserMessage, channel: str) -> str | None:
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        if agent is None or not (message.text or "").strip(SURROUNDINGS):
            return None
        try:
            tracker = await agent.tracker_store.retrieve(conversation_id(channel, message.sender_id))
        except Exception as error:  # the database is down: read the reply as words rather than fail
            # The type only: the database's message names the conversation (a phone number on SMS).
            logger.error("Could not read the conversation to pick an option: %s", type(error).__name__)
            return None
        return chosen_payload(message.text, last_offered(tracker.events)) if tracker else None
