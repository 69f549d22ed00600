"""The messaging channels without servers: rendering, picking an option, on/off from the environment."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import sys
from typing import Any, Dict, List, Tuple

import aiohttp
import pytest
from fbmessenger.quick_replies import QuickReplies, QuickReply
from rasa.core.channels.channel import InputChannel, register
from rasa.core.run import create_http_input_channels
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from sanic import Sanic

from actions.messages import answer_message, reply_message
from connectors.env import ChannelEnv, NotConfiguredChannel, channel_from_env
from connectors.facebook import (
    FACEBOOK_ENV,
    MAX_QUICK_REPLIES,
    FacebookChannel,
    FacebookPlainOutput,
    signature_is_valid,
)
from connectors.option_replies import chosen_payload, last_offered
from connectors.plain_text import Option, PlainReply, plain_reply
from connectors.slack import SLACK_ENV, SlackChannel, slack_blocks
from connectors.teams import TEAMS_ENV, TeamsChannel, suggested_actions
from connectors.telegram import TELEGRAM_ENV, TelegramChannel, webhook_secret
from connectors.twilio import TWILIO_ENV, TwilioChannel, sms_text
from content_library.content import Content
from harness.servers import free_port
from paths import CREDENTIALS, ROOT

ON_CALL = "(03) 9345 5522"
TWILIO_MAX_BODY = 1600  # characters; the strictest limit of the five apps (Messenger: 2000, Telegram: 4096)
MAX_TELEGRAM_CALLBACK_DATA = 64  # bytes: a longer payload makes Telegram refuse the whole message
MAX_SLACK_BUTTON_TEXT = 75

SOURCE_LINE = "Source: Derbyshire Healthcare NHS (Mar 2019), “How does it work?”"
BUTTONS = [
    {"title": "How does the pump work?", "payload": "/pump_how_it_works"},
    {"title": "What about stopping baclofen?", "payload": "/withdrawal"},
    {"title": "How do I contact the team?", "payload": "/contact_team"},
]
ANSWER = {
    "text": "The pump needs refilling every 4 to 12 weeks.",
    "buttons": BUTTONS,
    "custom": {
        "kind": "answer",
        "answer_id": "pump_refill",
        "source": [{"publisher": "Derbyshire Healthcare NHS Foundation Trust", "section": "How does it work?"}],
        "source_line": SOURCE_LINE,
    },
}
URGENT = {
    "text": f"If you're worried about your child right now, call The Royal Children's Hospital on {ON_CALL}.",
    "custom": {"kind": "urgent", "call": [{"number": ON_CALL, "tel": "+61393455522", "label": "RCH"}]},
    "utter_action": "utter_urgent",
}
# The webhook itself, and the health check a platform or an administrator may try first.
WEBHOOK_CALLS = [("POST", "webhook"), ("GET", "webhook"), ("GET", "")]
CHANNELS: List[Tuple[type[InputChannel], ChannelEnv, str]] = [
    (TelegramChannel, TELEGRAM_ENV, "telegram"),
    (TwilioChannel, TWILIO_ENV, "twilio"),
    (FacebookChannel, FACEBOOK_ENV, "facebook"),
    (SlackChannel, SLACK_ENV, "slack"),
    (TeamsChannel, TEAMS_ENV, "botframework"),
]


# --- rendering ---------------------------------------------------------------------------------------


def test_an_answer_is_its_text_then_a_blank_line_then_its_source_line() -> None:
    reply = plain_reply(ANSWER)
    assert reply.text == f"The pump needs refilling every 4 to 12 weeks.\n\n{SOURCE_LINE}"
    assert reply.buttons == BUTTONS


def test_no_metadata_is_ever_rendered_as_json() -> None:
    for message in (ANSWER, URGENT):
        text = plain_reply(message).with_numbered_options()
        assert "{" not in text and "kind" not in text and "answer_id" not in text and "tel" not in text


def test_an_urgent_reply_keeps_its_number_in_its_own_words_and_adds_nothing() -> None:
    reply = plain_reply(URGENT)
    assert reply == PlainReply(URGENT["text"])
    assert ON_CALL in reply.with_numbered_options()


def test_without_buttons_the_options_become_a_numbered_list_under_the_text() -> None:
    assert plain_reply(ANSWER).with_numbered_options() == (
        f"{plain_reply(ANSWER).text}\n\nReply with a number:\n"
        "1. How does the pump work?\n2. What about stopping baclofen?\n3. How do I contact the team?"
    )


def test_a_reply_without_options_has_no_list_heading() -> None:
    assert "Reply with a number" not in plain_reply({"text": "You're welcome."}).with_numbered_options()


def test_incomplete_buttons_are_left_out() -> None:
    message = {"text": "Pick one", "buttons": [*BUTTONS[:1], {"title": "No payload"}, {"payload": "/x"}]}
    assert plain_reply(message).buttons == BUTTONS[:1]


def test_sms_uses_straight_quotes_so_the_message_stays_in_the_cheaper_gsm_alphabet() -> None:
    assert sms_text("Source: RCH, “Pump refills” – it’s…") == 'Source: RCH, "Pump refills" - it\'s...'


def test_every_reply_in_the_content_fits_one_sms_body_with_its_numbered_options(content: Content) -> None:
    messages = [answer_message(content, answer) for answer in content.answers.values()]
    messages += [reply_message(content, reply) for reply in content.replies.values()]
    for message in messages:
        body = plain_reply({**message, "custom": message["json_message"]}).with_numbered_options()
        assert len(sms_text(body)) <= TWILIO_MAX_BODY, message["json_message"]


def test_every_option_in_the_content_fits_each_apps_button_limits(content: Content) -> None:
    messages = [answer_message(content, answer) for answer in content.answers.values()]
    messages += [reply_message(content, reply) for reply in content.replies.values()]
    for message in messages:
        options = plain_reply(message).options
        assert len(options) <= MAX_QUICK_REPLIES, message["json_message"]
        for option in options:
            assert len(option.payload.encode("utf-8")) <= MAX_TELEGRAM_CALLBACK_DATA, option
            assert len(option.title) <= MAX_SLACK_BUTTON_TEXT, option


def test_max_quick_replies_is_the_most_fbmessenger_sends() -> None:
    """Above it fbmessenger raises ValueError, which Rasa only logs: the parent would get no reply."""
    quick_reply = QuickReply(title="How does the pump work?", payload="/pump_how_it_works")
    assert QuickReplies([quick_reply] * MAX_QUICK_REPLIES)
    with pytest.raises(ValueError):
        QuickReplies([quick_reply] * (MAX_QUICK_REPLIES + 1))


class RecordingMessengerClient:
    """Stands in for fbmessenger's client: keeps what would be posted to the Send API."""

    def __init__(self) -> None:
        self.sent: List[Dict[str, Any]] = []

    def send(self, payload: Dict[str, Any], recipient_id: str, messaging_type: str) -> None:
        self.sent.append(payload)


