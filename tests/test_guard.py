"""The channel guard, hermetically: whatever Rasa's handler does, the parent gets a reply."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, List

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from connectors.guard import REPLY_DEADLINE_ENV, guarded
from connectors.incoming import MAX_CHARS, prepare
from connectors.replies import OneMessageCollector
from connectors.unreadable import UNREADABLE
from content_library.content import Content
from urgency.red_flags import RedFlagMatcher

Handler = Callable[[UserMessage], Awaitable[Any]]


def run_turn(handler: Handler, text: str = "how often is the pump refilled?") -> tuple[List[Dict[str, Any]], str]:
    """Run one message through the guarded handler; the replies the parent got, and the text Rasa saw."""
    seen: List[str] = []

    async def recording(message: UserMessage) -> Any:
        seen.append(message.text)
        return await handler(message)

    output = OneMessageCollector(CollectingOutputChannel())  # as the REST channel replies
    asyncio.run(guarded(recording, "rest")(UserMessage(text, output, "parent-1")))
    return output.messages, seen[0]


async def answers(message: UserMessage) -> None:
    await message.output_channel.send_response(message.sender_id, {"text": "The pump is refilled every few months."})


async def says_nothing(message: UserMessage) -> None:
    return None


async def fails(message: UserMessage) -> None:
    raise RuntimeError("the action server answered 500")


def test_a_reply_passes_through_alone() -> None:
    replies, _ = run_turn(answers)
    assert [reply["text"] for reply in replies] == ["The pump is refilled every few months."]


@pytest.mark.parametrize("handler", [says_nothing, fails], ids=["no reply", "handler fails"])
def test_no_reply_becomes_the_apology_with_the_numbers(handler: Handler, content: Content) -> None:
    replies, _ = run_turn(handler)
    assert len(replies) == 1
    apology = replies[0]
    assert apology["text"] == content.replies["unavailable"].text
    assert "(03) 9345 5522" in apology["text"] and "000" in apology["text"]
    assert apology["custom"]["kind"] == "unavailable"
    assert apology["custom"]["call"] == content.calls("unavailable")


def test_a_slow_turn_gets_the_apology_at_the_deadline_and_its_late_reply_is_dropped(
    monkeypatch: pytest.MonkeyPatch, content: Content
) -> None:
    monkeypatch.setenv(REPLY_DEADLINE_ENV, "0.05")
    output = OneMessageCollector(CollectingOutputChannel())

    async def scenario() -> None:
        release, finished = asyncio.Event(), asyncio.Event()

        async def slow(message: UserMessage) -> None:
            await release.wait()  # the action server has not answered yet
            await message.output_channel.send_response(message.sender_id, {"text": "a late answer"})
            finished.set()

        await guarded(slow, "rest")(UserMessage("what is baclofen?", output, "parent-1"))
        assert [reply["custom"]["kind"] for reply in output.messages] == ["unavailable"]
        release.set()
        await finished.wait()

    asyncio.run(scenario())
    assert [reply["text"] for reply in output.messages] == [content.replies["unavailable"].text]


def test_the_urgent_reply_already_sent_means_no_apology(monkeypatch: pytest.MonkeyPatch) -> None:
    """The urgent reply is a domain response; only the follow-up needs the (here hanging) action server."""
    monkeypatch.setenv(REPLY_DEADLINE_ENV, "0.05")

    async def urgent_then_hang(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "Call (03) 9345 5522", "custom": {}})
        await asyncio.Event().wait()

    replies, _ = run_turn(urgent_then_hang)
    assert [reply["text"] for reply in replies] == ["Call (03) 9345 5522"]


def test_an_answer_reaches_the_parent_only_once_its_turn_is_stored() -> None:
    """Rasa sends a reply as its action runs and stores the turn after: a server that died in between
    had shown an answer its conversation never kept."""
    order: List[str] = []

    class Parent(CollectingOutputChannel):
        async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
            order.append(f"shown {message['text']}")

    async def answer_then_store(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "an answer", "custom": {}})
        await asyncio.sleep(0)  # the rest of the turn
        order.append("stored")

    asyncio.run(guarded(answer_then_store, "rest")(UserMessage("what is baclofen?", Parent(), "parent-1")))
    assert order == ["stored", "shown an answer"]


def test_an_urgent_reply_is_never_held_back_for_the_turn_to_be_stored() -> None:
    order: List[str] = []

    class Parent(CollectingOutputChannel):
        async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
            order.append(f"shown {message['text']}")

    async def urgent_then_store(message: UserMessage) -> None:
        urgent = {"text": "Call (03) 9345 5522", "custom": {"kind": "urgent"}}
        await message.output_channel.send_response(message.sender_id, urgent)
        await message.output_channel.send_response(message.sender_id, {"text": "more", "custom": {}})
        order.append("stored")

    asyncio.run(guarded(urgent_then_store, "rest")(UserMessage("he is very drowsy", Parent(), "parent-1")))
    assert order == ["shown Call (03) 9345 5522", "shown more", "stored"]


def test_a_long_message_is_shortened_before_rasa_sees_it_and_the_parent_is_told(content: Content) -> None:
    replies, seen = run_turn(answers, "how often is the pump refilled? " * 3000)
    assert len(seen) <= MAX_CHARS
    assert seen.startswith("how often is the pump refilled?")
    assert [reply["text"] for reply in replies] == [
        "The pump is refilled every few months.",
        content.replies["shortened"].text,
    ]
    assert "call" not in replies[-1]["custom"]  # a note, not a reason to phone


@pytest.mark.parametrize("text", ["", "   \n\t ", "\x00\x01\x1b"], ids=["empty", "white space", "control characters"])
def test_a_message_without_words_reads_as_unreadable(text: str) -> None:
    _, seen = run_turn(answers, text)
    assert seen == UNREADABLE


def test_control_characters_terminal_escapes_and_lone_surrogates_are_dropped() -> None:
    assert prepare("is\x00 the pump\u200b\x1b[31m safe?\ud800\x1b[2J").text == "is the pump safe?\ufffd"


def level(text: str) -> str | None:
    return RedFlagMatcher.from_file().assess(text).level


def test_a_warning_sign_late_in_a_long_message_is_kept() -> None:
    story = "We started ITB last year and it has helped with his legs and his sleep. " * 20
    text = story + "Tonight he is very drowsy and floppy and I can't wake him properly. " + "Anyway. " * 500
    prepared = prepare(text)
    assert prepared.shortened
    assert len(prepared.text) < MAX_CHARS + 400
    assert prepared.text.endswith("Tonight he is very drowsy and floppy and I can't wake him properly.")


def test_only_button_payloads_are_read_as_intents() -> None:
    assert prepare("/pump_refill").text == "/pump_refill"
    assert prepare("/nlu_fallback").text == "/nlu_fallback"
    assert prepare("/ how often is the pump refilled").text == "how often is the pump refilled"
    assert prepare('/pump_refill{"x": 1}').text == 'pump_refill{"x": 1}'


def test_a_warning_sign_in_a_long_message_without_full_stops_is_kept_whole() -> None:
    text = "so we had the pump put in and " * 30 + "now hes really drowsy and floppy and the pump is alarming " * 3
    prepared = prepare(text)
    assert level(text) is not None
    assert level(prepared.text) == level(text)


def test_a_warning_sign_across_the_cut_is_kept() -> None:
    filler = "we have been managing fine at home with school and physio "
    text = filler * (MAX_CHARS // len(filler)) + "and now he is not breathing properly " + filler * 5
    cut = prepare(text)
    assert level(text) == "emergency"
    assert level(cut.text) == "emergency"


def test_a_negated_warning_sign_stays_negated() -> None:
    text = "tell me about the trial " * 30 + "she has no fever and is fine, just wondering about the pump " * 5
    assert level(prepare(text).text) is None


def test_restart_and_other_rasa_commands_are_read_as_words() -> None:
    assert prepare("/restart").text == "restart"
    assert prepare("/session_start").text == "session_start"


@pytest.mark.parametrize(
    "text, reply_id",
    [("she is really floppy and drowsy", "urgent"), ("he is having a seizure", "emergency")],
)
def test_an_urgent_message_stuck_behind_a_slow_turn_still_gets_the_urgent_reply(
    monkeypatch: pytest.MonkeyPatch, content: Content, text: str, reply_id: str
) -> None:
    """Rasa's conversation lock can hold a message past its deadline: the red flags still decide."""
    monkeypatch.setenv(REPLY_DEADLINE_ENV, "0.05")

    async def stuck(message: UserMessage) -> None:
        await asyncio.Event().wait()

    replies, _ = run_turn(stuck, text)
    assert [reply["text"] for reply in replies] == [content.replies[reply_id].text]
    assert replies[0]["custom"]["call"] == content.calls(reply_id)


