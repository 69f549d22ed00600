"""Telegram, at /webhooks/telegram/webhook, switched on by TELEGRAM_* environment variables.

Anyone who knows the webhook URL could post an update with a parent's chat id
and have the bot message that parent. So the webhook is registered with a
secret token, which Telegram sends back in a header with every update, and
every request without it is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any, Dict, Tuple

from aiogram import Bot
from aiogram.bot.api import Methods, TelegramAPIServer, check_token
from aiogram.utils.exceptions import TelegramAPIError, ValidationError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.env import ChannelEnv, ConfiguredFromEnv, NotConfiguredChannel
from connectors.guard import guarded
from connectors.plain_text import OnNewMessage, PlainReply, PlainTextOutput
from connectors.unreadable import UNREADABLE

logger = logging.getLogger(__name__)

TELEGRAM_ENV = ChannelEnv(
    "Telegram",
    # TELEGRAM_VERIFY is the bot's username: Rasa drops updates when getMe answers another name.
    required=("TELEGRAM_ACCESS_TOKEN", "TELEGRAM_VERIFY", "TELEGRAM_WEBHOOK_URL"),
    # A self-hosted Bot API server, a proxy, or a test stub.
    optional={"TELEGRAM_API_URL": "https://api.telegram.org"},
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_LABEL = b"itb-assistant: Telegram webhook secret token"
NOT_FROM_TELEGRAM = f"Not from Telegram: no {SECRET_HEADER} header with the secret token this server registered."


def webhook_secret(access_token: str) -> str:
    """The secret token Telegram sends with every update: an HMAC of a fixed label, keyed by the bot's token.

    Derived rather than random, so that every worker and every restart expect
    the same one with no variable to set; an HMAC rather than the token itself,
    so that the header (in a proxy's logs, say) does not give the token away.
    64 hex characters fit Telegram's rule: 1-256 of A-Z, a-z, 0-9, _ and -.
    """
    return hmac.new(access_token.encode("utf-8"), SECRET_LABEL, hashlib.sha256).hexdigest()


class TelegramPlainOutput(PlainTextOutput, TelegramOutput):
    """Each reply as one Telegram message, its options as an inline keyboard, one button per row.

    Rasa's default puts every button on one row, which on a phone truncates our
    question-length titles to a few letters.
    """

    def __init__(self, access_token: str, api_url: str) -> None:
        # TelegramOutput.__init__ only passes the token on to aiogram's Bot, without its server.
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url))
        self.secret_token = webhook_secret(access_token)

    async def set_webhook(self, url: str, **_: Any) -> bool:
        """Register `url` with our secret token, through aiogram's low-level request.

        aiogram 2's own set_webhook has no parameter for the token. Rasa's
        /set_webhook route calls this method too, so no path registers the
        webhook without the token (Telegram's updates would then lack it, and
        all be refused).
        """
        return await self.request(Methods.SET_WEBHOOK, {"url": url, "secret_token": self.secret_token})

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        if reply.options:
            await self.send_text_with_buttons(recipient_id, reply.text, reply.buttons, button_type="vertical")
        else:
            await self.send_message(recipient_id, reply.text)


# The updates Rasa's route reads. Others (a parent blocking the bot: `my_chat_member`) have nothing to answer.
ANSWERED_UPDATES = ("message", "edited_message", "callback_query")


def words_rasa_drops(update: Any) -> Tuple[str, str] | None:
    """(chat id, text to send) for a message Rasa's route would drop: a photo, voice note or sticker.

    Its caption is what the parent said, and may be urgent, so it goes to the
    assistant like a typed message; without one, the fallback intent does.
    """
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict) or "text" in message or "location" in message:
        return None
    chat_id = (message.get("chat") or {}).get("id")
    if chat_id is None:
        return None
    caption = message.get("caption")
    return str(chat_id), caption.strip() if isinstance(caption, str) and caption.strip() else UNREADABLE


class TelegramChannel(ConfiguredFromEnv, TelegramInput):
    """Rasa's Telegram input, configured from the environment, replying in plain text.

    Differences from Rasa's own: the webhook is registered with Telegram once the
    server is up (Rasa does it whenever an output channel is built, with
    `asyncio.run`, which fails inside the running server), a failure to register
    is logged instead of stopping every other channel, and an error while
    handling one update is logged rather than answered with a 500 that Telegram
    would retry. Every request but the health check must carry the webhook's
    secret token. A photo, voice note or sticker is answered (its caption as
    the parent's words, or else the fallback reply: connectors/unreadable.py)
    instead of dropped, and updates with no message get a 200 instead of a 500.
    """

    settings = TELEGRAM_ENV

    @classmethod
    def from_settings(cls, env: Dict[str, str]) -> InputChannel:
        try:
            check_token(env["TELEGRAM_ACCESS_TOKEN"])
        except ValidationError:
            # aiogram would raise this while Rasa builds the routes, stopping every channel.
            error = "TELEGRAM_ACCESS_TOKEN is not a bot token (<digits>:<letters>) from @BotFather"
            logger.error("The Telegram channel is off: %s.", error)
            return NotConfiguredChannel(cls.name(), error)
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

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = guarded(on_new_message, self.name())
        blueprint = super().blueprint(on_new_message)
        secret = self.get_output_channel().secret_token.encode("utf-8")

        @blueprint.middleware("request")
        async def screen_update(request: Request) -> HTTPResponse | None:
            """Refuse what lacks the secret token; answer here what Rasa's route drops or fails on."""
            if request.route is not None and request.route.name.endswith(".health"):
                return None
            sent = request.headers.get(SECRET_HEADER, "").encode("utf-8")
            if not hmac.compare_digest(sent, secret):
                return response.json({"error": NOT_FROM_TELEGRAM}, status=403)
            if request.method != "POST" or request.route is None or not request.route.name.endswith(".message"):
                return None
            update = request.json
            if isinstance(update, dict) and not any(update.get(kind) for kind in ANSWERED_UPDATES):
                return response.text("success")  # Rasa's route would fail on it, and Telegram would retry
            dropped = words_rasa_drops(update)
            if dropped is None:
                return None
            chat_id, text = dropped
            try:
                await on_new_message(UserMessage(text, self.get_output_channel(), chat_id, input_channel=self.name()))
            except Exception as error:  # as Rasa's route does: a 500 would make Telegram send it again
                logger.error("Could not handle a Telegram message without text: %s", type(error).__name__)
            return response.text("success")

        # The decorator form: Sanic 21.12's Blueprint.listener(method, event) silently ignores bound methods.
        blueprint.listener("after_server_start")(self._set_webhook)
        blueprint.listener("before_server_stop")(self._close)
        return blueprint

    async def _set_webhook(self, _app: Sanic, _loop: Any) -> None:
        try:
            await self.get_output_channel().set_webhook(self.webhook_url)
            logger.info("Telegram will send updates to TELEGRAM_WEBHOOK_URL, with the secret token.")
        except TelegramAPIError as error:
            logger.error("Telegram refused the webhook; check TELEGRAM_ACCESS_TOKEN, TELEGRAM_WEBHOOK_URL: %s", error)

    async def _close(self, _app: Sanic, _loop: Any) -> None:
        await self.get_output_channel().session.close()
