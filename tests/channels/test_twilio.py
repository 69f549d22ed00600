"""End to end on SMS and WhatsApp through Twilio: signed form posts, replies sent to Twilio's Messages API.

Each test posts what the platform would post and checks what the bot sent to the platform's API, a recording
stub on 127.0.0.1 (tests/support/channel_stubs.py), with the real Rasa and action servers and all five channels on
(tests/channels/conftest.py).
"""

from __future__ import annotations

import pytest
import requests
from twilio.request_validator import RequestValidator

from connectors.twilio import sms_text
from content_library.content import Content
from harness.servers import Stack
from tests.support.channel_stubs import PlatformStub
from tests.support.channels import (
    REFILL_QUESTION,
    RUN_OUT,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_WEBHOOK_URL,
    TWILIO_WHATSAPP_NUMBER,
    assert_no_metadata,
    full_answer,
    new_mobile,
    numbered,
    on_call,
    post_to_twilio,
    related_titles,
    sent_by_twilio_to,
    twilio_sms,
    twilio_whatsapp,
)

pytestmark = pytest.mark.e2e


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


def test_a_rest_client_naming_a_parents_phone_number_starts_a_conversation_of_its_own(
    channels: Stack, platforms: PlatformStub, content: Content
) -> None:
    """Conversations belong to their channel (conversations/ids.py): REST can't add turns to an SMS thread."""
    mobile = new_mobile()
    post_to_twilio(channels, twilio_sms(mobile, REFILL_QUESTION))
    platforms.wait_for(sent_by_twilio_to(mobile))
    fallback = content.replies["fallback"]
    # Over REST, "1" with the parent's number as sender is a new conversation with no list to choose from.
    assert [reply.get("text") for reply in channels.send("1", sender=mobile)] == [fallback.text]
    # The SMS conversation never saw that turn: the parent's "1" still picks the refill answer's first option.
    post_to_twilio(channels, twilio_sms(mobile, "1"))
    _, sent = platforms.wait_for(sent_by_twilio_to(mobile), count=2)
    chosen = content.answers[content.answers["pump_refill"].related[0]]
    assert sent.fields["Body"].startswith(sms_text(full_answer(chosen)))
