"""The insights report (make insights), on conversations built here from Rasa's own event classes.

The analysis is checked on events as the tracker store keeps them (`Event.as_dict()`);
the command is run in-process on a SQLite file written by the project's own
tracker store, with SMS-style sender ids (phone numbers) that must never reach
the output.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from content_library.content import Content
from conversations.insights import (
    WITHOUT_WORDS,
    Question,
    analyse,
    cluster_questions,
    conversation_turns,
    shown,
)
from conversations.insights_report import CHARTS, html_page, markdown, report
from conversations.store import URL_VARIABLE, ConversationStore
from nlu.examples import nlu_examples
from paths import ENDPOINTS, all_nlu_data
from scripts import insights as command

MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc).timestamp()
DAY = 24 * 60 * 60


class Clock:
    """Timestamps a few seconds apart, so events keep their order."""

    def __init__(self, start: float = MONDAY) -> None:
        self.now = start

    def __call__(self, days_later: float = 0) -> float:
        self.now += 2 + days_later * DAY
        return self.now


def user(text: str, intent: str, at: float, channel: str = "rest") -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 1.0}, input_channel=channel, timestamp=at)


def bot(kind: str, at: float, answer_id: str = "", **custom: Any) -> BotUttered:
    return BotUttered(
        "a vetted reply", {"custom": {"kind": kind, "answer_id": answer_id or kind, **custom}}, timestamp=at
    )


def answer(answer_id: str, at: float) -> BotUttered:
    return bot("answer", at, answer_id)


def dicts(events: List[Event]) -> List[Dict[str, Any]]:
    return [event.as_dict() for event in events]


def run(*conversations: List[Event], **options: Any) -> Any:
    return analyse([dicts(events) for events in conversations], tz=timezone.utc, **options)


# --- Which messages went unanswered --------------------------------------------------------------------


def test_a_question_counts_by_the_kind_of_its_first_reply() -> None:
    t = Clock()
    conversation = [
        user("can my son go in a hot tub with the pump", "not_covered", t()),
        bot("not_covered", t()),
        user("pump refill thing??", "nlu_fallback", t()),
        bot("clarify", t()),
        user("asdkjh qwe", "nlu_fallback", t()),
        bot("notice", t()),  # "I read only the start": not the reply to the question
        bot("fallback", t()),
        user("how often is the pump refilled", "pump_refill", t()),
        answer("pump_refill", t()),
        bot("not_covered", t()),  # a later reply in the same turn does not make it unanswered
        user("his pump is beeping", "urgent", t()),
        bot("urgent", t()),
        answer("pump_refill", t()),
    ]
    insights = run(conversation)
    assert insights.questions == [
        Question("can my son go in a hot tub with the pump", "not_covered"),
        Question("pump refill thing??", "clarify"),
        Question("asdkjh qwe", "fallback"),
    ]


def test_a_message_without_words_is_shown_as_such() -> None:
    t = Clock()
    insights = run([UserUttered(None, {"name": "nlu_fallback"}, timestamp=t()), bot("fallback", t())])
    assert insights.questions == [Question(WITHOUT_WORDS, "fallback")]


def test_button_presses_are_not_questions_even_when_they_get_no_answer() -> None:
    t = Clock()
    insights = run([user("/deny", "deny", t()), bot("fallback", t()), user("/pump_refill", "pump_refill", t())])
    assert insights.questions == []
    assert insights.buttons == 2


def test_typed_text_that_looks_like_a_payload_of_another_intent_is_words() -> None:
    [turn] = conversation_turns(dicts([user("/restart now", "out_of_scope", MONDAY)]))
    assert not turn.is_button
    [turn] = conversation_turns(dicts([user("/pump_refill", "pump_refill", MONDAY)]))
    assert turn.is_button


def test_bot_messages_before_the_first_parent_message_belong_to_no_turn() -> None:
    t = Clock()
    turns = conversation_turns(
        dicts([bot("smalltalk", t()), user("hot tub?", "not_covered", t()), bot("not_covered", t())])
    )
    assert [(turn.text, turn.first_kind) for turn in turns] == [("hot tub?", "not_covered")]


# --- Ratings -------------------------------------------------------------------------------------------


def test_a_rating_is_for_the_answer_straight_before_it_with_the_question_that_led_to_that_answer() -> None:
    t = Clock()
    conversation = [
        user("how often does the pump get refilled", "pump_refill", t()),
        answer("pump_refill", t()),
        user("/feedback_unhelpful", "feedback_unhelpful", t()),
        bot("feedback", t()),
        user("can he go swimming", "not_covered", t()),
        bot("not_covered", t()),
        user("that didnt help", "feedback_unhelpful", t()),  # about the "not covered" reply, not an answer
        bot("feedback", t()),
        user("/withdrawal", "withdrawal", t()),
        answer("withdrawal", t()),
        user("that helped, thanks", "feedback_helpful", t()),  # typed, not a button
        bot("feedback", t()),
    ]
    insights = run(conversation, titles={"withdrawal": "What about stopping baclofen?"})
    assert insights.ratings["pump_refill"].unhelpful == 1 and insights.ratings["pump_refill"].helpful == 0
    assert insights.ratings["pump_refill"].unhelpful_questions == ["“how often does the pump get refilled”"]
    assert insights.ratings["withdrawal"].helpful == 1 and insights.ratings["withdrawal"].unhelpful == 0
    assert insights.unattributed_ratings == 1


def test_the_question_before_an_answer_from_a_button_is_the_buttons_topic() -> None:
    t = Clock()
    conversation = [
        user("/withdrawal", "withdrawal", t()),
        answer("withdrawal", t()),
        user("/feedback_unhelpful", "feedback_unhelpful", t()),
    ]
    insights = run(conversation, titles={"withdrawal": "What about stopping baclofen?"})
    assert insights.ratings["withdrawal"].unhelpful_questions == ["(button) What about stopping baclofen?"]


def test_a_second_rating_in_a_row_counts_for_no_answer() -> None:
    t = Clock()
    conversation = [
        user("refill?", "pump_refill", t()),
        answer("pump_refill", t()),
        user("/feedback_helpful", "feedback_helpful", t()),
        user("/feedback_unhelpful", "feedback_unhelpful", t()),  # an old button pressed again: no answer before it
        user("refill how often", "pump_refill", t()),
        answer("pump_refill", t()),  # a second answer message: its own rating
        user("/feedback_helpful", "feedback_helpful", t()),
    ]
    insights = run(conversation)
    assert (insights.ratings["pump_refill"].unhelpful, insights.ratings["pump_refill"].helpful) == (0, 2)
    assert insights.unattributed_ratings == 1


def test_a_rating_never_reaches_an_answer_in_another_conversation() -> None:
    t = Clock()
    first = [user("refill?", "pump_refill", t()), answer("pump_refill", t())]
    second = [user("/feedback_unhelpful", "feedback_unhelpful", t()), bot("feedback", t())]
    insights = run(first, second)
    assert insights.ratings == {}
    assert insights.unattributed_ratings == 1


# --- Urgent triggers, messages per day and channel, --since ---------------------------------------------


def test_urgent_and_emergency_messages_are_counted_per_day_once_each() -> None:
    t = Clock()
    conversation = [
        user("his pump is beeping", "urgent", t()),
        ActionExecuted("utter_urgent", timestamp=t()),
        bot("urgent", t()),
        answer("pump_refill", t()),
        user("he's not breathing", "emergency", t(days_later=1)),
        ActionExecuted("utter_emergency", timestamp=t()),
        bot("emergency", t()),
        user("we ran out of baclofen", "urgent", t()),
        ActionExecuted("utter_urgent", timestamp=t()),
        BotUttered("the urgent text, its custom lost", {}, timestamp=t()),  # the action alone still says so
    ]
    insights = run(conversation)
    monday, tuesday = date(2026, 3, 2), date(2026, 3, 3)
    assert dict(insights.urgent) == {(monday, "urgent"): 1, (tuesday, "emergency"): 1, (tuesday, "urgent"): 1}


def test_parent_messages_are_counted_per_day_and_channel_and_bot_messages_are_not() -> None:
    t = Clock()
    web = [
        user("hi", "greet", t(), "socketio"),
        bot("smalltalk", t()),
        user("/pump_refill", "pump_refill", t(), "socketio"),
    ]
    sms = [user("hot tub?", "not_covered", t(days_later=2), "twilio"), bot("not_covered", t())]
    insights = run(web, sms)
    assert dict(insights.messages) == {(date(2026, 3, 2), "socketio"): 2, (date(2026, 3, 4), "twilio"): 1}
    assert insights.days == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    assert insights.conversations == 2


def test_since_counts_only_later_messages_but_a_rating_still_finds_an_earlier_answer() -> None:
    t = Clock()
    old = [user("hot tub?", "not_covered", t()), bot("not_covered", t())]
    rated_later = [
        user("refill?", "pump_refill", t()),
        answer("pump_refill", t()),
        user("/feedback_unhelpful", "feedback_unhelpful", t(days_later=3)),
    ]
    insights = run(old, rated_later, since=date(2026, 3, 5))
    assert insights.questions == []
    assert insights.conversations == 1
    assert sum(insights.messages.values()) == 1
    assert insights.ratings["pump_refill"].unhelpful == 1


# --- Clustering ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def background() -> List[str]:
    return [text for texts in nlu_examples(*all_nlu_data()).values() for text in texts]


def test_paraphrases_are_grouped_and_unrelated_questions_kept_apart(background: List[str]) -> None:
    hot_tub = [
        "can my son go in a hot tub with the pump",
        "is it safe for my daughter to use a hot tub with her pump",
        "Hot tub ok with baclofen pump?",
    ]
    flying = ["is it ok to fly on a plane with the pump", "can we take the pump on an aeroplane"]
    others = ["does the pump hurt when it is refilled", "how much does the pump cost", "whats on tv tonight"]
    questions = [Question(text, "not_covered") for text in [*hot_tub, *flying, *others]]
    clusters = cluster_questions(questions, background)
    groups = [{question.text for question in cluster.questions} for cluster in clusters]
    assert groups[0] == set(hot_tub)
    assert set(flying) in groups
    assert all({text} in groups for text in others)
    assert "tub" in clusters[0].key_words


def test_the_same_wording_twice_is_one_group_with_one_example_and_counts_per_kind() -> None:
    questions = [
        Question("Can he go swimming?", "not_covered"),
        Question("can he go  swimming?", "clarify"),
        Question("who won the footy", "fallback"),
    ]
    [swimming, footy] = cluster_questions(questions)
    assert (swimming.size, swimming.count("not_covered"), swimming.count("clarify")) == (2, 1, 1)
    assert swimming.examples() == ["Can he go swimming?"]
    assert footy.size == 1


def test_no_questions_or_one_question_or_only_stop_words_still_cluster() -> None:
    assert cluster_questions([]) == []
    assert [c.size for c in cluster_questions([Question("what?", "fallback")])] == [1]
    assert sorted(c.size for c in cluster_questions([Question("what?", "fallback"), Question("is it", "clarify")])) == [
        1,
        1,
    ]


# --- Masking -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call me on (03) 9345 5522 please", "call me on [number] please"),
        ("my mobile is +61 400 123 456", "my mobile is [number]"),
        ("0400-123-456 or 0400 123456", "[number] or [number]"),
        ("his UR number is 1234567", "his UR number is [number]"),
        ("write to jo.bloggs+itb@example.com.au", "write to [email]"),
        ("see https://example.org/itb?page=2 and www.pumps.com", "see [link] and [link]"),
        ("a blog at itb-kids.org.au/pump says so", "a blog at [link] says so"),
        ("refill every 4 to 12 weeks, age 12, in 2024", "refill every 4 to 12 weeks, age 12, in 2024"),
        ("040\n012\n3456", "[number]"),
    ],
)
def test_numbers_emails_and_links_are_masked_in_shown_text(text: str, expected: str) -> None:
    assert shown(text) == expected


@given(
    st.text(max_size=40),
    st.lists(st.integers(0, 9), min_size=6, max_size=14),
    st.lists(st.sampled_from(["", " ", "-", "(", ")", ".", "  "]), min_size=14, max_size=14),
    st.text(max_size=40),
)
def test_no_run_of_six_digits_survives(before: str, digits: List[int], separators: List[str], after: str) -> None:
    number = "".join(f"{digit}{separator}" for digit, separator in zip(digits, separators, strict=False))
    masked = shown(before + number + after)
    assert not re.search(r"\d(?:[\s().\-]{0,3}\d){5,}", masked)


def test_a_long_message_is_cut_to_one_line() -> None:
    text = shown("word " * 100)
    assert len(text) <= 200 and text.endswith("…") and "\n" not in text


# --- Rendering -----------------------------------------------------------------------------------------


def test_parents_words_are_escaped_in_markdown_and_html() -> None:
    t = Clock()
    hostile = "<script>alert(1)</script> [click](http://x) | *bold*"
    insights = run([user(hostile, "nlu_fallback", t()), bot("fallback", t())])
    blocks = report(insights, cluster_questions(insights.questions), {}, "UTC", date(2026, 3, 9))
    page = html_page(blocks, {})
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "default-src 'none'" in page  # loads nothing, runs nothing
    text = markdown(blocks)
    assert "<script>" not in text and "\\<script\\>" in text
    assert "[click](" not in text and "\\[click\\](\\[link\\])" in text
    assert "\\| \\*bold\\*" in text


def test_an_empty_store_gives_a_report_that_says_so() -> None:
    blocks = report(analyse([]), [], {}, "UTC", date(2026, 3, 9))
    assert "There are no conversations yet" in markdown(blocks)
    blocks = report(analyse([], since=date(2026, 3, 1)), [], {}, "UTC", date(2026, 3, 9))
    assert "No parent sent a message from Sun 1 Mar 2026 on" in markdown(blocks)


# --- The command, on a store written by the project's tracker store -------------------------------------

MOBILE, OTHER_MOBILE = "+61400111222", "+61400333444"
SECRET = "my daughter Zoe's wound near the pump is red"


@pytest.fixture
def utc() -> Iterator[None]:
    """The command counts days in the machine's time zone: make it UTC, whatever the developer's is."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def store_conversations(db: Path, monkeypatch: pytest.MonkeyPatch, conversations: Dict[str, List[Event]]) -> None:
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    store = ConversationStore(db=str(db))
    for sender, events in conversations.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()


