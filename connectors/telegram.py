"""Telegram, at /webhooks/telegram/webhook, switched on by TELEGRAM_* environment variables."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, Sanic

from connectors.env import ChannelEnv, channel_from_env
from connectors.plain_text import PlainReply, PlainTextOutput

logger = logging.getLogger(__name__)

TELEGRAM_ENV = ChannelEnv(
    "Telegram",
    # TELEGRAM_VERIFY is the bot's username: Rasa drops updates when getMe answers another name.
    required=("TELEGRAM_ACCESS_TOKEN", "TELEGRAM_VERIFY", "TELEGRAM_WEBHOOK_URL"),
    # A self-hosted Bot API server, a proxy, or a test stub.
    optional={"TELEGRAM_API_URL": "https://api.telegram.org"},
)


class TelegramPlainOutput(PlainTextOutput, TelegramOutput):
    """Each reply as one Telegram message, its options as an inline keyboard, one button per row.

    Rasa's default puts every button on one row, which on a phone truncates our
    question-length titles to a few letters.
    """

    def __init__(self, access_token: str, api_url: str) -> None:
        # TelegramOutput.__init__ only passes the token on to aiogram's Bot, without its server.
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url))

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        if reply.options:
            await self.send_text_with_buttons(recipient_id, reply.text, reply.buttons, button_type="vertical")
        else:
            await self.send_message(recipient_id, reply.text)


class TelegramChannel(TelegramInput):
    """Rasa's Telegram input, configured from the environment, replying in plain text.

    Differences from Rasa's own: the webhook is registered with Telegram once the
    server is up (Rasa does it whenever an output channel is built, with
    `asyncio.run`, which fails inside the running server), a failure to register
    is logged instead of stopping every other channel, and an error while
    handling one update is logged rather than answered with a 500 that Telegram
    would retry.
    """

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return channel_from_env(cls, TELEGRAM_ENV, cls._from_env, credentials)

    @classmethod
    def _from_env(cls, env: Dict[str, str]) -> TelegramChannel:
        return cls(
            env["TELEGRAM_ACCESS_TOKEN"],
            env["TELEGRAM_VERIFY"],
            env["TELEGRAM_WEBHOOK_URL"],
            api_url=env["TELEGRAM_API_URL"],
        )

    def __init__(self, access_token: str, verify: str, webhook_url: str, api_url: str) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.api_url = api_url
        self._output: TelegramPlainOutput | None = None

    def get_output_channel(self) -> TelegramPlainOutput:
        # One bot (and so one HTTP session) for the whole server; its session is
        # opened lazily, inside the server's event loop.
        if self._output is None:
            self._output = TelegramPlainOutput(self.access_token, self.api_url)
        return self._output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        # The decorator form: Sanic 21.12's Blueprint.listener(method, event) silently ignores bound methods.
        blueprint.listener("after_server_start")(self._set_webhook)
        blueprint.listener("before_server_stop")(self._close)
        return blueprint

    async def _set_webhook(self, _app: Sanic, _loop: Any) -> None:
        try:
            await self.get_output_channel().set_webhook(url=self.webhook_url)
            logger.info("Telegram will send updates to TELEGRAM_WEBHOOK_URL.")
        except TelegramAPIError as error:
            logger.error("Telegram refused the webhook; check TELEGRAM_ACCESS_TOKEN, TELEGRAM_WEBHOOK_URL: %s", error)

    async def _close(self, _app: Sanic, _loop: Any) -> None:
        await self.get_output_channel().session.close()
