"""Where conversations are kept: a SQL tracker store that survives a restart, and the retention purge.

End to end, a Rasa server is stopped and started again on the same SQLite file
and the conversations carry on (the REST tracker still has its turns, an SMS
"2" still picks from the list sent before the restart), and a server pointed at
a throwaway PostgreSQL database by TRACKER_STORE_URL keeps its conversations
there. `make purge-conversations` is run for real, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy.engine import URL

from connectors.message_ids import HEADER
from connectors.twilio import sms_text
from content_library.content import Content
from conversations.ids import conversation_id
from conversations.retention import DAYS_VARIABLE, SECONDS_PER_DAY
from conversations.store import (
    MIGRATIONS,
    URL_VARIABLE,
    WINDOW_EVENTS,
    ConversationStore,
    TrackerStoreConfigError,
    channel_of,
    configured_url,
    sql_tracker_store_kwargs,
    store_url,
)
from harness.servers import Stack, http_api_args, server_env, start_stack
from paths import ENDPOINTS, ROOT
from tests.support.channel_stubs import PlatformStub
from tests.support.channels import (
    REFILL_QUESTION,
    channel_env,
    full_answer,
    new_mobile,
    numbered,
    post_to_twilio,
    related_titles,
    sent_by_twilio_to,
    twilio_sms,
)

AUTH_TOKEN = "-" + secrets.token_hex(16)  # a leading "-" must still be read as the token
BAD_DAYS = ["abc", "0", "-5", "1.5", "30 days"]
REFUSAL = "must be a whole number of days, 1 or more"


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def user_texts(events: List[Dict[str, Any]]) -> List[str]:
    return [event["text"] for event in events if event["event"] == "user"]


def event_count(url: URL | str, sender_id: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :sender")
            return connection.execute(query, {"sender": sender_id}).scalar_one()
    finally:
        engine.dispose()


# --- Configuration (no server) ------------------------------------------------------------------------


def test_without_tracker_store_url_conversations_are_kept_in_the_sqlite_file_endpoints_yml_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What `rasa run` in a fresh checkout does: Rasa's own loading of endpoints.yml, no env, no database server."""
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)  # the file is relative to where `rasa run` starts
    store = TrackerStore.create(read_endpoint_config(str(ENDPOINTS), "tracker_store"))
    assert isinstance(store, ConversationStore)  # not Rasa's silent fallback to memory
    assert store.engine.url.database == str(tmp_path / "var" / "conversations.db")
    tracker = DialogueStateTracker.from_events("parent-1", [UserUttered("hello", timestamp=time.time())])
    asyncio.run(store.save(tracker))
    assert (tmp_path / "var" / "conversations.db").is_file()
    assert event_count(store.engine.url, "parent-1") == 1


