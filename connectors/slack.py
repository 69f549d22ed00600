"""Slack, at /webhooks/slack/webhook, switched on by SLACK_* environment variables.

A file or picture sent with no words gets the fallback reply (connectors/unreadable.py):
Rasa's route drops it without a word.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from connectors.env import ChannelEnv, ConfiguredFromEnv
from connectors.guard import guarded
from connectors.plain_text import OnNewMessage, Option, PlainReply, PlainTextOutput
from connectors.unreadable import UNREADABLE

SLACK_ENV = ChannelEnv(
    "Slack",
    required=("SLACK_TOKEN", "SLACK_SIGNING_SECRET"),
    # SLACK_CHANNEL: also answer messages posted in this channel, not only DMs and @mentions.
    optional={"SLACK_CHANNEL": "", "SLACK_API_URL": "https://slack.com/api/"},
)


def slack_blocks(reply: PlainReply) -> List[Dict[str, Any]]:
    """The reply as Block Kit: plain text (no mrkdwn surprises) and one button per option.

    Rasa's own Slack output drops every button when there are more than 5;
    an actions block holds up to 25.
    """
    blocks: List[Dict[str, Any]] = [{"type": "section", "text": {"type": "plain_text", "text": reply.text}}]
    if reply.options:
        blocks.append({"type": "actions", "elements": [slack_button(option) for option in reply.options]})
    return blocks


def slack_button(option: Option) -> Dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": option.title}, "value": option.payload}


def is_file_without_words(event: Any) -> bool:
    """A parent's message that is only a file or picture, which Rasa's route would skip."""
    return (
        isinstance(event, dict)
        and event.get("type") == "message"
        and bool(event.get("files"))
        and not str(event.get("text") or "").strip()
        and bool(event.get("user"))
        and not event.get("bot_id")
    )


class SlackPlainOutput(PlainTextOutput, SlackBot):
    """Each reply as one Slack message."""

    def __init__(self, token: str, api_url: str, slack_channel: str | None, thread_id: str | None) -> None:
        super().__init__(token, slack_channel, thread_id)
        self.client = AsyncWebClient(token, base_url=api_url)

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        # `text` is what notifications and screen readers without blocks show.
        await self._post_message(self.slack_channel or recipient_id, text=reply.text, blocks=slack_blocks(reply))


class SlackChannel(ConfiguredFromEnv, SlackInput):
    """Rasa's Slack input, configured from the environment, replying in plain text."""

    settings = SLACK_ENV

    @classmethod
    def from_settings(cls, env: Dict[str, str]) -> SlackChannel:
        return cls(env["SLACK_TOKEN"], env["SLACK_SIGNING_SECRET"], env["SLACK_CHANNEL"] or None, env["SLACK_API_URL"])

    def __init__(self, slack_token: str, slack_signing_secret: str, slack_channel: str | None, api_url: str) -> None:
        super().__init__(
            slack_token,
            slack_channel,
            # Rasa's from_credentials defaults, which its __init__ lacks: without them Slack's
            # retries after a slow answer are handled again, and the parent gets the reply twice.
            slack_retry_reason_header="x-slack-retry-reason",
            slack_retry_number_header="x-slack-retry-num",
            slack_signing_secret=slack_signing_secret,
        )
        self.api_url = api_url

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> SlackPlainOutput:
        return SlackPlainOutput(self.slack_token, self.api_url, channel or self.slack_channel, thread_id)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = guarded(on_new_message, self.name())
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def answer_files_without_words(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or request.headers.get("content-type") != "application/json":
                return None
            body = request.json
            event = body.get("event") if isinstance(body, dict) else None
            if not is_file_without_words(event) or not self.is_request_from_slack_authentic(request):
                return None  # Rasa's route answers (or refuses) everything else
            metadata = self.get_metadata(request)
            if not self._is_supported_channel(body, metadata):
                return None
            sender = self._get_conversation_id(event["user"], metadata.get("out_channel"), metadata.get("thread_id"))
            return await self.process_message(request, on_new_message, UNREADABLE, sender, metadata)

        return blueprint