def run_command(db: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setenv(URL_VARIABLE, f"sqlite:///{db}")
    monkeypatch.setenv("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # so the command's setdefault changes nothing
    return command.main(["--endpoints", str(ENDPOINTS), "--out", str(out), *args])


def sms_conversations() -> Dict[str, List[Event]]:
    t = Clock()
    return {
        MOBILE: [
            user(f"{SECRET}, call me on 0400 111 222", "not_covered", t(), "twilio"),
            bot("not_covered", t()),
            user("how often is it refilled", "pump_refill", t(), "twilio"),
            answer("pump_refill", t()),
            user("/feedback_unhelpful", "feedback_unhelpful", t(), "twilio"),
            bot("feedback", t()),
        ],
        OTHER_MOBILE: [
            user("my son's pump is beeping and he is really floppy", "urgent", t(days_later=1), "twilio"),
            ActionExecuted("utter_urgent", timestamp=t()),
            bot("urgent", t()),
        ],
    }


@pytest.mark.usefixtures("utc")
def test_the_command_writes_a_private_report_without_sender_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], content: Content
) -> None:
    db, out = tmp_path / "conversations.db", tmp_path / "insights"
    store_conversations(db, monkeypatch, sms_conversations())
    assert run_command(db, out, monkeypatch) == 0
    printed = capsys.readouterr()

    assert sorted(path.name for path in out.iterdir()) == sorted(["report.md", "report.html", *CHARTS])
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        data = path.read_bytes()
        for private in (MOBILE, OTHER_MOBILE, "0400 111 222", "61400"):
            assert private.encode() not in data, (path.name, private)
    assert (out / "urgent_per_day.png").read_bytes().startswith(b"\x89PNG")

    text = (out / "report.md").read_text()
    assert "“my daughter Zoe's wound near the pump is red, call me on \\[number\\]”" in text
    assert content.answers["pump_refill"].title in text and "“how often is it refilled”" in text
    assert "| Mon 2 Mar 2026 | 0 | 0 |" in text and "| Tue 3 Mar 2026 | 1 | 0 |" in text
    assert "| SMS / WhatsApp | 4 | 100% |" in text
    assert not re.search(r"\b\d{1,2}:\d{2}\b", text)  # no time of day, anywhere

    for private in (MOBILE, OTHER_MOBILE, SECRET, "Zoe"):
        assert private not in printed.out + printed.err
    assert "Read 2 conversation(s) with 4 message(s)" in printed.out