def test_sqlite_keeps_a_write_ahead_log_so_a_turn_commits_without_a_full_sync(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    store = ConversationStore(db=str(tmp_path / "conversations.db"))
    asyncio.run(store.save(DialogueStateTracker.from_events("parent-1", [UserUttered("hi", timestamp=time.time())])))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert event_count(store.engine.url, "parent-1") == 1


def test_the_default_database_is_in_var_which_git_ignores() -> None:
    assert configured_url(ENDPOINTS, environ={}).database == str(Path("var/conversations.db").resolve())
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/conversations.db"], cwd=ROOT)
    assert ignored.returncode == 0, "var/ must be in .gitignore: conversations are personal data"


def test_tracker_store_url_is_split_into_sql_tracker_store_parameters() -> None:
    url = store_url(environ={URL_VARIABLE: "postgresql://itb:s3cret@db.example.org:6543/itb?sslmode=require"})
    assert sql_tracker_store_kwargs(url) == {
        "dialect": "postgresql",
        "host": "db.example.org",
        "port": 6543,
        "db": "itb",
        "username": "itb",
        "password": "s3cret",
        "query": {"sslmode": "require"},
    }
    assert store_url(environ={URL_VARIABLE: "postgres://itb@db/itb"}).drivername == "postgresql"
    assert store_url("x/y.db", environ={URL_VARIABLE: "  "}).database == str(Path("x/y.db").resolve())


def test_a_malformed_tracker_store_url_is_refused_without_repeating_its_password() -> None:
    with pytest.raises(TrackerStoreConfigError) as refused:
        store_url(environ={URL_VARIABLE: "postgresql//itb:s3cret@db.example.org/itb"})
    assert URL_VARIABLE in str(refused.value) and "s3cret" not in str(refused.value)


def test_a_url_in_endpoints_yml_is_refused_so_no_password_is_committed(tmp_path: Path) -> None:
    with pytest.raises(TrackerStoreConfigError, match=URL_VARIABLE):
        ConversationStore(host="postgresql://itb:s3cret@db/itb", db=str(tmp_path / "c.db"))


# --- A restart on the same SQLite file ----------------------------------------------------------------


@dataclass
class Restarted:
    stack: Stack
    rest_sender: str
    mobile: str
    replies_before: List[Dict[str, Any]]
    events_in_file_before: Dict[str, int]


def tracker_events(stack: Stack, sender_id: str) -> List[Dict[str, Any]]:
    stored = conversation_id("rest", sender_id)  # the REST channel's conversation (conversations/ids.py)
    response = requests.get(f"{stack.url}/conversations/{stored}/tracker", params={"token": AUTH_TOKEN}, timeout=60)
    response.raise_for_status()
    return response.json()["events"]


@pytest.fixture(scope="module")
def restarted(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory, platforms: PlatformStub
) -> Iterator[Restarted]:
    """A REST and an SMS conversation on one server, which is then stopped and started again on its file."""
    workdir = tmp_path_factory.mktemp("restart")
    env = channel_env(platforms.url)
    api = http_api_args(AUTH_TOKEN)
    rest_sender, mobile = new_sender("parent"), new_mobile()

    first = start_stack(workdir, model_path, extra_env=env, rasa_args=api)
    try:
        replies_before = first.send(REFILL_QUESTION, rest_sender)
        post_to_twilio(first, twilio_sms(mobile, REFILL_QUESTION))
        platforms.wait_for(sent_by_twilio_to(mobile))
    finally:
        first.stop()
    assert first.conversations_db and first.conversations_db.is_file()
    sqlite_url = URL.create("sqlite", database=str(first.conversations_db))
    in_file = {
        rest_sender: event_count(sqlite_url, conversation_id("rest", rest_sender)),
        mobile: event_count(sqlite_url, conversation_id("twilio", mobile)),
    }

    second = start_stack(workdir, model_path, extra_env=env, rasa_args=api)
    assert second.conversations_db == first.conversations_db
    yield Restarted(second, rest_sender, mobile, replies_before, in_file)
    second.stop()


@pytest.mark.e2e
def test_both_conversations_were_written_to_the_stacks_own_sqlite_file(restarted: Restarted) -> None:
    assert restarted.events_in_file_before[restarted.rest_sender] >= 3  # at least: user, action, bot
    assert restarted.events_in_file_before[restarted.mobile] >= 3


@pytest.mark.e2e
def test_after_a_restart_the_tracker_still_has_the_turns_from_before(restarted: Restarted) -> None:
    [reply] = restarted.replies_before
    assert reply["custom"]["answer_id"] == "pump_refill"
    events = tracker_events(restarted.stack, restarted.rest_sender)
    assert user_texts(events)[:1] == [REFILL_QUESTION]
    assert [e["text"] for e in events if e["event"] == "bot"][:1] == [reply["text"]]


@pytest.mark.e2e
def test_after_a_restart_a_new_message_is_added_after_the_turns_from_before(restarted: Restarted) -> None:
    [reply] = restarted.stack.send("/pump_how_it_works", restarted.rest_sender)
    assert reply["custom"]["answer_id"] == "pump_how_it_works"
    texts = user_texts(tracker_events(restarted.stack, restarted.rest_sender))
    assert texts[:1] == [REFILL_QUESTION] and texts[-1] == "/pump_how_it_works"


@pytest.mark.e2e
@pytest.mark.parametrize("how", ["header", "metadata"])
def test_a_rest_message_sent_again_under_its_id_is_answered_again_and_stored_once(
    restarted: Restarted, how: str
) -> None:
    """What a REST client, or HAProxy, does when a reply never came (connectors/message_ids.py)."""
    sender, message_id = new_sender(f"again-{how}"), uuid.uuid4().hex
    body: Dict[str, Any] = {"sender": sender, "message": REFILL_QUESTION}
    headers = {HEADER: message_id} if how == "header" else {}
    if how == "metadata":
        body["metadata"] = {"message_id": message_id}
    url = f"{restarted.stack.url}/webhooks/rest/webhook"
    answers = [requests.post(url, json=body, headers=headers, timeout=60).json() for _ in range(2)]
    assert answers[0] == answers[1] and answers[0][0]["custom"]["answer_id"] == "pump_refill"
    requests.post(url, json={"sender": sender, "message": REFILL_QUESTION}, timeout=60).raise_for_status()
    assert user_texts(tracker_events(restarted.stack, sender)) == [REFILL_QUESTION, REFILL_QUESTION]  # 2 of 3


@pytest.mark.e2e
def test_after_a_restart_an_sms_number_still_picks_from_the_list_sent_before_it(
    restarted: Restarted, platforms: PlatformStub, content: Content
) -> None:
    post_to_twilio(restarted.stack, twilio_sms(restarted.mobile, "2"))
    _, sent = platforms.wait_for(sent_by_twilio_to(restarted.mobile), count=2)
    refill = content.answers["pump_refill"]
    chosen = content.answers[refill.related[1]]
    # Without the list from before the restart, "2" would go to NLU as text (and get the fallback reply).
    assert sent.fields["Body"] == sms_text(full_answer(chosen)) + "\n\n" + numbered(related_titles(content, chosen))


# --- PostgreSQL, from TRACKER_STORE_URL ---------------------------------------------------------------


@pytest.mark.e2e
def test_tracker_store_url_keeps_the_conversation_in_postgresql_and_the_password_out_of_the_log(
    model_path: Path, tmp_path: Path, postgres_url: URL
) -> None:
    env = {URL_VARIABLE: postgres_url.render_as_string(hide_password=False)}
    stack = start_stack(tmp_path, model_path, extra_env=env, rasa_args=["--debug"])
    sender = new_sender("parent")
    try:
        [reply] = stack.send(REFILL_QUESTION, sender)
    finally:
        stack.stop()
    assert reply["custom"]["answer_id"] == "pump_refill"
    assert event_count(postgres_url, conversation_id("rest", sender)) >= 3
    assert not (stack.conversations_db and stack.conversations_db.exists())  # not in SQLite as well
    log = stack.servers["rasa"].log.read_text(errors="replace")
    assert f"Conversations are kept in {postgres_url.render_as_string(hide_password=True)}" in log
    assert postgres_url.password not in log


# --- make purge-conversations -------------------------------------------------------------------------

OLD = "+61400000001"  # last message 40 days ago
RECENT = "+61400000002"  # last message this morning
LONG_BUT_ACTIVE = "+61400000003"  # first message 100 days ago, last 2 days ago
SECRET_WORDS = "my daughter's wound is red"


def turn(days_ago: float, text: str = SECRET_WORDS) -> List[Event]:
    at = time.time() - days_ago * SECONDS_PER_DAY
    return [
        UserUttered(text, timestamp=at),
        ActionExecuted("action_answer", timestamp=at + 1),
        BotUttered("an answer", timestamp=at + 2),
        ActionExecuted("action_listen", timestamp=at + 3),
    ]


def conversations() -> Dict[str, List[Event]]:
    return {OLD: turn(40), RECENT: turn(0.25), LONG_BUT_ACTIVE: turn(100) + turn(2, "thanks")}


def fill(url: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    """The conversations above, saved by the store the Rasa server uses (so in Rasa's own schema)."""
    monkeypatch.setenv(URL_VARIABLE, url.render_as_string(hide_password=False))
    store = ConversationStore()
    for sender, events in conversations().items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()


def purge(url: URL, *make_args: str, **env: str) -> subprocess.CompletedProcess:
    """`make purge-conversations` on `url`, with no DAYS or retention from the developer's shell."""
    inherited = {name: value for name, value in server_env().items() if name not in ("DAYS", DAYS_VARIABLE)}
    return subprocess.run(
        ["make", "--no-print-directory", "purge-conversations", *make_args],
        cwd=ROOT,
        env={**inherited, URL_VARIABLE: url.render_as_string(hide_password=False), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(url: URL) -> Dict[str, int]:
    return {sender: event_count(url, sender) for sender in (OLD, RECENT, LONG_BUT_ACTIVE)}


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> URL:
    url = URL.create("sqlite", database=str(tmp_path / "conversations.db"))
    fill(url, monkeypatch)
    return url


def assert_only_the_old_conversation_was_deleted(url: URL, purged: subprocess.CompletedProcess) -> None:
    assert purged.returncode == 0, purged.stderr
    assert counts(url) == {OLD: 0, RECENT: 4, LONG_BUT_ACTIVE: 8}
    assert "Deleted 1 conversation idle for more than 30 days" in purged.stdout
    for private in (OLD, RECENT, LONG_BUT_ACTIVE, SECRET_WORDS):
        assert private not in purged.stdout + purged.stderr


def test_purge_deletes_conversations_idle_for_more_than_days_and_keeps_the_others(sqlite_url: URL) -> None:
    assert_only_the_old_conversation_was_deleted(sqlite_url, purge(sqlite_url, "DAYS=30"))


def test_purge_works_on_postgresql_too(postgres_url: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(postgres_url, monkeypatch)
    purged = purge(postgres_url, "DAYS=30")
    assert_only_the_old_conversation_was_deleted(postgres_url, purged)
    assert postgres_url.password not in purged.stdout + purged.stderr


@pytest.mark.parametrize(
    "env, deleted",
    [
        ({}, [OLD]),
        ({DAYS_VARIABLE: ""}, [OLD]),
        ({DAYS_VARIABLE: "45"}, []),
        ({DAYS_VARIABLE: "1"}, [OLD, LONG_BUT_ACTIVE]),
    ],
)
def test_without_days_purge_uses_conversation_retention_days_or_30(
    sqlite_url: URL, env: Dict[str, str], deleted: List[str]
) -> None:
    purged = purge(sqlite_url, **env)
    assert purged.returncode == 0, purged.stderr
    assert [sender for sender, count in counts(sqlite_url).items() if count == 0] == deleted
    assert f"Deleted {len(deleted)} conversation" in purged.stdout


@pytest.mark.parametrize("days", BAD_DAYS)
def test_purge_refuses_days_that_are_not_a_whole_number_of_at_least_one(sqlite_url: URL, days: str) -> None:
    refused = purge(sqlite_url, f"DAYS={days}")
    assert refused.returncode != 0
    assert f"DAYS (--days) {REFUSAL}" in refused.stderr
    assert counts(sqlite_url) == {OLD: 4, RECENT: 4, LONG_BUT_ACTIVE: 8}


def test_purge_refuses_a_nonsense_conversation_retention_days(sqlite_url: URL) -> None:
    refused = purge(sqlite_url, **{DAYS_VARIABLE: "thirty"})
    assert refused.returncode != 0
    assert f"{DAYS_VARIABLE} {REFUSAL}" in refused.stderr
    assert counts(sqlite_url) == {OLD: 4, RECENT: 4, LONG_BUT_ACTIVE: 8}


# --- A window of the conversation per turn --------------------------------------------------------------

WINDOW_DOMAIN = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}}})


def a_turn(number: int) -> List[Event]:
    at = 1_700_000_000 + number * 10.0
    return [
        UserUttered(f"question {number}", timestamp=at),
        ActionExecuted("action_respond", timestamp=at + 1),
        BotUttered(f"answer {number}", timestamp=at + 2),
        ActionExecuted("action_listen", timestamp=at + 3),
    ]


@pytest.fixture
def windowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConversationStore:
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    return ConversationStore(domain=WINDOW_DOMAIN, db=str(tmp_path / "window.db"))


async def talk(store: ConversationStore, sender: str, turns: int) -> None:
    """Each turn as the Rasa server runs it: retrieve (a window), add the turn's events, save."""
    opening = [
        ActionExecuted("action_session_start", timestamp=1_699_999_990.0),
        SessionStarted(timestamp=1_699_999_991.0),
        SlotSet("language", "en", timestamp=1_699_999_992.0),
        ActionExecuted("action_listen", timestamp=1_699_999_993.0),
    ]
    await store.save(DialogueStateTracker.from_events(sender, opening, WINDOW_DOMAIN.slots))
    for number in range(turns):
        tracker = await store.retrieve(sender)
        for event in a_turn(number):
            tracker.update(event)
        await store.save(tracker)


def test_a_turn_is_given_the_latest_whole_turns_and_every_turn_is_stored_once_in_order(
    windowed: ConversationStore,
) -> None:
    asyncio.run(talk(windowed, "long", 100))
    tracker = asyncio.run(windowed.retrieve("long"))
    given = [event for event in tracker.events if not isinstance(event, SlotSet)]
    assert len(given) <= WINDOW_EVENTS
    assert isinstance(given[0], ActionExecuted) and given[0].action_name == "action_listen"  # a turn's end
    assert given[-1].timestamp == a_turn(99)[-1].timestamp
    full = asyncio.run(windowed.retrieve_full_tracker("long"))
    assert [event.text for event in full.events if isinstance(event, UserUttered)] == [
        f"question {n}" for n in range(100)
    ]
    assert len(full.events) == 4 + 4 * 100  # nothing lost, nothing stored twice


def test_a_slot_set_before_the_window_is_carried_into_it(windowed: ConversationStore) -> None:
    asyncio.run(talk(windowed, "slots", 40))
    tracker = asyncio.run(windowed.retrieve("slots"))
    assert tracker.get_slot("language") == "en"
    assert sum(isinstance(event, SlotSet) for event in tracker.events) == 1


def test_a_short_conversation_is_given_whole_from_its_session_start(windowed: ConversationStore) -> None:
    asyncio.run(talk(windowed, "short", 3))
    tracker = asyncio.run(windowed.retrieve("short"))
    assert [type(event).__name__ for event in list(tracker.events)[:2]] == ["ActionExecuted", "SessionStarted"]
    assert len(tracker.events) == 4 + 4 * 3


def test_the_window_starts_at_the_latest_session(windowed: ConversationStore) -> None:
    asyncio.run(talk(windowed, "sessions", 5))
    tracker = asyncio.run(windowed.retrieve("sessions"))
    later = 1_800_000_000.0
    restart = [ActionExecuted("action_session_start", timestamp=later), SessionStarted(timestamp=later + 1)]
    for event in [*restart, *a_turn(1_000_000)]:
        tracker.update(event)
    asyncio.run(windowed.save(tracker))
    again = asyncio.run(windowed.retrieve("sessions"))
    assert isinstance(again.events[1], SessionStarted) and again.events[1].timestamp == later + 1
    assert len(asyncio.run(windowed.retrieve_full_tracker("sessions")).events) == 4 + 4 * 5 + 2 + 4


def test_a_turn_saved_after_another_writer_is_still_stored(windowed: ConversationStore) -> None:
    """Without the lock (Redis down), two turns can read the same window: neither turn's events are dropped."""
    asyncio.run(talk(windowed, "two-writers", 12))
    first, second = asyncio.run(windowed.retrieve("two-writers")), asyncio.run(windowed.retrieve("two-writers"))
    for tracker, number in ((second, 500), (first, 600)):
        for event in a_turn(number):
            tracker.update(event)
        asyncio.run(windowed.save(tracker))
    full = asyncio.run(windowed.retrieve_full_tracker("two-writers"))
    texts = [event.text for event in full.events if isinstance(event, UserUttered)]
    assert texts == [f"question {n}" for n in range(12)] + ["question 500", "question 600"]


def test_a_message_sent_again_under_its_id_is_stored_once_and_a_new_one_still_is(windowed: ConversationStore) -> None:
    """A replica stored the turn and died before replying; the client (or HAProxy) sent it again elsewhere."""
    asyncio.run(talk(windowed, "again", 3))

    def run_turn(number: int, message_id: str) -> None:
        tracker = asyncio.run(windowed.retrieve("again"))
        events = a_turn(number)
        events[0] = UserUttered(events[0].text, timestamp=events[0].timestamp, message_id=message_id)
        for event in events:
            tracker.update(event)
        asyncio.run(windowed.save(tracker))

    run_turn(10, "widget-message-1")
    run_turn(11, "widget-message-1")  # the same message, answered again by the retry
    run_turn(12, "widget-message-2")
    full = asyncio.run(windowed.retrieve_full_tracker("again"))
    texts = [event.text for event in full.events if isinstance(event, UserUttered)]
    assert texts == ["question 0", "question 1", "question 2", "question 10", "question 12"]
    assert len(full.events) == 4 + 4 * 5


def test_a_turn_is_saved_again_when_the_database_was_briefly_away(
    windowed: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent already has the reply: a save that meets a restarting database is tried again, not dropped."""
    from rasa.core.tracker_store import SQLTrackerStore

    import conversations.store as store_module

    rasa_save, failures = SQLTrackerStore.save, []

    async def save_once_failing(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        if not failures:
            failures.append(tracker.sender_id)
            raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))
        await rasa_save(self, tracker)

    monkeypatch.setattr(SQLTrackerStore, "save", save_once_failing)
    monkeypatch.setattr(store_module, "SAVE_RETRY_SECONDS", 0.0)
    asyncio.run(talk(windowed, "restarting-database", 2))
    full = asyncio.run(windowed.retrieve_full_tracker("restarting-database"))
    assert failures == ["restarting-database"]
    assert [event.text for event in full.events if isinstance(event, UserUttered)] == ["question 0", "question 1"]


# --- Conversations belong to their channel ---------------------------------------------------------------


def test_conversations_stored_under_bare_ids_are_renamed_once_to_their_channels_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    db = str(tmp_path / "old.db")
    old = {"parent-1": "rest", "+61480000000": "twilio", "whatsapp:+14155238886": "twilio", "29:1a2b": "botframework"}
    before = ConversationStore(domain=WINDOW_DOMAIN, db=db)  # a new database: nothing to rename, marker set
    before.engine.execute(sa.text(f"DELETE FROM {MIGRATIONS}"))  # as a database from before this change
    for sender, channel in old.items():
        events = [UserUttered("hi", input_channel=channel, timestamp=1.0), ActionExecuted("action_listen", timestamp=2)]
        asyncio.run(before.save(DialogueStateTracker.from_events(sender, events)))
    before.engine.dispose()

    after = ConversationStore(domain=WINDOW_DOMAIN, db=db)
    stored = set(asyncio.run(after.keys()))
    assert stored == {f"{channel}:{sender}" for sender, channel in old.items()}
    assert len(asyncio.run(after.retrieve_full_tracker("twilio:+61480000000")).events) == 2
    events = [UserUttered("hi", input_channel="rest", timestamp=3.0), ActionExecuted("action_listen", timestamp=4)]
    asyncio.run(after.save(DialogueStateTracker.from_events("bare-after", events)))
    after.engine.dispose()
    again = ConversationStore(domain=WINDOW_DOMAIN, db=db)  # once only: a later bare id is left alone
    assert set(asyncio.run(again.keys())) == {*stored, "bare-after"}


def test_a_conversation_is_renamed_to_the_channel_that_really_wrote_it() -> None:
    """A REST client names its own `input_channel`: only real channel names count, and not REST's first."""
    assert channel_of(["rest", "twilio", "rest"]) == "twilio"
    assert channel_of(["made-up", None]) == "rest"
    assert channel_of(["telegram"]) == "telegram"
