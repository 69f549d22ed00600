"""Facebook Messenger, at /webhooks/facebook/webhook, switched on by FACEBOOK_* environment variables."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any, Dict

from fbmessenger import MessengerClient
from fbmessenger.elements import Text as FBText
from rasa.core.channels.facebook import FacebookInput, Messenger, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.env import ChannelEnv, ConfiguredFromEnv
from connectors.guard import guarded
from connectors.plain_text import OnNewMessage, PlainReply, PlainTextOutput, replying_with
from connectors.replies import as_quick_replies

logger = logging.getLogger(__name__)

FACEBOOK_ENV = ChannelEnv(
    "Facebook Messenger",
    # FACEBOOK_VERIFY: any string, typed again in the app's webhook settings; FACEBOOK_SECRET: the app secret.
    required=("FACEBOOK_VERIFY", "FACEBOOK_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN"),
    optional={"FACEBOOK_GRAPH_URL": "https://graph.facebook.com"},
)
# Messenger itself takes 13 quick replies, but fbmessenger (which Rasa sends them through)
# raises ValueError above 11, and Rasa only logs that: the parent would get no reply at all.
MAX_QUICK_REPLIES = 11


def graph_client(page_access_token: str, graph_url: str) -> MessengerClient:
    """fbmessenger's client, sending to `graph_url` (same API version) instead of graph.facebook.com."""
    client = MessengerClient(page_access_token)
    client.graph_url = f"{graph_url.rstrip('/')}/v{client.api_version}"
    return client


def signature_is_valid(app_secret: str, body: bytes, headers: Dict[str, str]) -> bool:
    """Check Meta's X-Hub-Signature-256 (or, from older setups, X-Hub-Signature).

    Rasa's own check reads only the SHA-1 header, compares with `==`, and picks
    the hash function named by the sender.
    """
    for header, digest in (("X-Hub-Signature-256", hashlib.sha256), ("X-Hub-Signature", hashlib.sha1)):
        algorithm, _, signature = (headers.get(header) or "").partition("=")
        if signature and algorithm == digest().name:
            expected = hmac.new(app_secret.encode("utf-8"), body, digest).hexdigest()
            return hmac.compare_digest(expected, signature)
    return False


class FacebookPlainOutput(PlainTextOutput, MessengerBot):
    """Each reply as one Messenger message, its options as quick replies.

    At most MAX_QUICK_REPLIES of them: any further options are left out rather
    than losing the whole reply. Titles may be of any length; Messenger shows
    the first 20 characters.
    """

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        if reply.options:
            quick_replies = as_quick_replies(reply.buttons[:MAX_QUICK_REPLIES])
            await self.send_quick_replies(recipient_id, reply.text, quick_replies)
        else:
            self.send(recipient_id, FBText(text=reply.text))


class PlainMessenger(Messenger):
    """Rasa's webhook event handling, with our client and plain-text replies.

    Also handles every event of a delivery: Meta may batch several, and Rasa's
    `handle` returns after the first, so the other parents' messages were lost.
    """

    def __init__(self, client: MessengerClient, on_new_message: OnNewMessage) -> None:
        plain = replying_with(on_new_message, lambda original: FacebookPlainOutput(original.messenger_client))
        super().__init__(client.page_access_token, plain)
        self.client = client

    async def handle(self, payload: Dict[str, Any], metadata: Dict[str, Any] | None) -> None:
        for entry in payload.get("entry") or []:
            for event in entry.get("messaging") or []:
                self.last_message = event
                if event.get("message"):
                    await self.message(event, metadata)
                elif event.get("postback"):
                    await self.postback(event, metadata)


class FacebookChannel(ConfiguredFromEnv, FacebookInput):
    """Rasa's Facebook input, configured from the environment, replying in plain text.

    The webhook routes are Rasa's, rewritten only to use our client and
    `PlainMessenger`: Rasa builds its own client inside the route, so its base
    URL could not be set otherwise. A request with a bad signature gets a 403
    rather than Rasa's 200 "not validated".
    """

    settings = FACEBOOK_ENV

    @classmethod
    def from_settings(cls, env: Dict[str, str]) -> FacebookChannel:
        return cls(
            env["FACEBOOK_VERIFY"],
            env["FACEBOOK_SECRET"],
            env["FACEBOOK_PAGE_ACCESS_TOKEN"],
            graph_url=env["FACEBOOK_GRAPH_URL"],
        )

    def __init__(self, fb_verify: str, fb_secret: str, fb_access_token: str, graph_url: str) -> None:
        super().__init__(fb_verify, fb_secret, fb_access_token)
        self.graph_url = graph_url

    def messenger_client(self) -> MessengerClient:
        return graph_client(self.fb_access_token, self.graph_url)

    def get_output_channel(self) -> FacebookPlainOutput:
        return FacebookPlainOutput(self.messenger_client())

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = guarded(on_new_message, self.name())
        blueprint = Blueprint("facebook_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def verify(request: Request) -> HTTPResponse:
            if request.args.get("hub.verify_token") == self.fb_verify:
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Facebook webhook verification with a wrong token: check FACEBOOK_VERIFY.")
            return response.json({"error": "wrong verify token"}, status=403)

        async def webhook(request: Request) -> HTTPResponse:
            if not signature_is_valid(self.fb_secret, request.body, request.headers):
                logger.warning("Facebook webhook with a bad signature: check FACEBOOK_SECRET.")
                return response.json({"error": "invalid signature"}, status=403)
            messenger = PlainMessenger(self.messenger_client(), on_new_message)
            await messenger.handle(request.json, self.get_metadata(request))
            return response.text("success")

        blueprint.add_route(health, "/", methods=["GET"])
        blueprint.add_route(verify, "/webhook", methods=["GET"])
        blueprint.add_route(webhook, "/webhook", methods=["POST"])
        return blueprint
