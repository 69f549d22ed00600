"""End to end on Slack: signed Events API posts, replies sent with chat.postMessage.

Each test posts what the platform would post and checks what the bot sent to the platform's API, a recording
stub on 127.0.0.1 (tests/support/channel_stubs.py), with the real Rasa and action servers and all five channels on
(tests/channels/conftest.py).
"""

from __future__ import annotations

import json

import pytest
import requests

from content_library.content import Content
from harness.servers import Stack
from tests.support.channel_stubs import PlatformStub
from tests.support.channels import (
    REFILL_QUESTION,
    RUN_OUT,
    assert_no_metadata,
    full_answer,
    new_id,
    offered,
    on_call,
    post,
    post_to_slack,
    slack_direct_message,
    slack_message_in,
    slack_signed,
)

pytestmark = pytest.mark.e2e


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