def test_a_parent_who_has_gone_gets_nothing_and_nothing_fails() -> None:
    output = OneMessageCollector(CollectingOutputChannel())

    async def scenario() -> None:
        started = asyncio.Event()

        async def slow(message: UserMessage) -> None:
            started.set()
            await asyncio.Event().wait()

        request = asyncio.ensure_future(guarded(slow, "rest")(UserMessage("what is baclofen?", output, "parent-1")))
        await started.wait()
        request.cancel()  # what Sanic does when the client disconnects
        await request

    asyncio.run(scenario())
    assert output.messages == []


def test_a_conversation_is_kept_under_its_channels_name_and_replies_go_to_the_platforms_id() -> None:
    """A REST client that names a phone number as its sender gets a REST conversation, not the SMS one."""
    kept: List[str] = []

    async def rasa(message: UserMessage) -> None:
        kept.append(message.sender_id)
        await message.output_channel.send_response(message.sender_id, {"text": "an answer"})

    collector = CollectingOutputChannel()
    for channel in ("twilio", "rest"):
        asyncio.run(guarded(rasa, channel)(UserMessage("hi", collector, "+61480000000", input_channel="twilio")))
    assert kept == ["twilio:+61480000000", "rest:+61480000000"]  # the channel that received it, not the one named
    assert [message["recipient_id"] for message in collector.messages] == ["+61480000000", "+61480000000"]
