"""End to end: the real action server and Rasa server, spoken to over REST and socket.io."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from content_library.content import KINDS
from harness.servers import Stack
from tests.support.socketio_client import socketio_replies

pytestmark = pytest.mark.e2e

ON_CALL = "(03) 9345 5522"


def new_parent() -> str:
    return f"parent-{uuid.uuid4().hex[:8]}"


def test_the_greeting_introduces_an_automated_assistant_not_for_emergencies(stack: Stack) -> None:
    [reply] = stack.send("hi", new_parent())
    assert reply["custom"]["kind"] == "smalltalk"
    assert "automated assistant" in reply["text"] and "call 000" in reply["text"]


def test_a_fact_question_gets_its_answer_with_source_and_related_topics(stack: Stack) -> None:
    [reply] = stack.send("how often does the pump need refilling?", new_parent())
    assert "every 4 to 12 weeks" in reply["text"]
    assert reply["custom"]["kind"] == "answer"
    assert reply["custom"]["answer_id"] == "pump_refill"
    assert reply["custom"]["source"][0]["section"] == "How does it work?"
    assert reply["custom"]["source_line"].startswith("Source: ")
    topics = ["/refill_procedure", "/withdrawal", "/contact_team"]
    assert [b["payload"] for b in reply["buttons"]] == [*topics, "/feedback_helpful", "/feedback_unhelpful"]


@pytest.mark.parametrize(
    ("rating", "expected"),
    [("/feedback_unhelpful", "Sorry that didn't help"), ("that didnt help at all", "Sorry that didn't help"),
     ("/feedback_helpful", "Thank you for letting me know")],
)
def test_did_this_help_is_answered_whether_clicked_or_typed(stack: Stack, rating: str, expected: str) -> None:
    sender = new_parent()
    [answer] = stack.send("what are the side effects", sender)
    assert answer["custom"]["feedback"] == ["/feedback_helpful", "/feedback_unhelpful"]
    [reply] = stack.send(rating, sender)
    assert reply["custom"]["kind"] == "feedback"
    assert expected in reply["text"]


def test_a_related_topic_button_gets_that_answer(stack: Stack) -> None:
    [reply] = stack.send("/withdrawal", new_parent())
    assert reply["custom"]["answer_id"] == "withdrawal"


def test_an_urgent_message_gets_the_on_call_number_first(stack: Stack) -> None:
    replies = stack.send("his pump is beeping and wont stop", new_parent())
    first = replies[0]
    assert first["custom"]["kind"] == "urgent"
    assert ON_CALL in first["text"]
    assert "on-call developmental medicine consultant" in first["text"]
    assert first["custom"]["call"][0]["tel"] == "+61393455522"


def test_a_life_threatening_message_gets_000_first_then_the_on_call_number(stack: Stack) -> None:
    first = stack.send("he's not breathing properly and his lips are blue", new_parent())[0]
    assert first["custom"]["kind"] == "emergency"
    assert first["text"].startswith("Call 000")
    assert ON_CALL in first["text"]


def test_run_out_of_baclofen_gets_the_number_then_the_withdrawal_fact(stack: Stack) -> None:
    replies = stack.send("we've run out of her baclofen tablets", new_parent())
    assert replies[0]["custom"]["kind"] == "urgent"
    assert replies[1]["custom"]["answer_id"] == "withdrawal"


def test_a_question_that_only_mentions_a_scary_word_is_answered_not_alarmed(stack: Stack) -> None:
    [reply] = stack.send("a friend said stopping baclofen causes withdrawal, is that true?", new_parent())
    assert reply["custom"]["answer_id"] == "withdrawal"


@pytest.mark.parametrize(
    "message, kind",
    [
        ("can my son go in a hot tub with the pump", "not_covered"),
        ("how much baclofen should i give him", "advice"),
        ("who won the footy last night", "out_of_scope"),
        ("are you a real person", "smalltalk"),
    ],
)
def test_what_the_sheets_do_not_answer_is_said_honestly(stack: Stack, message: str, kind: str) -> None:
    [reply] = stack.send(message, new_parent())
    assert reply["custom"]["kind"] == kind


def test_every_reply_is_one_message_with_text_and_a_kind(stack: Stack) -> None:
    sender = new_parent()
    for message in ["hello", "what is dystonia", "pump beeping", "thanks", "what can you do", "bye"]:
        replies = stack.send(message, sender)
        assert replies, f"no reply to {message!r}"
        for reply in replies:
            assert reply["text"].strip()
            assert reply["custom"]["kind"] in KINDS


def test_socketio_sends_each_reply_as_one_event_with_its_metadata(stack: Stack) -> None:
    # The urgent reply is followed by action_urgent_followup's answer.
    replies = asyncio.run(socketio_replies(stack.url, "we ran out of baclofen", count=2))
    assert replies[0]["custom"]["kind"] == "urgent"
    assert ON_CALL in replies[0]["text"]
    assert replies[1]["custom"]["answer_id"] == "withdrawal"
    assert replies[1]["quick_replies"][0]["payload"].startswith("/")
