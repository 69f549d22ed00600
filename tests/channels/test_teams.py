"""End to end on Microsoft Teams (Bot Framework): activities with a signed token, replies sent to the serviceUrl.

Each test posts what the platform would post and checks what the bot sent to the platform's API, a recording
stub on 127.0.0.1 (tests/support/channel_stubs.py), with the real Rasa and action servers and all five channels on
(tests/channels/conftest.py).
"""

from __future__ import annotations

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from content_library.content import Content
from harness.servers import Stack
from tests.support.channel_stubs import PlatformStub
from tests.support.channels import (
    REFILL_QUESTION,
    RUN_OUT,
    assert_no_metadata,
    botframework_activity,
    botframework_token,
    full_answer,
    new_id,
    on_call,
    post_to_teams,
    related_titles,
    teams_activity_in,
)

pytestmark = pytest.mark.e2e


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
