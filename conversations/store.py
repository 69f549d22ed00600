"""The tracker store endpoints.yml names: Rasa's SQLTrackerStore, configured from the environment.

Rasa expands `${VAR}` in endpoints.yml but refuses to start when one is unset, so
a database URL there would make a fresh checkout fail to start. Instead this
store reads one variable, TRACKER_STORE_URL (e.g.
`postgresql://user:password@host:5432/itb`), and without it keeps conversations
in the SQLite file endpoints.yml gives as `db`, creating its directory: so a
restart continues every conversation with no database server to set up, and a
hospital points the same code at PostgreSQL with one variable, its password
never in a committed file or a log line.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from contextlib import suppress
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, TypeVar

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from conversations.ids import CHANNELS, SEPARATOR, conversation_id

logger = logging.getLogger(__name__)
T = TypeVar("T")

URL_VARIABLE = "TRACKER_STORE_URL"
# Relative to the working directory, as Rasa's own paths (models/, data/) are.
DEFAULT_DB = "var/conversations.db"
EXAMPLE_URL = "postgresql://user:password@host:5432/itb"
# How many of a conversation's latest events a turn is given: the rules need the last turn or two, a
# turn is about 5 to 10 events, and this is the same for the 3rd message and the 3,000th. Replaying the
# window and the policies' reading of it grow with its size, so it is no larger than the rules need.
WINDOW_EVENTS = 30
# A turn is saved again while the database is away for up to about 10 s in all (1 + 2 + 3 + 4 s).
SAVE_ATTEMPTS = 5
SAVE_RETRY_SECONDS = 1.0
# Indexes that make each turn's reads a walk down one conversation's newest rows, at any length.
INDEXES = {
    "ix_events_sender_id_id": ("sender_id", "id"),
    "ix_events_sender_id_type_name_id": ("sender_id", "type_name", "id"),
}


class TrackerStoreConfigError(ValueError):
    """The configured store cannot be used; the message says what to set, never a password."""


def store_url(db: str = DEFAULT_DB, environ: Mapping[str, str] | None = None) -> URL:
    """TRACKER_STORE_URL if it is set (an empty value counts as unset), else the SQLite file `db`."""
    environ = os.environ if environ is None else environ
    text = environ.get(URL_VARIABLE, "").strip()
    if not text:
        return URL.create("sqlite", database=str(Path(db).resolve()))
    try:
        url = make_url(text)
    except ArgumentError:
        # SQLAlchemy's message repeats the URL, password and all.
        raise TrackerStoreConfigError(f"{URL_VARIABLE} is not a database URL; expected e.g. {EXAMPLE_URL}") from None
    if url.drivername == "postgres":  # the scheme Heroku and others hand out; SQLAlchemy 1.4 wants postgresql
        url = url.set(drivername="postgresql")
    if sqlite_file(url):
        url = url.set(database=str(Path(url.database).resolve()))
    return url


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL keeps its data in; None for another database or SQLite in memory."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database)
    return None


def describe(url: URL) -> str:
    """The URL as it may be logged or printed: the password masked."""
    return url.render_as_string(hide_password=True)


def sql_tracker_store_kwargs(url: URL) -> Dict[str, Any]:
    """`url` as SQLTrackerStore's parameters: it takes the parts (dialect, host, ...), not a URL."""
    return {
        "dialect": url.drivername,
        "host": url.host,
        "port": url.port,
        "db": url.database,
        "username": url.username,
        "password": url.password,
        "query": dict(url.query) or None,
    }


def refuse_url_in_endpoints(url: str | None) -> None:
    if url:
        raise TrackerStoreConfigError(
            f"endpoints.yml's tracker_store has a url; set the environment variable {URL_VARIABLE} instead, "
            "so the database password is never in a committed file"
        )


