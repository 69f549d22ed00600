"""A conversation of hundreds of turns costs each turn what a fresh one does, and loses nothing.

The store (conversations/store.py) gives each turn a window of the latest events and appends what the
turn added. Here, over REST and SMS on the real servers: after 300 turns the replies are those of a
fresh conversation, the stored tracker (Rasa's HTTP API, which reads the whole conversation) holds
every message in order, and a restarted server carries on a long SMS conversation, numbered options
included. How long each turn takes is measured by `make bench --sections length`, not here.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from bench.length import questions
from connectors.twilio import sms_text
from content_library.content import Content
from conversations.ids import conversation_id
from conversations.store import WINDOW_EVENTS
from harness.servers import Stack, http_api_args, start_stack
from tests.support.channel_stubs import PlatformStub
from tests.support.channels import (
    channel_env,
    full_answer,
    new_mobile,
    numbered,
    post_to_twilio,
    related_titles,
    sent_by_twilio_to,
    twilio_sms,
)

pytestmark = pytest.mark.e2e

TURNS = 300
TOKEN = "-" + secrets.token_hex(16)  # a leading "-" must still be read as the token
PROBES = ["how often does the pump need refilling?", "what are the side effects", "hi", "what can go wrong?"]


def start(workdir: Path, model_path: Path, platforms: PlatformStub) -> Stack:
    return start_stack(
        workdir, model_path, extra_env=channel_env(platforms.url), rasa_args=http_api_args(TOKEN)
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, model_path: Path, platforms: PlatformStub) -> Iterator[Stack]:
    running = start(tmp_path_factory.mktemp("long"), model_path, platforms)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def long_conversation(stack: Stack) -> Dict[str, Any]:
    sender = f"parent-{uuid.uuid4().hex[:8]}"
    sent = questions(TURNS, seed=1)
    for text in sent:
        assert stack.send(text, sender), text
    return {"sender": sender, "sent": sent}


def essentials(replies: List[Dict[str, Any]]) -> List[Any]:
    return [(r["text"], r["custom"]["kind"], r["custom"].get("answer_id"), r.get("buttons")) for r in replies]


@pytest.mark.parametrize("probe", PROBES)
def test_after_300_turns_the_replies_are_those_of_a_fresh_conversation(
    stack: Stack, long_conversation: Dict[str, Any], probe: str
) -> None:
    long = stack.send(probe, long_conversation["sender"])
    fresh = stack.send(probe, f"fresh-{uuid.uuid4().hex[:8]}")
    assert essentials(long) == essentials(fresh)


def test_the_stored_tracker_holds_every_message_of_the_long_conversation_in_order(
    stack: Stack, long_conversation: Dict[str, Any]
) -> None:
    response = requests.get(
        f"{stack.url}/conversations/{conversation_id('rest', long_conversation['sender'])}/tracker",
        params={"token": TOKEN},
        timeout=60,
    )
    response.raise_for_status()
    events = response.json()["events"]
    texts = [event["text"] for event in events if event["event"] == "user"]
    assert texts[:TURNS] == long_conversation["sent"]
    assert len(events) > 3 * TURNS > WINDOW_EVENTS  # every turn's events, not a window of them
    timestamps = [event["timestamp"] for event in events]
    assert timestamps == sorted(timestamps)
    bot = [event for event in events if event["event"] == "bot"]
    assert len(bot) >= TURNS  # every reply stored, none twice
    assert len({(event["timestamp"], event["event"]) for event in events}) == len(events)


def test_a_restarted_server_carries_on_a_long_sms_conversation_with_its_numbered_options(
    tmp_path: Path, model_path: Path, platforms: PlatformStub, content: Content
) -> None:
    mobile = new_mobile()
    texts = questions(WINDOW_EVENTS // 2, seed=2)  # four or more events a turn: a couple of windows' worth
    first = start(tmp_path, model_path, platforms)
    try:
        for text in [*texts, "how often does the pump need refilling?"]:
            post_to_twilio(first, twilio_sms(mobile, text))  # the webhook returns once the reply is sent
    finally:
        first.stop()
    before = len(platforms.matching(sent_by_twilio_to(mobile)))
    assert before > len(texts)
    restarted = start(tmp_path, model_path, platforms)
    try:
        post_to_twilio(restarted, twilio_sms(mobile, "2"))
        sent = platforms.wait_for(sent_by_twilio_to(mobile), count=before + 1)
        refill = content.answers["pump_refill"]
        chosen = content.answers[refill.related[1]]
        options = numbered(related_titles(content, chosen))
        assert sent[-1].fields["Body"] == sms_text(full_answer(chosen)) + "\n\n" + options
    finally:
        restarted.stop()
