"""What each messaging platform posts to the bot, and how to recognise what the bot sent back.

Shared by the channel tests (tests/channels/) and the conversation-store tests, which send SMS
through a restarted server. The platforms' APIs are a recording stub on 127.0.0.1
(tests/support/channel_stubs.py); the secrets here are fakes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Dict, List

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from twilio.request_validator import RequestValidator

from actions.messages import FEEDBACK
from connectors.telegram import SECRET_HEADER
from content_library.content import Answer, Content
from harness.servers import Stack
from tests.support.channel_stubs import BOTFRAMEWORK_ISSUER, TELEGRAM_BOT_USERNAME, Matcher, PlatformStub

REFILL_QUESTION = "how often does the pump need refilling?"


RUN_OUT = "we've run out of her baclofen tablets"  # urgent, then the withdrawal answer


TELEGRAM_TOKEN = "123456789:AAFakeTokenForTheITBChannelTests00000"


TELEGRAM_WEBHOOK_URL = "https://itb.example.org/webhooks/telegram/webhook"


TWILIO_SID = "AC" + "0" * 32


TWILIO_NUMBER = "+61480000000"


TWILIO_WHATSAPP_NUMBER = "whatsapp:+14155238886"


TWILIO_AUTH_TOKEN = "fake-twilio-auth-token"


TWILIO_WEBHOOK_URL = "https://itb.example.org/webhooks/twilio/webhook"


FACEBOOK_SECRET = "fake-facebook-app-secret"


FACEBOOK_PAGE = "1122334455"


SLACK_SIGNING_SECRET = "fake-slack-signing-secret"


BOTFRAMEWORK_APP_ID = "00000000-0000-0000-0000-0000000000aa"


BOTFRAMEWORK_KEY_ID = "stub-signing-key"


def channel_env(stub_url: str) -> Dict[str, str]:
    """Fake secrets for all five channels, and every platform API pointed at the stub."""
    return {
        "TELEGRAM_ACCESS_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_VERIFY": TELEGRAM_BOT_USERNAME,
        "TELEGRAM_WEBHOOK_URL": TELEGRAM_WEBHOOK_URL,
        "TELEGRAM_API_URL": f"{stub_url}/telegram",
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
        "TWILIO_NUMBER": TWILIO_NUMBER,
        "TWILIO_WHATSAPP_NUMBER": TWILIO_WHATSAPP_NUMBER,
        "TWILIO_API_URL": f"{stub_url}/twilio",
        "FACEBOOK_VERIFY": "fake-verify-token",
        "FACEBOOK_SECRET": FACEBOOK_SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": "fake-page-access-token",
        "FACEBOOK_GRAPH_URL": f"{stub_url}/facebook",
        "SLACK_TOKEN": "xoxb-fake-slack-token",
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_API_URL": f"{stub_url}/slack/",
        "BOTFRAMEWORK_APP_ID": BOTFRAMEWORK_APP_ID,
        "BOTFRAMEWORK_APP_PASSWORD": "fake-botframework-password",
        "BOTFRAMEWORK_LOGIN_URL": f"{stub_url}/botframework/token",
        "BOTFRAMEWORK_OPENID_URL": f"{stub_url}/botframework/openid",
        # A developer's proxy settings must not send the stub's traffic elsewhere.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def new_id() -> str:
    return uuid.uuid4().hex[:10]


def full_answer(answer: Answer) -> str:
    """What a parent should read: the vetted text, a blank line, the source line."""
    return f"{answer.text}\n\n{answer.source_line}"


def assert_no_metadata(text: str) -> None:
    assert '"kind"' not in text and "answer_id" not in text and "{" not in text, text


def on_call(content: Content) -> str:
    """The hospital's on-call number, as the urgent replies give it."""
    return content.contacts["hospital_phone"]


def offered(answer: Answer) -> List[str]:
    """The topics an answer offers as options: its related topics, then "did this help?"."""
    return [*answer.related, *FEEDBACK]


def related_titles(content: Content, answer: Answer) -> List[str]:
    return [content.button_title(topic) for topic in offered(answer)]


