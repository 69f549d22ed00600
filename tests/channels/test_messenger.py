"""End to end on Facebook Messenger: signed page events, replies sent to the Graph API.

Each test posts what the platform would post and checks what the bot sent to the platform's API, a recording
stub on 127.0.0.1 (tests/support/channel_stubs.py), with the real Rasa and action servers and all five channels on
(tests/channels/conftest.py).
"""

from __future__ import annotations

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
    messenger_event,
    messenger_message_to,
    meta_signed,
    new_id,
    offered,
    on_call,
    post_to_messenger,
)

pytestmark = pytest.mark.e2e


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
