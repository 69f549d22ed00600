"""Many parents at once: nobody's message is dropped, and nobody gets someone else's answer.

Eight conversations of four questions run at the same time against the real servers, over REST.
At every step the eight ask eight different questions with eight different answers, so a reply
crossed between conversations, or lost, shows up as a wrong or missing `answer_id`. Then each
conversation's tracker, read through Rasa's HTTP API, must hold every message it sent, in order.
`make bench-load` is the same thing at scale, with numbers (bench/).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from harness.rest_client import Turn, fetch_user_texts, run_conversations
from harness.servers import Stack, http_api_args, start_stack

pytestmark = pytest.mark.e2e

# answer_id -> a question the model sends there.
QUESTIONS = {
    "pump_refill": "how often does the pump need refilling?",
    "dystonia_what": "what is dystonia",
    "pump_location": "where in the body does the pump go",
    "spasticity_what": "what does spasticity mean",
    "pump_how_it_works": "how does the pump work",
    "withdrawal": "a friend said stopping baclofen causes withdrawal, is that true?",
    "baclofen_forms": "what forms does baclofen come in",
    "pronunciation": "how do i pronounce baclofen",
}
CONVERSATIONS = 8
MESSAGES_EACH = 4


def plan() -> Dict[str, List[str]]:
    """Conversation i asks the questions from the i-th on: at each step all eight ask different ones."""
    answer_ids = list(QUESTIONS)
    run = uuid.uuid4().hex[:8]
    return {
        f"concurrent-{run}-{i}": [QUESTIONS[answer_ids[(i + step) % len(answer_ids)]] for step in range(MESSAGES_EACH)]
        for i in range(CONVERSATIONS)
    }


@pytest.fixture(scope="module")
def api_stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Stack, str]]:
    """Both servers, with Rasa's HTTP API on behind a token so the test can read trackers."""
    token = "-" + secrets.token_urlsafe(24)  # a leading "-" must still be read as the token
    running = start_stack(
        tmp_path_factory.mktemp("concurrency"), model_path, rasa_args=http_api_args(token)
    )
    yield running, token
    running.stop()


@pytest.fixture(scope="module")
def conversations() -> Dict[str, List[str]]:
    return plan()


@pytest.fixture(scope="module")
def turns(api_stack: Tuple[Stack, str], conversations: Dict[str, List[str]]) -> Dict[str, List[Turn]]:
    stack, _ = api_stack
    return asyncio.run(run_conversations(stack.url, conversations))


def test_every_message_at_once_gets_a_reply(turns: Dict[str, List[Turn]]) -> None:
    sent = [turn for conversation in turns.values() for turn in conversation]
    assert len(sent) == CONVERSATIONS * MESSAGES_EACH
    assert [turn.error for turn in sent if turn.error] == []
    assert [turn.message for turn in sent if not turn.replies] == []


def test_each_parent_gets_the_answer_to_their_own_question(turns: Dict[str, List[Turn]]) -> None:
    answer_for = {question: answer_id for answer_id, question in QUESTIONS.items()}
    for sender, conversation in turns.items():
        for turn in conversation:
            assert [reply["recipient_id"] for reply in turn.replies] == [sender]
            assert [reply["custom"].get("answer_id") for reply in turn.replies] == [answer_for[turn.message]], (
                f"{sender} asked {turn.message!r}"
            )


def test_every_tracker_holds_every_message_its_parent_sent(
    api_stack: Tuple[Stack, str], conversations: Dict[str, List[str]], turns: Dict[str, List[Turn]]
) -> None:
    """`turns` is asked for so that every message has been sent and answered before the trackers are read."""
    stack, token = api_stack
    kept = asyncio.run(fetch_user_texts(stack.url, token, list(conversations)))
    assert kept == conversations
