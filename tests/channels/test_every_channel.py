"""End to end, what all five messaging channels do alike.

Each test posts what the platform would post and checks what the bot sent to the platform's API, a recording
stub on 127.0.0.1 (tests/support/channel_stubs.py), with the real Rasa and action servers and all five channels on
(tests/channels/conftest.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.twilio import sms_text
from content_library.content import Content
from harness.servers import Stack, start_stack
from tests.support.channel_stubs import PlatformStub
from tests.support.channels import (
    REFILL_QUESTION,
    botframework_activity,
    channel_env,
    messenger_message_to,
    new_chat_id,
    new_id,
    new_mobile,
    on_call,
    post_to_messenger,
    post_to_slack,
    post_to_teams,
    post_to_telegram,
    post_to_twilio,
    sent_by_twilio_to,
    sent_to_telegram_chat,
    slack_message_in,
    teams_activity_in,
    telegram_message,
    twilio_sms,
)

pytestmark = pytest.mark.e2e


def test_each_channel_says_once_in_the_log_that_it_is_on(channels: Stack) -> None:
    log = channels.servers["rasa"].log.read_text(errors="replace")
    for title in ("Telegram", "Twilio", "Facebook Messenger", "Slack", "Microsoft Bot Framework (Teams)"):
        assert log.count(f"The {title} channel is on.") == 1, title


@pytest.fixture(scope="module")
def without_actions(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory, platforms: PlatformStub
) -> Iterator[Stack]:
    """A server of its own with all five channels on, whose action server is then stopped."""
    running = start_stack(tmp_path_factory.mktemp("no-actions"), model_path, extra_env=channel_env(platforms.url))
    running.stop_action_server()
    yield running
    running.stop()


def test_with_the_action_server_down_every_channel_sends_the_apology_with_the_numbers(
    without_actions: Stack, platforms: PlatformStub, botframework_key: rsa.RSAPrivateKey, content: Content
) -> None:
    """Rasa alone would send nothing at all."""
    channels = without_actions
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
