"""Microsoft Teams (Bot Framework), at /webhooks/botframework/webhook, switched on by BOTFRAMEWORK_* variables.

Replies go to the `serviceUrl` of the parent's own message, as in Rasa; only
the token endpoint and the signing keys' address are configurable.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, Awaitable, Callable, ClassVar, Dict

import requests
from rasa.core.channels.botframework import (
    MICROSOFT_OAUTH2_PATH,
    MICROSOFT_OAUTH2_URL,
    MICROSOFT_OPEN_ID_URI,
    BotFramework,
    BotFrameworkInput,
)
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint

from connectors.env import ChannelEnv, channel_from_env
from connectors.option_replies import OptionReplies
from connectors.plain_text import PlainReply, PlainTextOutput

logger = logging.getLogger(__name__)

TEAMS_ENV = ChannelEnv(
    "Microsoft Bot Framework (Teams)",
    required=("BOTFRAMEWORK_APP_ID", "BOTFRAMEWORK_APP_PASSWORD"),
    optional={
        # A single-tenant bot's token comes from https://login.microsoftonline.com/<tenant-id>/oauth2/v2.0/token.
        "BOTFRAMEWORK_LOGIN_URL": f"{MICROSOFT_OAUTH2_URL}/{MICROSOFT_OAUTH2_PATH}",
        # Where the keys that sign Bot Framework's requests are listed (another one in national clouds).
        "BOTFRAMEWORK_OPENID_URL": MICROSOFT_OPEN_ID_URI,
    },
)
TOKEN_SCOPE = "https://api.botframework.com/.default"
# Fetch a new token this long before the old one expires, so no reply is sent with an expired one.
TOKEN_MARGIN = datetime.timedelta(minutes=5)
TIMEOUT = 10  # seconds; Rasa's requests have none, so a hung login would hang the reply forever


def suggested_actions(reply: PlainReply) -> Dict[str, Any]:
    """Teams' quick replies. Each posts its title, shown in the chat as the parent's answer;
    OptionReplies turns that title back into the option's payload."""
    return {"actions": [{"type": "imBack", "title": o.title, "value": o.title} for o in reply.options]}


class TeamsOutput(PlainTextOutput, BotFramework):
    """Each reply as one Bot Framework activity: plain text, options as suggested actions."""

    token_expiration_date: ClassVar[datetime.datetime] = datetime.datetime.min
    headers: ClassVar[Dict[str, Any] | None] = None

    def __init__(self, original: BotFramework, login_url: str) -> None:
        """Take over the output Rasa built from the incoming activity (its conversation and service URL)."""
        service_url = original.global_uri.removesuffix("v3/")
        super().__init__(original.app_id, original.app_password, original.conversation, original.bot, service_url)
        self.login_url = login_url

    async def _get_headers(self) -> Dict[str, Any] | None:
        """Rasa's token cache, asking `login_url` instead of the multi-tenant endpoint it hard-codes."""
        if TeamsOutput.token_expiration_date > datetime.datetime.now():
            return TeamsOutput.headers
        grant = {
            "client_id": self.app_id,
            "client_secret": self.app_password,
            "grant_type": "client_credentials",
            "scope": TOKEN_SCOPE,
        }
        token_response = requests.post(self.login_url, data=grant, timeout=TIMEOUT)
        if not token_response.ok:
            logger.error("Bot Framework refused a token (HTTP %s): check BOTFRAMEWORK_*.", token_response.status_code)
            return None
        token = token_response.json()
        lifetime = datetime.timedelta(seconds=int(token["expires_in"]))
        TeamsOutput.token_expiration_date = datetime.datetime.now() + lifetime - TOKEN_MARGIN
        TeamsOutput.headers = {"content-type": "application/json", "Authorization": f"Bearer {token['access_token']}"}
        return TeamsOutput.headers

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        activity: Dict[str, Any] = {"text": reply.text, "textFormat": "plain"}
        if reply.options:
            activity["suggestedActions"] = suggested_actions(reply)
        await self.send(self.prepare_message(recipient_id, activity))


class TeamsChannel(BotFrameworkInput):
    """Rasa's Bot Framework input, configured from the environment, replying in plain text."""

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return channel_from_env(cls, TEAMS_ENV, cls._from_env, credentials)

    @classmethod
    def _from_env(cls, env: Dict[str, str]) -> TeamsChannel:
        return cls(
            env["BOTFRAMEWORK_APP_ID"],
            env["BOTFRAMEWORK_APP_PASSWORD"],
            login_url=env["BOTFRAMEWORK_LOGIN_URL"],
            openid_url=env["BOTFRAMEWORK_OPENID_URL"],
        )

    def __init__(self, app_id: str, app_password: str, login_url: str, openid_url: str) -> None:
        # Set before Rasa's __init__, which fetches the signing keys.
        self.login_url = login_url
        self.openid_url = openid_url
        self.option_replies = OptionReplies()
        super().__init__(app_id, app_password)

    def _update_cached_jwk_keys(self) -> None:
        """Rasa's key refresh, from `openid_url`, and not fatal when the keys cannot be fetched.

        Rasa lets the error escape, which at start-up stops the whole server
        (every other channel too). Here the failure is logged, requests are
        refused with 401 (Bot Framework retries them), and the keys are fetched
        again on the next request.
        """
        try:
            config = requests.get(self.openid_url, timeout=TIMEOUT)
            config.raise_for_status()
            keys = requests.get(config.json()["jwks_uri"], timeout=TIMEOUT)
            keys.raise_for_status()
            self.jwt_keys = {key["kid"]: key for key in keys.json()["keys"]}
        except (requests.RequestException, KeyError, TypeError, ValueError) as error:
            logger.error("Could not fetch Bot Framework's signing keys from BOTFRAMEWORK_OPENID_URL: %s", error)
            return
        self.jwt_update_time = datetime.datetime.now()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        wrapped = self.option_replies.wrap(self._replying_in_plain_text(on_new_message))
        return self.option_replies.attach(super().blueprint(wrapped))

    def _replying_in_plain_text(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Callable[[UserMessage], Awaitable[Any]]:
        async def handle(message: UserMessage) -> Any:
            message.output_channel = TeamsOutput(message.output_channel, self.login_url)
            return await on_new_message(message)

        return handle
