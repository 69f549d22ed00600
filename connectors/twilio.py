"""Twilio SMS and WhatsApp, at /webhooks/twilio/webhook, switched on by TWILIO_* environment variables.

SMS has no buttons, so each reply's options are listed under it, numbered, and
a reply of "1", "2", ... picks that option (connectors/option_replies.py).
Every webhook request must carry Twilio's signature: without that check anyone
who found the URL could make the hospital's number text any phone. A message
with no words (a picture) gets the fallback reply (connectors/unreadable.py).
"""

from __future__ import annotations

import logging
from typing import Dict
from urllib.parse import parse_qs

from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from connectors.env import ChannelEnv, ConfiguredFromEnv
from connectors.guard import guarded
from connectors.option_replies import OptionReplies
from connectors.plain_text import OnNewMessage, PlainReply, PlainTextOutput
from connectors.unreadable import unreadable_message

logger = logging.getLogger(__name__)

WHATSAPP = "whatsapp:"

TWILIO_ENV = ChannelEnv(
    "Twilio",
    # TWILIO_NUMBER sends the SMS replies (or, as whatsapp:+..., the WhatsApp ones).
    # TWILIO_WEBHOOK_URL is the public URL Twilio posts to: its requests are signed over it.
    required=("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "TWILIO_WEBHOOK_URL"),
    optional={"TWILIO_WHATSAPP_NUMBER": "", "TWILIO_API_URL": "https://api.twilio.com"},
)

# Typographic characters in our content (the quotes around a source's section)
# that are outside the GSM-7 alphabet. One of them makes a whole SMS UCS-2,
# which fits 70 characters per segment instead of 160: more than twice the cost.
GSM_FRIENDLY = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."})


def sms_text(text: str) -> str:
    return text.translate(GSM_FRIENDLY)


def as_whatsapp(number: str) -> str:
    return number if not number or number.startswith(WHATSAPP) else WHATSAPP + number


NOT_SIGNED = "The request is not signed by Twilio for TWILIO_WEBHOOK_URL."


class TwilioPlainOutput(PlainTextOutput, TwilioOutput):
    """Each reply as one SMS or WhatsApp message, its options as a numbered list."""

    def __init__(
        self, account_sid: str, auth_token: str, twilio_number: str, whatsapp_number: str, api_url: str
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self.whatsapp_number = as_whatsapp(whatsapp_number)
        # Every request this output makes (Messages.create) goes through the Api domain.
        self.api.base_url = api_url

    def sender_for(self, recipient_id: str) -> str:
        if recipient_id.startswith(WHATSAPP):
            return self.whatsapp_number or self.twilio_number
        return self.twilio_number

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        body = reply.with_numbered_options()
        if not recipient_id.startswith(WHATSAPP):
            body = sms_text(body)
        await self._send_message({"to": recipient_id, "from_": self.sender_for(recipient_id), "body": body})


def signed_fields(request: Request) -> RequestParameters:
    """The form as Twilio signed it: every field, the empty ones too (FromCity, ToZip, ...).

    Sanic's `request.form` drops empty fields, and the signature would not match.
    """
    return RequestParameters(parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))


class TwilioChannel(ConfiguredFromEnv, TwilioInput):
    """Rasa's Twilio input, configured from the environment, with numbered replies.

    Unlike Rasa's default, an error while handling one message is logged
    instead of answered with a 500 (Twilio would show the parent nothing
    either way, and its retries could send a reply twice).
    """

    settings = TWILIO_ENV

    @classmethod
    def from_settings(cls, env: Dict[str, str]) -> TwilioChannel:
        return cls(
            env["TWILIO_ACCOUNT_SID"],
            env["TWILIO_AUTH_TOKEN"],
            env["TWILIO_NUMBER"],
            whatsapp_number=env["TWILIO_WHATSAPP_NUMBER"],
            api_url=env["TWILIO_API_URL"],
            webhook_url=env["TWILIO_WEBHOOK_URL"],
        )

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        whatsapp_number: str,
        api_url: str,
        webhook_url: str,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.whatsapp_number = whatsapp_number
        self.api_url = api_url
        self.webhook_url = webhook_url
        self.option_replies = OptionReplies()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = guarded(on_new_message, self.name())
        blueprint = self.option_replies.attach(super().blueprint(self.option_replies.wrap(on_new_message, self.name())))
        validator = RequestValidator(self.auth_token)

        @blueprint.middleware("request")
        async def screen_request(request: Request) -> HTTPResponse | None:
            """Refuse what Twilio didn't sign; answer a message without words here, as Rasa's handler fails on it."""
            if request.method != "POST":
                return None
            fields = signed_fields(request)
            signature = request.headers.get("X-Twilio-Signature", "")
            if not validator.validate(self.webhook_url, fields, signature):
                return response.json({"error": NOT_SIGNED}, status=403)
            sender, text = fields.get("From"), (fields.get("Body") or "").strip()
            if text or not sender:
                return None
            # A picture or voice message with no words, which Rasa's handler fails on.
            try:
                await on_new_message(unreadable_message(self.get_output_channel(), sender, self.name()))
            except Exception as error:  # as Rasa's handler does: a 500 would make Twilio send it again
                logger.error("Could not handle a Twilio message without words: %s", type(error).__name__)
            return response.text("success")

        return blueprint

    def get_output_channel(self) -> TwilioPlainOutput:
        return TwilioPlainOutput(
            self.account_sid, self.auth_token, self.twilio_number, self.whatsapp_number, self.api_url
        )
