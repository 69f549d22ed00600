"""Slack, at /webhooks/slack/webhook, switched on by SLACK_* environment variables."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.slack import SlackBot, SlackInput
from slack_sdk.web.async_client import AsyncWebClient

from connectors.env import ChannelEnv, channel_from_env
from connectors.plain_text import Option, PlainReply, PlainTextOutput

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


class SlackPlainOutput(PlainTextOutput, SlackBot):
    """Each reply as one Slack message."""

    def __init__(self, token: str, api_url: str, slack_channel: str | None, thread_id: str | None) -> None:
        super().__init__(token, slack_channel, thread_id)
        self.client = AsyncWebClient(token, base_url=api_url)

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        # `text` is what notifications and screen readers without blocks show.
        await self._post_message(self.slack_channel or recipient_id, text=reply.text, blocks=slack_blocks(reply))


class SlackChannel(SlackInput):
    """Rasa's Slack input, configured from the environment, replying in plain text."""

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return channel_from_env(cls, SLACK_ENV, cls._from_env, credentials)

    @classmethod
    def _from_env(cls, env: Dict[str, str]) -> SlackChannel:
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