def post(stack: Stack, channel: str, **kwargs: Any) -> requests.Response:
    response = requests.post(f"{stack.url}/webhooks/{channel}/webhook", timeout=120, **kwargs)
    assert response.status_code < 300, response.text
    return response



# --- Telegram ------------------------------------------------------------------------------------------

def telegram_user(chat_id: int) -> Dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"}


def telegram_message(chat_id: int, text: str) -> Dict[str, Any]:
    return {
        "update_id": chat_id % 100000,
        "message": {
            "message_id": 17,
            "from": telegram_user(chat_id),
            "chat": {"id": chat_id, "first_name": "Sam", "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }


def telegram_photo(chat_id: int, caption: str | None = None) -> Dict[str, Any]:
    """A photo message: no `text`, and the parent's words, if any, in `caption`."""
    update = telegram_message(chat_id, "")
    del update["message"]["text"]
    update["message"]["photo"] = [{"file_id": "AgAD-photo", "file_unique_id": "AQAD", "width": 90, "height": 67}]
    if caption is not None:
        update["message"]["caption"] = caption
    return update


def telegram_button_tap(chat_id: int, payload: str) -> Dict[str, Any]:
    return {
        "update_id": chat_id % 100000 + 1,
        "callback_query": {
            "id": str(chat_id * 10),
            "from": telegram_user(chat_id),
            "chat_instance": "-5218230112345678",
            "data": payload,
            "message": {
                "message_id": 18,
                "from": {"id": 1234567, "is_bot": True, "first_name": "ITB", "username": TELEGRAM_BOT_USERNAME},
                "chat": {"id": chat_id, "first_name": "Sam", "type": "private"},
                "date": int(time.time()),
                "text": "The pump needs refilling ...",
            },
        },
    }


def new_chat_id() -> int:
    return int(uuid.uuid4().int % 10**9) + 10**9


def sent_to_telegram_chat(chat_id: int) -> Matcher:
    return lambda r: r.path.endswith("/sendMessage") and r.fields.get("chat_id") == str(chat_id)


def telegram_registration(platforms: PlatformStub) -> Dict[str, Any]:
    """What the server sent to Telegram's setWebhook at start-up."""
    [registered] = platforms.wait_for(lambda r: r.path == f"/telegram/bot{TELEGRAM_TOKEN}/setWebhook")
    return registered.fields


def post_to_telegram(stack: Stack, platforms: PlatformStub, update: Dict[str, Any]) -> requests.Response:
    """Post as Telegram does: with the secret token the webhook was registered with, in its header."""
    secret = telegram_registration(platforms)["secret_token"]
    return post(stack, "telegram", json=update, headers={SECRET_HEADER: secret})



# --- Twilio: SMS and WhatsApp ----------------------------------------------------------------------------

def twilio_sms(sender: str, text: str) -> Dict[str, str]:
    """The form Twilio posts for an incoming SMS."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "ToCountry": "AU",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "AU",
        "To": TWILIO_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def twilio_whatsapp(sender: str, text: str) -> Dict[str, str]:
    """The form Twilio posts for an incoming WhatsApp message."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Sam",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": sender.removeprefix("+"),
        "SmsStatus": "received",
        "Body": text,
        "To": TWILIO_WHATSAPP_NUMBER,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": f"whatsapp:{sender}",
        "ApiVersion": "2010-04-01",
    }


def new_mobile() -> str:
    return f"+614{uuid.uuid4().int % 10**8:08d}"


def post_to_twilio(stack: Stack, form: Dict[str, str], auth_token: str = TWILIO_AUTH_TOKEN) -> requests.Response:
    """Post as Twilio does: signed with the account's auth token over the public webhook URL."""
    signature = RequestValidator(auth_token).compute_signature(TWILIO_WEBHOOK_URL, form)
    return post(stack, "twilio", data=form, headers={"X-Twilio-Signature": signature})


def sent_by_twilio_to(recipient: str) -> Matcher:
    messages = f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    return lambda r: r.path == messages and r.fields.get("To") == recipient


def numbered(titles: List[str]) -> str:
    return "Reply with a number:\n" + "\n".join(f"{n}. {title}" for n, title in enumerate(titles, start=1))



# --- Facebook Messenger ----------------------------------------------------------------------------------

def messenger_event(psid: str, message: Dict[str, Any]) -> bytes:
    now = int(time.time() * 1000)
    event = {"sender": {"id": psid}, "recipient": {"id": FACEBOOK_PAGE}, "timestamp": now, "message": message}
    return json.dumps({"object": "page", "entry": [{"id": FACEBOOK_PAGE, "time": now, "messaging": [event]}]}).encode()


def meta_signed(body: bytes, secret: str = FACEBOOK_SECRET) -> Dict[str, str]:
    """The headers Meta sends: the body's HMAC with the app secret, in SHA-256 and in SHA-1."""
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
    }


def post_to_messenger(stack: Stack, psid: str, message: Dict[str, Any]) -> requests.Response:
    body = messenger_event(psid, message)
    return post(stack, "facebook", data=body, headers=meta_signed(body))


def messenger_message_to(psid: str) -> Matcher:
    """A message to the parent (not a typing indicator or a "seen")."""
    return lambda r: r.path.endswith("/me/messages") and r.fields["recipient"]["id"] == psid and "message" in r.fields



# --- Slack -----------------------------------------------------------------------------------------------

def slack_signed(body: bytes, secret: str = SLACK_SIGNING_SECRET) -> Dict[str, str]:
    timestamp = str(int(time.time()))
    base = f"v0:{timestamp}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def post_to_slack(stack: Stack, user: str, channel: str, text: str) -> requests.Response:
    body = slack_direct_message(user, channel, text)
    return post(stack, "slack", data=body, headers=slack_signed(body))


def slack_message_in(channel: str) -> Matcher:
    return lambda r: r.path == "/slack/chat.postMessage" and r.fields["channel"] == channel


def slack_direct_message(user: str, channel: str, text: str) -> bytes:
    now = time.time()
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": f"{now:.6f}",
        "event_ts": f"{now:.6f}",
        "channel_type": "im",
    }
    return json.dumps(
        {
            "token": "verification-token-unused",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{new_id()}",
            "event_time": int(now),
            "authorizations": [{"team_id": "T0001", "user_id": "U0BOT", "is_bot": True}],
        }
    ).encode()



