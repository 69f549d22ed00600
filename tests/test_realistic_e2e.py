"""Over REST, the replies to messages written the way parents really write them.

A bare cry for help, a story of a warning sign that is over, one that is happening again, two questions
in one message, a long story with the question at the end, and a decision about timing: each gets the
reply a parent should, from the real Rasa and action servers. How often the pipeline gets such messages
right is measured on the realistic sets (tests/test_understanding.py, `make bench`).
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest

from content_library.content import Content
from harness.servers import Stack

pytestmark = pytest.mark.e2e


def ask(stack: Stack, text: str) -> List[Dict[str, Any]]:
    return stack.send(text, f"parent-{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize("cry", ["help", "HELP!!", "help me please", "please help"])
def test_a_bare_cry_for_help_gets_the_number_first_then_what_the_assistant_can_do(
    stack: Stack, content: Content, cry: str
) -> None:
    urgent, then = ask(stack, cry)
    assert urgent["custom"]["kind"] == "urgent" and content.contacts["hospital_phone"] in urgent["text"]
    assert then["custom"]["answer_id"] == "capabilities"


def test_a_warning_sign_that_is_over_gets_the_answer_then_one_line_about_now(stack: Stack, content: Content) -> None:
    story = (
        "Back in March my daughter had a high temperature and we rang the team, it turned out to be a cold "
        "and she's been fine since. In general, what are the side effects of intrathecal baclofen?"
    )
    answer, line = ask(stack, story)
    assert answer["custom"]["kind"] == "answer" and answer["custom"]["answer_id"] == "side_effects"
    assert line["custom"]["kind"] == "safety" and line["text"] == content.replies["if_happening_now"].text


def test_a_warning_sign_that_is_back_gets_the_number_first(stack: Stack, content: Content) -> None:
    replies = ask(stack, "He had a high temperature last month and it settled, but tonight it is back at 38.9")
    assert replies[0]["custom"]["kind"] == "urgent" and content.contacts["hospital_phone"] in replies[0]["text"]


def test_a_life_threatening_sign_over_long_ago_is_answered_but_not_one_happening_now(stack: Stack) -> None:
    over = ask(stack, "Two years ago she had a seizure after a fall and she hasn't had one since. Is ITB safe for her?")
    assert over[0]["custom"]["kind"] not in ("urgent", "emergency")
    now = ask(stack, "Two years ago she had a seizure and she was fine, but she is having one now")
    assert now[0]["custom"]["kind"] == "emergency" and now[0]["text"].startswith("Call 000")


def test_two_questions_get_the_clearer_answer_and_the_other_as_a_button(stack: Stack) -> None:
    [reply] = ask(stack, "How often does the pump need refilling? And what happens if the baclofen stops suddenly?")
    answered = reply["custom"]["answer_id"]
    assert answered in ("pump_refill", "withdrawal")
    other = {"pump_refill": "withdrawal", "withdrawal": "pump_refill"}[answered]
    assert reply["custom"].get("also_asked") == other
    assert reply["buttons"][0]["payload"] == f"/{other}"


def test_a_long_story_is_answered_by_its_last_question(stack: Stack) -> None:
    story = (
        "We had our first appointment with the rehab team on Tuesday. The physio talked a lot about his hamstrings "
        "and the neurologist mentioned side effects of the tablets he's on. Everyone was lovely but it was a lot. "
        "What I actually wanted to ask was how big the pump is?"
    )
    [reply] = ask(stack, story)
    assert reply["custom"]["answer_id"] == "pump_location"


@pytest.mark.parametrize(
    "decision",
    [
        "We're going away for three weeks, can we push her refill back until we get home?",
        "can i give his baclofen at lunchtime instead of the morning from now on",
    ],
)
def test_a_decision_about_timing_gets_the_advice_reply_not_a_fact(stack: Stack, decision: str) -> None:
    replies = ask(stack, decision)
    assert replies[0]["custom"]["kind"] == "advice", replies[0]["text"]