def test_messenger_sends_at_most_max_quick_replies_and_keeps_the_text() -> None:
    client = RecordingMessengerClient()
    options = tuple(Option(f"Topic {n}", f"/topic_{n}") for n in range(MAX_QUICK_REPLIES + 3))
    asyncio.run(FacebookPlainOutput(client).send_reply("psid-1", PlainReply("Pick one", options)))
    [sent] = client.sent
    assert sent["text"] == "Pick one"
    assert [q["payload"] for q in sent["quick_replies"]] == [o.payload for o in options[:MAX_QUICK_REPLIES]]


def test_slack_blocks_are_plain_text_with_one_button_per_option() -> None:
    blocks = slack_blocks(plain_reply(ANSWER))
    assert blocks[0] == {"type": "section", "text": {"type": "plain_text", "text": plain_reply(ANSWER).text}}
    assert blocks[1]["type"] == "actions"
    assert [(b["text"]["text"], b["value"]) for b in blocks[1]["elements"]] == [
        (b["title"], b["payload"]) for b in BUTTONS
    ]


def test_slack_blocks_without_options_are_one_section() -> None:
    assert [block["type"] for block in slack_blocks(plain_reply(URGENT))] == ["section"]


def test_teams_suggested_actions_post_each_option_title() -> None:
    assert suggested_actions(plain_reply(ANSWER)) == {
        "actions": [{"type": "imBack", "title": b["title"], "value": b["title"]} for b in BUTTONS]
    }


# --- choosing an option by number or title --------------------------------------------------------------


@pytest.mark.parametrize("text", ["2", " 2 ", "2.", "(2)", "#2", "2!"])
def test_a_number_picks_that_option(text: str) -> None:
    assert chosen_payload(text, BUTTONS) == "/withdrawal"