def test_an_empty_or_missing_store_gives_a_report_that_says_there_are_no_conversations_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing, out = tmp_path / "nothing-yet.db", tmp_path / "insights"
    assert run_command(missing, out, monkeypatch) == 0
    assert not missing.exists()  # reading did not create the database
    assert "There are no conversations yet" in (out / "report.md").read_text()
    assert "There are no conversations yet" in (out / "report.html").read_text()

    empty = tmp_path / "empty.db"
    store_conversations(empty, monkeypatch, {})  # the events table, and nothing in it
    assert run_command(empty, out, monkeypatch) == 0
    assert "There are no conversations yet" in (out / "report.md").read_text()
    assert "Read 0 conversation(s)" in capsys.readouterr().out


def test_an_earlier_reports_charts_do_not_outlive_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, out = tmp_path / "conversations.db", tmp_path / "insights"
    store_conversations(db, monkeypatch, sms_conversations())
    assert run_command(db, out, monkeypatch) == 0
    assert run_command(db, out, monkeypatch, "--since", "2030-01-01") == 0
    assert sorted(path.name for path in out.iterdir()) == ["report.html", "report.md"]
    assert "No parent sent a message from Tue 1 Jan 2030 on" in (out / "report.md").read_text()


def test_a_directory_holding_other_files_is_refused_not_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("someone else's")
    tmp_path.chmod(0o755)
    assert run_command(tmp_path / "c.db", tmp_path, monkeypatch) == 2
    assert "a directory of its own" in capsys.readouterr().err
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert not (tmp_path / "report.md").exists()


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "1/3/2026"])
def test_a_since_that_is_not_a_day_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], since: str
) -> None:
    assert run_command(tmp_path / "c.db", tmp_path / "out", monkeypatch, "--since", since) == 2
    assert "--since must be a day as YYYY-MM-DD" in capsys.readouterr().err


def test_an_unreachable_database_is_named_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(URL_VARIABLE, "postgresql://itb:s3cret-pw@127.0.0.1:9/itb")  # port 9: nothing listens
    monkeypatch.setenv("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    assert command.main(["--endpoints", str(ENDPOINTS), "--out", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr()
    assert "could not read postgresql://itb:***@127.0.0.1:9/itb" in printed.err
    assert "s3cret-pw" not in printed.out + printed.err
