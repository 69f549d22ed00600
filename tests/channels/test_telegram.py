"""End to end on Telegram: updates posted to the webhook with its secret token, replies sent to the Bot API.

Each test posts what the platform would post and checks what the bot sent to the platform's API, a recording
stub on 127.0.0.1 (tests/support/channel_stubs.py), with the real Rasa and action servers and all five channels on
(tests/channels/conftest.py).
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from connectors.telegram import SECRET_HEADER, webhook_secret
from content_library.content import Content
from harness.servers import Stack
from tests.support.channel_stubs import PlatformStub
from tests.support.channels import (
    REFILL_QUESTION,
    RUN_OUT,
    TELEGRAM_TOKEN,
    TELEGRAM_WEBHOOK_URL,
    assert_no_metadata,
    full_answer,
    new_chat_id,
    offered,
    on_call,
    post_to_telegram,
    sent_to_telegram_chat,
    telegram_button_tap,
    telegram_message,
    telegram_photo,
    telegram_registration,
    telegram_user,
)

pytestmark = pytest.mark.e2e


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