@pytest.mark.parametrize("text", ["0", "4", "12", "-", "", "2 please", "1/2", "twenty", "٢"])
def test_anything_else_is_not_an_option_number(text: str) -> None:
    assert chosen_payload(text, BUTTONS) is None


def test_an_option_title_picks_it_whatever_its_case_and_end_punctuation() -> None:
    assert chosen_payload("how does the pump work", BUTTONS) == "/pump_how_it_works"


def test_with_nothing_offered_a_number_is_just_text() -> None:
    assert chosen_payload("1", []) is None


def bot(text: str, buttons: List[Dict[str, str]] | None = None) -> BotUttered:
    return BotUttered(text, {"buttons": buttons} if buttons else {})


def test_the_options_are_those_of_the_bots_latest_turn() -> None:
    events: List[Event] = [
        UserUttered("hi"),
        bot("Hello", BUTTONS[:1]),
        UserUttered("we ran out of baclofen"),
        bot("Call the hospital"),
        bot("About stopping baclofen", BUTTONS),
        ActionExecuted("action_listen"),
    ]
    assert last_offered(events) == BUTTONS


def test_after_a_reply_without_options_older_options_no_longer_count() -> None:
    events: List[Event] = [bot("Answer", BUTTONS), UserUttered("thanks"), bot("You're welcome")]
    assert last_offered(events) == []


# --- on or off, from the environment --------------------------------------------------------------------


def never_built(settings: Dict[str, str]) -> InputChannel:
    raise AssertionError("a channel without its variables must not be built")


@pytest.mark.parametrize("channel_class, env, prefix", CHANNELS, ids=[c[2] for c in CHANNELS])
def test_a_channel_without_its_variables_is_off_and_says_what_to_set(
    channel_class: type[InputChannel], env: ChannelEnv, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="connectors.env"):
        channel = channel_from_env(channel_class, env, build=never_built, environ={})
    assert isinstance(channel, NotConfiguredChannel)
    assert channel.url_prefix() == prefix == channel_class.name()
    assert channel.get_output_channel() is None
    assert channel.error == f"{env.title} is not configured: set {', '.join(env.required)}"
    [line] = [r for r in caplog.records if r.name == "connectors.env"]
    assert line.levelno == logging.INFO and "is off" in line.getMessage()


def test_only_the_missing_variables_are_named_and_empty_ones_count_as_missing() -> None:
    environ = {
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": " ",
        "TWILIO_NUMBER": "+61400000000",
        "TWILIO_WEBHOOK_URL": "https://itb.example.org/webhooks/twilio/webhook",
    }
    channel = channel_from_env(TwilioChannel, TWILIO_ENV, build=never_built, environ=environ)
    assert channel.error == "Twilio is not configured: set TWILIO_AUTH_TOKEN"