# --- Microsoft Teams (Bot Framework) ---------------------------------------------------------------------

def botframework_activity(stub_url: str, user: str, conversation: str, text: str) -> Dict[str, Any]:
    return {
        "type": "message",
        "id": f"1{new_id()}",
        "timestamp": "2026-11-21T07:30:00.000Z",
        "serviceUrl": f"{stub_url}/teams/",
        "channelId": "msteams",
        "from": {"id": user, "name": "Sam", "aadObjectId": str(uuid.uuid4())},
        "conversation": {"conversationType": "personal", "tenantId": str(uuid.uuid4()), "id": conversation},
        "recipient": {"id": f"28:{BOTFRAMEWORK_APP_ID}", "name": "ITB parents' assistant"},
        "textFormat": "plain",
        "locale": "en-AU",
        "text": text,
        "channelData": {"tenant": {"id": str(uuid.uuid4())}},
    }


def botframework_token(key: rsa.RSAPrivateKey, service_url: str, issuer: str = BOTFRAMEWORK_ISSUER) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": BOTFRAMEWORK_APP_ID,
        "serviceurl": service_url,
        "nbf": now - 60,
        "exp": now + 3600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": BOTFRAMEWORK_KEY_ID})


def post_to_teams(stack: Stack, key: rsa.RSAPrivateKey, activity: Dict[str, Any]) -> None:
    token = botframework_token(key, activity["serviceUrl"])
    post(stack, "botframework", json=activity, headers={"Authorization": f"Bearer {token}"})


def teams_activity_in(conversation: str) -> Matcher:
    return lambda r: r.path == f"/teams/v3/conversations/{conversation}/activities"
