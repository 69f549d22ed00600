"""End to end: each messaging channel's real webhook, on the real Rasa and action servers.

Each test posts what the platform would post (a Telegram Update, a Twilio SMS or
WhatsApp form, a signed Messenger page event, a signed Slack event, a Bot
Framework activity with a signed token) and checks what the bot sent back to
the platform's API, which is a recording stub on 127.0.0.1 (tests/channel_stubs.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from twilio.request_validator import RequestValidator

from actions.content import Answer, Content
from actions.messages import FEEDBACK
from connectors.telegram import SECRET_HEADER, webhook_secret
from connectors.twilio import sms_text
from tests.channel_stubs import BOTFRAMEWORK_ISSUER, TELEGRAM_BOT_USERNAME, Matcher, PlatformStub
from tests.servers import Stack, start_stack

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


@pytest.fixture(scope="module")
def platforms() -> Iterator[PlatformStub]:
    with PlatformStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def botframework_key(platforms: PlatformStub) -> rsa.RSAPrivateKey:
    """The key "Bot Framework" signs its requests with; the stub publishes its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platforms.jwks.append({**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": BOTFRAMEWORK_KEY_ID})
    return key


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


@pytest.fixture(scope="module")
def channels(
    model_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    platforms: PlatformStub,
    botframework_key: rsa.RSAPrivateKey,
) -> Iterator[Stack]:
    """One Rasa server with all five channels on, for every test here (start-up takes about a minute)."""
    running = start_stack(tmp_path_factory.mktemp("channels"), model_path, extra_env=channel_env(platforms.url))
    yield running
    running.stop()


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


def test_telegram_webhook_is_registered_with_telegram_at_start_with_a_secret_token(
    channels: Stack, platforms: PlatformStub
) -> None:
    registered = telegram_registration(platforms)
    assert registered["url"] == TELEGRAM_WEBHOOK_URL
    assert registered["secret_token"] == webhook_secret(TELEGRAM_TOKEN)


def test_telegram_answer_is_one_message_with_its_source_and_a_keyboard_of_related_topics(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    chat_id = new_chat_id()
    post_to_telegram(channels, platforms, telegram_message(chat_id, REFILL_QUESTION))
    [sent] = platforms.wait_for(sent_to_telegram_chat(chat_id))
    answer = content.answers["pump_refill"]
    assert sent.fields["text"] == full_answer(answer)
    keyboard = json.loads(sent.fields["reply_markup"])["inline_keyboard"]
    assert keyboard == [
        [{"text": content.button_title(topic), "callback_data": f"/{topic}"}] for topic in offered(answer)
    ]
    assert len(platforms.matching(sent_to_telegram_chat(chat_id))) == 1  # the webhook returns after sending


def test_telegram_button_tap_gets_that_topics_answer(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    chat_id = new_chat_id()
    post_to_telegram(channels, platforms, telegram_button_tap(chat_id, "/withdrawal"))
    [sent] = platforms.wait_for(sent_to_telegram_chat(chat_id))
    assert sent.fields["text"] == full_answer(content.answers["withdrawal"])


def test_telegram_urgent_message_gets_the_on_call_number_first_as_plain_text(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    chat_id = new_chat_id()
    post_to_telegram(channels, platforms, telegram_message(chat_id, RUN_OUT))
    urgent, followup = platforms.wait_for(sent_to_telegram_chat(chat_id), count=2)
    assert on_call(content) in urgent.fields["text"] and "reply_markup" not in urgent.fields
    assert_no_metadata(urgent.fields["text"])
    assert followup.fields["text"] == full_answer(content.answers["withdrawal"])
    assert len(platforms.matching(sent_to_telegram_chat(chat_id))) == 2


def test_telegram_photo_without_words_gets_the_fallback_reply(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    chat_id = new_chat_id()
    post_to_telegram(channels, platforms, telegram_photo(chat_id))
    [sent] = platforms.wait_for(sent_to_telegram_chat(chat_id))
    assert sent.fields["text"] == content.replies["fallback"].text


def test_telegram_photo_with_a_caption_is_read_as_the_parents_words(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    chat_id = new_chat_id()
    post_to_telegram(channels, platforms, telegram_photo(chat_id, caption=RUN_OUT))
    urgent, _ = platforms.wait_for(sent_to_telegram_chat(chat_id), count=2)
    assert urgent.fields["text"].startswith(content.replies["urgent"].text)


def test_telegram_update_without_a_message_gets_a_200_and_no_reply(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    chat_id = new_chat_id()
    blocked = {
        "update_id": chat_id % 100000,
        "my_chat_member": {
            "chat": {"id": chat_id, "first_name": "Sam", "type": "private"},
            "from": telegram_user(chat_id),
            "date": int(time.time()),
            "old_chat_member": {"user": telegram_user(1234567), "status": "member"},
            "new_chat_member": {"user": telegram_user(1234567), "status": "kicked", "until_date": 0},
        },
    }
    assert post_to_telegram(channels, platforms, blocked).text == "success"
    # The first message this chat is sent answers its next question: the update above was not answered.
    post_to_telegram(channels, platforms, telegram_message(chat_id, REFILL_QUESTION))
    [first] = platforms.wait_for(sent_to_telegram_chat(chat_id))
    assert first.fields["text"] == full_answer(content.answers["pump_refill"])


def test_telegram_update_without_the_secret_token_is_refused_and_never_answered(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    chat_id = new_chat_id()
    forged = telegram_message(chat_id, RUN_OUT)
    for headers in ({}, {SECRET_HEADER: webhook_secret("another bot's token")}):
        refused = requests.post(f"{channels.url}/webhooks/telegram/webhook", json=forged, headers=headers, timeout=60)
        assert refused.status_code == 403
        assert SECRET_HEADER in refused.json()["error"]
    # The first message this chat is sent answers the genuine question, not the forged urgent one.
    post_to_telegram(channels, platforms, telegram_message(chat_id, REFILL_QUESTION))
    [first] = platforms.wait_for(sent_to_telegram_chat(chat_id))
    assert first.fields["text"] == full_answer(content.answers["pump_refill"])


def test_telegram_health_check_needs_no_secret_token_but_re_registering_the_webhook_does(
    channels: Stack, platforms: PlatformStub
) -> None:
    health = requests.get(f"{channels.url}/webhooks/telegram/", timeout=30)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    re_register = requests.post(f"{channels.url}/webhooks/telegram/set_webhook", timeout=30)
    assert re_register.status_code == 403


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


def test_sms_answer_is_one_message_with_its_source_and_a_numbered_list(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    mobile = new_mobile()
    post_to_twilio(channels, twilio_sms(mobile, REFILL_QUESTION))
    [sent] = platforms.wait_for(sent_by_twilio_to(mobile))
    answer = content.answers["pump_refill"]
    assert sent.fields["From"] == TWILIO_NUMBER
    assert sent.fields["Body"] == sms_text(full_answer(answer)) + "\n\n" + numbered(related_titles(content, answer))
    assert sent.headers["authorization"].startswith("Basic ")
    assert len(platforms.matching(sent_by_twilio_to(mobile))) == 1


@pytest.mark.parametrize("reply, option", [("1", 0), (" 3. ", 2)])
def test_sms_reply_with_a_number_gets_that_options_answer(
    channels: Stack, platforms: PlatformStub, content: Content, reply: str, option: int
) -> None:
    mobile = new_mobile()
    post_to_twilio(channels, twilio_sms(mobile, REFILL_QUESTION))
    post_to_twilio(channels, twilio_sms(mobile, reply))
    _, sent = platforms.wait_for(sent_by_twilio_to(mobile), count=2)
    chosen = content.answers[content.answers["pump_refill"].related[option]]
    assert sent.fields["Body"].startswith(sms_text(full_answer(chosen)) + "\n\nReply with a number:\n1. ")


def test_sms_number_after_a_reply_without_a_list_is_not_taken_from_an_older_list(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    mobile = new_mobile()
    for text in (REFILL_QUESTION, "thank you", "2"):
        post_to_twilio(channels, twilio_sms(mobile, text))
    _, welcome, sent = platforms.wait_for(sent_by_twilio_to(mobile), count=3)
    assert "Reply with a number" not in welcome.fields["Body"]
    # "2" reaches NLU as text without words: the fallback reply, not the refill answer's option 2.
    fallback = content.replies["fallback"]
    titles = [content.button_title(topic) for topic in fallback.buttons]
    assert sent.fields["Body"] == sms_text(fallback.text) + "\n\n" + numbered(titles)


def test_sms_urgent_message_gets_the_on_call_number_first_as_plain_text(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    mobile = new_mobile()
    post_to_twilio(channels, twilio_sms(mobile, RUN_OUT))
    urgent, followup = platforms.wait_for(sent_by_twilio_to(mobile), count=2)
    assert on_call(content) in urgent.fields["Body"] and "Reply with a number" not in urgent.fields["Body"]
    assert_no_metadata(urgent.fields["Body"])
    assert followup.fields["Body"].startswith(sms_text(full_answer(content.answers["withdrawal"])))
    assert len(platforms.matching(sent_by_twilio_to(mobile))) == 2


def test_sms_not_signed_by_twilio_is_refused_and_never_answered(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    mobile = new_mobile()
    forged = twilio_sms(mobile, RUN_OUT)
    wrong_signature = RequestValidator("not-the-auth-token").compute_signature(TWILIO_WEBHOOK_URL, forged)
    for headers in ({}, {"X-Twilio-Signature": wrong_signature}):
        refused = requests.post(f"{channels.url}/webhooks/twilio/webhook", data=forged, headers=headers, timeout=60)
        assert refused.status_code == 403
        assert "TWILIO_WEBHOOK_URL" in refused.json()["error"]
    # The first message this phone is sent answers the signed question, not the forged urgent one.
    post_to_twilio(channels, twilio_sms(mobile, REFILL_QUESTION))
    [first] = platforms.wait_for(sent_by_twilio_to(mobile))
    assert first.fields["Body"].startswith(sms_text(content.answers["pump_refill"].text))


def test_mms_picture_without_words_gets_the_fallback_reply(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    mobile = new_mobile()
    picture = {
        **twilio_sms(mobile, ""),
        "NumMedia": "1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM1/Media/ME1",
    }
    post_to_twilio(channels, picture)
    [sent] = platforms.wait_for(sent_by_twilio_to(mobile))
    assert sent.fields["Body"].startswith(sms_text(content.replies["fallback"].text))


def test_whatsapp_answer_comes_from_the_whatsapp_number_with_the_numbered_list(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    mobile = new_mobile()
    post_to_twilio(channels, twilio_whatsapp(mobile, REFILL_QUESTION))
    [sent] = platforms.wait_for(sent_by_twilio_to(f"whatsapp:{mobile}"))
    answer = content.answers["pump_refill"]
    assert sent.fields["From"] == TWILIO_WHATSAPP_NUMBER
    # WhatsApp has no SMS alphabet to fit, so the source keeps its typographic quotes.
    assert sent.fields["Body"] == full_answer(answer) + "\n\n" + numbered(related_titles(content, answer))


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


def test_messenger_answer_is_one_message_with_its_source_and_quick_replies(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    psid = new_id()
    post_to_messenger(channels, psid, {"mid": f"m_{psid}", "text": REFILL_QUESTION})
    [sent] = platforms.wait_for(messenger_message_to(psid))
    answer = content.answers["pump_refill"]
    assert sent.query["access_token"] == "fake-page-access-token"
    assert sent.fields["messaging_type"] == "RESPONSE"
    assert sent.fields["message"]["text"] == full_answer(answer)
    assert sent.fields["message"]["quick_replies"] == [
        {"content_type": "text", "title": content.button_title(topic), "payload": f"/{topic}"}
        for topic in offered(answer)
    ]
    assert len(platforms.matching(messenger_message_to(psid))) == 1


def test_messenger_quick_reply_gets_that_topics_answer(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    psid = new_id()
    tapped = {"mid": f"m_{psid}", "text": "What about stopping baclofen?", "quick_reply": {"payload": "/withdrawal"}}
    post_to_messenger(channels, psid, tapped)
    [sent] = platforms.wait_for(messenger_message_to(psid))
    assert sent.fields["message"]["text"] == full_answer(content.answers["withdrawal"])


def test_messenger_urgent_message_gets_the_on_call_number_first_as_plain_text(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    psid = new_id()
    post_to_messenger(channels, psid, {"mid": f"m_{psid}", "text": RUN_OUT})
    urgent, followup = platforms.wait_for(messenger_message_to(psid), count=2)
    assert on_call(content) in urgent.fields["message"]["text"] and "quick_replies" not in urgent.fields["message"]
    assert_no_metadata(urgent.fields["message"]["text"])
    assert followup.fields["message"]["text"] == full_answer(content.answers["withdrawal"])
    assert len(platforms.matching(messenger_message_to(psid))) == 2


def test_messenger_event_signed_with_another_secret_is_refused_and_not_answered(
    channels: Stack, platforms: PlatformStub
) -> None:
    psid = new_id()
    body = messenger_event(psid, {"mid": f"m_{psid}", "text": REFILL_QUESTION})
    response = requests.post(
        f"{channels.url}/webhooks/facebook/webhook", data=body, headers=meta_signed(body, "not-the-secret"), timeout=60
    )
    assert response.status_code == 403
    assert platforms.matching(lambda r: r.path.endswith("/me/messages") and r.fields["recipient"]["id"] == psid) == []


def test_messenger_webhook_verification_echoes_the_challenge(channels: Stack) -> None:
    response = requests.get(
        f"{channels.url}/webhooks/facebook/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "fake-verify-token", "hub.challenge": "1158201444"},
        timeout=30,
    )
    assert (response.status_code, response.text) == (200, "1158201444")


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


def test_slack_answer_is_one_message_with_plain_text_and_buttons(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    user, channel = f"U{new_id()}", f"D{new_id()}"
    post_to_slack(channels, user, channel, REFILL_QUESTION)
    # Rasa answers Slack at once and handles the message in the background.
    [sent] = platforms.wait_for(slack_message_in(channel))
    answer = content.answers["pump_refill"]
    assert sent.headers["authorization"] == "Bearer xoxb-fake-slack-token"
    section, actions = sent.fields["blocks"]
    assert section["text"] == {"type": "plain_text", "text": full_answer(answer)}
    assert [(b["text"]["text"], b["value"]) for b in actions["elements"]] == [
        (content.button_title(topic), f"/{topic}") for topic in offered(answer)
    ]


def test_slack_picture_without_words_gets_the_fallback_reply(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    user, channel = f"U{new_id()}", f"D{new_id()}"
    callback = json.loads(slack_direct_message(user, channel, ""))
    callback["event"].update(subtype="file_share", files=[{"id": "F0001", "name": "pump-site.jpg"}])
    body = json.dumps(callback).encode()
    post(channels, "slack", data=body, headers=slack_signed(body))
    [sent] = platforms.wait_for(slack_message_in(channel))
    assert sent.fields["text"] == content.replies["fallback"].text


def test_slack_urgent_message_gets_the_on_call_number_first_as_plain_text(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    user, channel = f"U{new_id()}", f"D{new_id()}"
    post_to_slack(channels, user, channel, RUN_OUT)
    urgent, followup = platforms.wait_for(slack_message_in(channel), count=2)
    assert on_call(content) in urgent.fields["text"]
    [section] = urgent.fields["blocks"]  # no buttons
    assert section["text"] == {"type": "plain_text", "text": urgent.fields["text"]}
    assert_no_metadata(urgent.fields["text"])
    assert followup.fields["text"] == full_answer(content.answers["withdrawal"])
    assert len(platforms.matching(slack_message_in(channel))) == 2


def test_slack_event_signed_with_another_secret_is_refused_and_never_answered(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    user, channel = f"U{new_id()}", f"D{new_id()}"
    forged = slack_direct_message(user, channel, RUN_OUT)
    for headers in ({"Content-Type": "application/json"}, slack_signed(forged, "not-the-signing-secret")):
        refused = requests.post(f"{channels.url}/webhooks/slack/webhook", data=forged, headers=headers, timeout=30)
        assert refused.status_code == 400
    # The first message in this channel answers the signed question, not the forged urgent one.
    post_to_slack(channels, user, channel, REFILL_QUESTION)
    [first] = platforms.wait_for(slack_message_in(channel))
    assert first.fields["text"] == full_answer(content.answers["pump_refill"])


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


def test_teams_answer_is_one_activity_with_plain_text_and_suggested_actions(
    channels: Stack, platforms: PlatformStub, botframework_key: rsa.RSAPrivateKey, content: Content
) -> None:
    user, conversation = f"29:{new_id()}", f"a:{new_id()}"
    post_to_teams(channels, botframework_key, botframework_activity(platforms.url, user, conversation, REFILL_QUESTION))
    [sent] = platforms.wait_for(teams_activity_in(conversation))
    answer = content.answers["pump_refill"]
    assert sent.headers["authorization"] == "Bearer stub-access-token"  # from BOTFRAMEWORK_LOGIN_URL
    assert sent.fields["recipient"] == {"id": user}
    assert (sent.fields["text"], sent.fields["textFormat"]) == (full_answer(answer), "plain")
    assert sent.fields["suggestedActions"]["actions"] == [
        {"type": "imBack", "title": title, "value": title} for title in related_titles(content, answer)
    ]


def test_teams_suggested_action_title_gets_that_topics_answer(
    channels: Stack, platforms: PlatformStub, botframework_key: rsa.RSAPrivateKey, content: Content
) -> None:
    user, conversation = f"29:{new_id()}", f"a:{new_id()}"
    answer = content.answers["pump_refill"]
    tapped = content.button_title(answer.related[1])
    for text in (REFILL_QUESTION, tapped):
        post_to_teams(channels, botframework_key, botframework_activity(platforms.url, user, conversation, text))
    _, sent = platforms.wait_for(teams_activity_in(conversation), count=2)
    assert sent.fields["text"] == full_answer(content.answers[answer.related[1]])


def test_teams_urgent_message_gets_the_on_call_number_first_as_plain_text(
    channels: Stack, platforms: PlatformStub, botframework_key: rsa.RSAPrivateKey, content: Content
) -> None:
    user, conversation = f"29:{new_id()}", f"a:{new_id()}"
    post_to_teams(channels, botframework_key, botframework_activity(platforms.url, user, conversation, RUN_OUT))
    urgent, followup = platforms.wait_for(teams_activity_in(conversation), count=2)
    assert on_call(content) in urgent.fields["text"] and "suggestedActions" not in urgent.fields
    assert_no_metadata(urgent.fields["text"])
    assert followup.fields["text"] == full_answer(content.answers["withdrawal"])
    assert len(platforms.matching(teams_activity_in(conversation))) == 2


def test_teams_token_for_another_service_url_or_from_another_issuer_is_refused_and_never_answered(
    channels: Stack, platforms: PlatformStub, botframework_key: rsa.RSAPrivateKey, content: Content
) -> None:
    user, conversation = f"29:{new_id()}", f"a:{new_id()}"
    # Replies go to the activity's serviceUrl (the stub), so an answer to a forged one would be recorded.
    forged = botframework_activity(platforms.url, user, conversation, RUN_OUT)
    tokens = [
        (botframework_token(botframework_key, "https://smba.trafficmanager.net/amer/"), 403),
        (botframework_token(botframework_key, forged["serviceUrl"], issuer="https://sts.windows.net/other/"), 401),
    ]
    for token, status in tokens:
        refused = requests.post(
            f"{channels.url}/webhooks/botframework/webhook",
            json=forged,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert refused.status_code == status, refused.text
    # The first activity in this conversation answers the genuine question, not the forged urgent one.
    genuine = botframework_activity(platforms.url, user, conversation, REFILL_QUESTION)
    post_to_teams(channels, botframework_key, genuine)
    [first] = platforms.wait_for(teams_activity_in(conversation))
    assert first.fields["text"] == full_answer(content.answers["pump_refill"])


def test_teams_request_without_a_valid_token_is_refused(channels: Stack, platforms: PlatformStub) -> None:
    activity = botframework_activity(platforms.url, "29:x", f"a:{new_id()}", REFILL_QUESTION)
    response = requests.post(
        f"{channels.url}/webhooks/botframework/webhook",
        json=activity,
        headers={"Authorization": "Bearer not-a-token"},
        timeout=30,
    )
    assert response.status_code == 401


# --- every channel --------------------------------------------------------------------------------------


def test_each_channel_says_once_in_the_log_that_it_is_on(channels: Stack) -> None:
    log = channels.servers["rasa"].log.read_text(errors="replace")
    for title in ("Telegram", "Twilio", "Facebook Messenger", "Slack", "Microsoft Bot Framework (Teams)"):
        assert log.count(f"The {title} channel is on.") == 1, title


def test_with_the_action_server_down_every_channel_sends_the_apology_with_the_numbers(
    channels: Stack, platforms: PlatformStub, botframework_key: rsa.RSAPrivateKey, content: Content
) -> None:
    """Last in this module: it stops the action server. Rasa alone would send nothing at all."""
    channels.stop_action_server()
    apology = content.replies["unavailable"].text

    chat_id = new_chat_id()
    post_to_telegram(channels, platforms, telegram_message(chat_id, REFILL_QUESTION))
    [telegram] = platforms.wait_for(sent_to_telegram_chat(chat_id))
    assert telegram.fields["text"] == apology

    mobile = new_mobile()
    post_to_twilio(channels, twilio_sms(mobile, REFILL_QUESTION))
    [sms] = platforms.wait_for(sent_by_twilio_to(mobile))
    assert sms.fields["Body"] == sms_text(apology)

    psid = new_id()
    post_to_messenger(channels, psid, {"mid": f"m_{psid}", "text": REFILL_QUESTION})
    [messenger] = platforms.wait_for(messenger_message_to(psid))
    assert messenger.fields["message"]["text"] == apology

    user, channel = f"U{new_id()}", f"D{new_id()}"
    post_to_slack(channels, user, channel, REFILL_QUESTION)
    [slack] = platforms.wait_for(slack_message_in(channel))
    assert slack.fields["text"] == apology

    user, conversation = f"29:{new_id()}", f"a:{new_id()}"
    post_to_teams(channels, botframework_key, botframework_activity(platforms.url, user, conversation, REFILL_QUESTION))
    [teams] = platforms.wait_for(teams_activity_in(conversation))
    assert teams.fields["text"] == apology
    assert on_call(content) in apology and "000" in apology