def test_with_its_variables_a_channel_is_built_with_the_defaults_for_the_rest() -> None:
    environ = {"SLACK_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    built = channel_from_env(SlackChannel, SLACK_ENV, build=lambda settings: settings, environ=environ)
    assert built == {**environ, "SLACK_CHANNEL": "", "SLACK_API_URL": "https://slack.com/api/"}


def test_the_channels_page_names_every_variable_of_every_channel() -> None:
    """credentials.yml points to docs/channels.md for the variables, so that page must not drift from ChannelEnv."""
    page = (ROOT / "docs" / "channels.md").read_text(encoding="utf-8")
    section = page.split("\n## Messaging apps\n", 1)[1].split("\n## ", 1)[0]
    for _, env, _ in CHANNELS:
        for name in (*env.required, *env.optional):
            assert f"`{name}`" in section, name


async def answers_of(channels: List[InputChannel], requests: List[Tuple[str, str]]) -> List[Tuple[int, Any]]:
    """Serve the channels as `rasa run` does (registered under /webhooks/) and make each request.

    One app for all: Sanic 21.12 cannot start a second app in the same process.
    """
    app = Sanic("not-configured-channels")
    register(channels, app, "/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        async with aiohttp.ClientSession() as session:
            answers = []
            for method, path in requests:
                async with session.request(method, f"http://127.0.0.1:{port}{path}", json={}) as answer:
                    answers.append((answer.status, await answer.json()))
            return answers
    finally:
        server.close()
        await server.wait_closed()


def test_an_off_channels_webhook_answers_503_with_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for _, env, _ in CHANNELS:
        for name in env.required:
            monkeypatch.delenv(name, raising=False)
    channels = [channel_class.from_credentials(None) for channel_class, _, _ in CHANNELS]
    requests = [(method, f"/webhooks/{prefix}/{path}") for *_, prefix in CHANNELS for method, path in WEBHOOK_CALLS]
    expected = [
        (503, {"error": f"{env.title} is not configured: set {', '.join(env.required)}"})
        for _, env, _ in CHANNELS
        for _ in WEBHOOK_CALLS
    ]
    assert asyncio.run(answers_of(channels, requests)) == expected


# --- signatures and secrets ---------------------------------------------------------------------------


def test_telegram_secret_token_is_stable_per_bot_and_fits_telegrams_rule() -> None:
    token = "123456789:AAFakeTokenForTheITBChannelTests00000"
    secret = webhook_secret(token)
    assert secret == webhook_secret(token)  # the same after a restart and in every worker
    assert secret != webhook_secret("987654321:AAAnotherBotsToken000000000000000000")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)
    assert token not in secret and token.split(":")[1] not in secret


def sign(algorithm: str, secret: bytes, body: bytes) -> str:
    return f"{algorithm}=" + hmac.new(secret, body, getattr(hashlib, algorithm)).hexdigest()


def test_facebook_accepts_a_sha256_or_sha1_signature_made_with_the_app_secret() -> None:
    body = b'{"object": "page"}'
    assert signature_is_valid("secret", body, {"X-Hub-Signature-256": sign("sha256", b"secret", body)})
    assert signature_is_valid("secret", body, {"X-Hub-Signature": sign("sha1", b"secret", body)})


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hub-Signature-256": sign("sha256", b"other secret", b'{"object": "page"}')},
        {"X-Hub-Signature-256": sign("sha256", b"secret", b'{"object": "user"}')},
        {"X-Hub-Signature": sign("md5", b"secret", b'{"object": "page"}')},
        {"X-Hub-Signature-256": "sha256="},
        {},
    ],
    ids=["other secret", "other body", "md5", "empty", "none"],
)
def test_facebook_refuses_any_other_signature(headers: Dict[str, str]) -> None:
    assert not signature_is_valid("secret", b'{"object": "page"}', headers)


def test_a_malformed_telegram_token_turns_the_channel_off_instead_of_stopping_the_server() -> None:
    settings = {
        "TELEGRAM_ACCESS_TOKEN": "pasted-wrong",
        "TELEGRAM_VERIFY": "itb_bot",
        "TELEGRAM_WEBHOOK_URL": "https://itb.example.org/webhooks/telegram/webhook",
        "TELEGRAM_API_URL": "https://api.telegram.org",
    }
    channel = TelegramChannel.from_settings(settings)
    assert isinstance(channel, NotConfiguredChannel)
    assert "TELEGRAM_ACCESS_TOKEN" in channel.error


def test_every_channel_in_credentials_yml_puts_the_guard_next_to_rasa(monkeypatch: pytest.MonkeyPatch) -> None:
    """The apology, the length cap and the deadline hold only where a channel applies `guarded`.

    Each channel is built from credentials.yml as `rasa run` builds it, and must
    hand Rasa's own handler to `guarded`, so a channel added without it fails here.
    """
    fake = {
        name: "https://itb.example.org/webhook" if name.endswith("_URL") else "fake"
        for _, env, _ in CHANNELS
        for name in env.required
    }
    for name, value in {**fake, "TELEGRAM_ACCESS_TOKEN": "123456789:AAFakeTokenForTheITBChannelTests00000"}.items():
        monkeypatch.setenv(name, value)
    guarded_handlers: List[Any] = []

    def recording_guard(on_new_message: Any, channel: str) -> Any:
        guarded_handlers.append((on_new_message, channel))
        return on_new_message

    channels = create_http_input_channels(None, str(CREDENTIALS))
    assert len(channels) == 7
    for channel in channels:
        monkeypatch.setattr(sys.modules[type(channel).__module__], "guarded", recording_guard)

        async def rasa_handler(message: Any) -> None: ...

        guarded_handlers.clear()
        channel.blueprint(rasa_handler)
        # Its conversations are its own: the guard keeps them under the channel's name, not a name a client sends.
        assert guarded_handlers == [(rasa_handler, channel.name())], type(channel).__name__