class ConversationStore(SQLTrackerStore):
    """SQLTrackerStore on TRACKER_STORE_URL, or on the SQLite file `db` from endpoints.yml, at a constant cost per turn.

    Rasa builds a custom store as `Class(host=<url from endpoints.yml>, domain=...,
    event_broker=..., **other keys)`, and if that raises ImportError it warns
    "not found" and keeps conversations in memory. A missing database driver is
    raised as another error instead, so the server stops rather than forgetting
    conversations on the next restart.

    Rasa 3.6's store reads and replays every event of the session at every turn, and counts them
    all again to save, so a parent who keeps the chat open makes each reply slower than the last.
    This bot's dialogue is rules over the latest message, so a turn is given only the session's
    latest `WINDOW_EVENTS` events, from the end of a turn (`retrieve`), plus the latest value of any
    slot set before them; saving appends the events that came after the newest stored one
    (`_additional_events`). Every event is still stored, in order: `retrieve_full_tracker` (Rasa's
    HTTP API), the insights, the retention purge and a restart read them all. An event broker, if one
    is configured, is given the same new events (`stream_events`). Rasa's session expiry reads the
    window's latest user message: a turn of more than `WINDOW_EVENTS` events would hide it (this
    bot's turns have under ten).
    """

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        host: str | None = None,
        db: str = DEFAULT_DB,
        **kwargs: Any,
    ) -> None:
        refuse_url_in_endpoints(host)
        url = store_url(db)
        database_file = sqlite_file(url)
        if database_file:
            database_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # health data: the server's user only
        self.url = url
        logger.info("Conversations are kept in %s", describe(url))
        try:
            super().__init__(domain=domain, event_broker=event_broker, **sql_tracker_store_kwargs(url), **kwargs)
        except ImportError as error:
            raise TrackerStoreConfigError(f"No database driver for {url.drivername}: {error}") from error
        if database_file:
            self._keep_sqlite_connections()
        else:
            self._check_connections_before_use()
        self._create_indexes()
        renamed = namespace_stored_conversations(self.engine, self.SQLEvent.__tablename__)
        if renamed:
            logger.info("Renamed %s stored conversation(s) to their channel's name (conversations/ids.py).", renamed)

    def _keep_sqlite_connections(self) -> None:
        """A pool that keeps its SQLite connections, set up for the write-ahead log once each.

        SQLAlchemy 1.4 opens a new SQLite connection for every session (NullPool), and a turn has
        several sessions: opening the file and setting its pragmas each time cost about 3 ms a turn.
        """
        url = self.engine.url
        self.engine.dispose()  # connections opened while creating the tables had no pragmas
        self.engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", write_ahead_log)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _check_connections_before_use(self) -> None:
        """A database server that restarted leaves the pool's connections dead: each is tested when taken.

        Without it, the first turn of each pooled connection after a PostgreSQL restart failed to save,
        after its reply had been sent (`make bench-cluster`: 16 answered turns not stored).
        """
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, tried again while the database is briefly away (a restart, a fail-over).

        The parent already has the reply when the turn is saved: giving up at the first error would
        lose a turn they saw answered. Each attempt appends only what is not stored yet, so a retry
        never stores an event twice.
        """
        for attempt in range(SAVE_ATTEMPTS):
            try:
                await super().save(tracker)
                return
            except sa.exc.OperationalError as error:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
                logger.warning("Saving a turn failed (%s); trying again.", type(error.orig).__name__)
                await asyncio.sleep(SAVE_RETRY_SECONDS * (attempt + 1))

    def _create_indexes(self) -> None:
        """Plain DDL, not sa.Index: an index added to Rasa's table metadata would be created again, and
        fail, by every later store's create_all in the same process."""
        table = self.SQLEvent.__tablename__
        with self.engine.begin() as connection:
            one_replica_at_a_time(connection)
            for name, columns in INDEXES.items():
                connection.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest turns of the current session, at the same cost however long the conversation."""
        with self.session_scope() as session:
            rows = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .order_by(self.SQLEvent.id.desc())
                .limit(WINDOW_EVENTS)
                .all()
            )
            if not rows or not self.domain:
                return None
            window = turn_window([(row.id, json.loads(row.data)) for row in reversed(rows)], len(rows) < WINDOW_EVENTS)
            # A window that begins the session needs nothing from before it: Rasa carries slots over itself.
            begins_session = len(rows) < WINDOW_EVENTS or starts_session(window[0][1])
            slots = not begins_session and bool(self.domain.slots)
            carried = self._slots_before(session, sender_id, window[0][0]) if slots else []
        return DialogueStateTracker.from_dict(sender_id, [*carried, *(data for _, data in window)], self.domain.slots)

    def _slots_before(self, session: Any, sender_id: str, first_id: int) -> List[Dict[str, Any]]:
        """The latest value of each slot set in the current session before the window: what its state needs."""
        session_start = (
            session.query(sa.func.max(self.SQLEvent.id))
            .filter(
                self.SQLEvent.sender_id == sender_id,
                self.SQLEvent.type_name == SessionStarted.type_name,
                self.SQLEvent.id < first_id,
            )
            .scalar()
        )
        rows = (
            session.query(self.SQLEvent.data)
            .filter(
                self.SQLEvent.sender_id == sender_id,
                self.SQLEvent.type_name == SlotSet.type_name,
                self.SQLEvent.id > (session_start or 0),
                self.SQLEvent.id < first_id,
            )
            .order_by(self.SQLEvent.id)
            .all()
        )
        latest = {}
        for (data,) in rows:
            slot = json.loads(data)
            latest[slot["name"]] = slot
        return list(latest.values())

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The turn's new events, or none if its message is already in the window the turn was given.

        A message sent again (connectors/message_ids.py) runs its turn again, so the parent is answered,
        and the conversation keeps the first attempt (its replies are the same, the rules reading the
        latest message). The lock makes the retry read the window after the first attempt was stored,
        if it was, so that attempt's message is in the tracker before the new events. Without the lock
        (Redis unreachable) two attempts running at once can both be stored.
        """
        new = list(self._events_after_newest_stored(session, tracker))
        if repeats_a_stored_message(tracker, new):
            logger.info("A message sent again was answered again; the conversation already holds it.")
            return iter([])
        return iter(new)

    def _events_after_newest_stored(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The tracker's events after the newest one stored: a window of the session holds fewer than the store."""
        newest = (
            session.query(self.SQLEvent.type_name, self.SQLEvent.timestamp)
            .filter(self.SQLEvent.sender_id == tracker.sender_id)
            .order_by(self.SQLEvent.id.desc())
            .first()
        )
        if newest is None:
            return iter(tracker.events)
        # An event is its type and its creation time (time.time(), to the microsecond): the newest stored one
        # is found from the end of the tracker, so this costs the new events, not the conversation.
        for index in range(len(tracker.events) - 1, -1, -1):
            candidate = tracker.events[index]
            if candidate.type_name == newest.type_name and candidate.timestamp == newest.timestamp:
                return itertools.islice(tracker.events, index + 1, None)
        # The newest stored event is not in this tracker: something else wrote to the conversation after it
        # was read (a turn that ran without the lock while Redis was down). Keep this turn's events anyway.
        logger.warning("A conversation changed while a turn ran; the turn's events are stored after the others.")
        return iter([late for late in tracker.events if late.timestamp > newest.timestamp])

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Rasa's, for a windowed tracker: the new events are those after the newest stored, not a count."""
        if not self.event_broker:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        for new_event in new_events:
            self.event_broker.publish({"sender_id": tracker.sender_id, **new_event.as_dict()})


def repeats_a_stored_message(tracker: DialogueStateTracker, new: List[Any]) -> bool:
    """Whether a user message among `new` has the id of one already in the tracker before them."""
    new_ids = {event.message_id for event in new if isinstance(event, UserUttered) and event.message_id}
    if not new_ids:
        return False
    fresh = {id(event) for event in new}
    return any(
        isinstance(event, UserUttered) and event.message_id in new_ids
        for event in tracker.events
        if id(event) not in fresh
    )


MIGRATIONS = "itb_migrations"  # which one-off changes to the stored conversations this database has had
NAMESPACED = "conversation ids namespaced by channel"


def one_replica_at_a_time(connection: Any) -> None:
    """On PostgreSQL, a transaction-long lock: replicas starting together set up the database one by one
    (CREATE INDEX IF NOT EXISTS and CREATE TABLE are not safe to run at the same instant)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETUP_LOCK})


SETUP_LOCK = 4_815_162_342  # any constant: the advisory lock's key for setting up this store


def channel_of(channel_names: List[str | None]) -> str:
    """The channel a conversation stored under a bare id came from: the one its messages name.

    A REST client can name any `input_channel` it likes, so only a channel's real name counts, and a
    conversation that any other channel wrote to is that channel's (an SMS thread a REST tool also
    touched stays the parent's SMS conversation).
    """
    known = [name for name in channel_names if name in CHANNELS]
    return next((name for name in known if name != "rest"), "rest")


def namespace_stored_conversations(engine: Engine, table: str = "events") -> int:
    """Rename conversations stored under the platform's bare id to `<channel>:<id>`, once per database.

    Every replica may start at the same time: on PostgreSQL they take turns (an advisory lock), and on
    any database each rename is one UPDATE of a conversation still under its old id, so a second runner
    renames nothing; the marker row makes every later start skip it.
    """
    metadata = sa.MetaData()
    migrations = sa.Table(MIGRATIONS, metadata, sa.Column("name", sa.String(255), primary_key=True))
    with engine.begin() as connection:
        one_replica_at_a_time(connection)
        metadata.create_all(connection)
        if connection.execute(sa.select(migrations.c.name).where(migrations.c.name == NAMESPACED)).first():
            return 0
        renamed = 0
        senders = [row[0] for row in connection.execute(sa.text(f"SELECT DISTINCT sender_id FROM {table}"))]
        for sender in senders:
            if sender.split(SEPARATOR, 1)[0] in CHANNELS and SEPARATOR in sender:
                continue
            rows = connection.execute(
                sa.text(f"SELECT data FROM {table} WHERE sender_id = :sender AND type_name = 'user'"),
                {"sender": sender},
            )
            channel = channel_of([json.loads(data).get("input_channel") for (data,) in rows])
            result = connection.execute(
                sa.text(f"UPDATE {table} SET sender_id = :new WHERE sender_id = :old"),
                {"new": conversation_id(channel, sender), "old": sender},
            )
            renamed += result.rowcount
        with suppress(sa.exc.IntegrityError):  # another replica recorded it first
            with connection.begin_nested():
                connection.execute(migrations.insert().values(name=NAMESPACED))
    return renamed


def starts_session(event: Dict[str, Any]) -> bool:
    return event.get("event") == SessionStarted.type_name or event.get("name") == ACTION_SESSION_START_NAME


def turn_window(events: List[tuple], whole_conversation: bool) -> List[tuple]:
    """`(id, event)` pairs cut to the current session, beginning where a turn begins.

    A window that reaches back to the start of the session begins with it; otherwise it begins at
    the first `action_listen` in it, the end of a turn, so the rules see whole turns.
    """
    starts = [index for index, (_, data) in enumerate(events) if data.get("event") == SessionStarted.type_name]
    if starts:
        start = starts[-1]
        if start > 0 and events[start - 1][1].get("name") == ACTION_SESSION_START_NAME:
            start -= 1
        return events[start:]
    if whole_conversation:
        return events
    listens = [
        index
        for index, (_, data) in enumerate(events)
        if data.get("event") == ActionExecuted.type_name and data.get("name") == ACTION_LISTEN_NAME
    ]
    return events[listens[0] :] if listens else events


def write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite settings for a server that commits every turn.

    SQLite's default (a rollback journal, synced in full at every commit) made each turn wait on
    the disk twice; with the write-ahead log, a commit is one append, readers don't block the
    writer, and `synchronous=NORMAL` syncs at checkpoints. A committed turn survives the server
    crashing; a power cut can lose the last turns, which a parent would simply repeat. A hospital
    that needs more sets TRACKER_STORE_URL to PostgreSQL.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configured_url(endpoints_file: str | Path, environ: Mapping[str, str] | None = None) -> URL:
    """The database `rasa run --endpoints endpoints_file` keeps conversations in.

    For tools that work on the stored conversations without starting a store
    (which would create tables and retry an unreachable database forever).
    """
    config = read_endpoint_config(str(endpoints_file), "tracker_store")
    expected = f"{ConversationStore.__module__}.{ConversationStore.__name__}"
    if config is None or config.type != expected:
        raise TrackerStoreConfigError(
            f"{endpoints_file} does not keep conversations with {expected}, so they are not in a database this "
            "project knows how to find"
        )
    refuse_url_in_endpoints(config.url)
    return store_url(config.kwargs.get("db", DEFAULT_DB), environ)


class DatabaseError(RuntimeError):
    """The stored conversations could not be read or changed; the message is the driver's own words."""


def on_database(url: URL, work: Callable[[Engine], T]) -> T:
    """`work` on a short-lived engine for `url`, for the tools that read or purge stored conversations.

    Raises DatabaseError with the driver's words (e.g. "connection refused"): SQLAlchemy's own
    message would add the SQL, and the URL with its password.
    """
    engine = sa.create_engine(url, **create_engine_kwargs(url))
    try:
        return work(engine)
    except SQLAlchemyError as error:
        raise DatabaseError(str(getattr(error, "orig", None) or error).strip()) from None
    finally:
        engine.dispose()
