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

import logging
import os
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, TypeVar

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

logger = logging.getLogger(__name__)
T = TypeVar("T")

URL_VARIABLE = "TRACKER_STORE_URL"
# Relative to the working directory, as Rasa's own paths (models/, data/) are.
DEFAULT_DB = "var/conversations.db"
EXAMPLE_URL = "postgresql://user:password@host:5432/itb"


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
    """SQLTrackerStore on TRACKER_STORE_URL, or on the SQLite file `db` from endpoints.yml.

    Rasa builds a custom store as `Class(host=<url from endpoints.yml>, domain=...,
    event_broker=..., **other keys)`, and if that raises ImportError it warns
    "not found" and keeps conversations in memory. A missing database driver is
    raised as another error instead, so the server stops rather than forgetting
    conversations on the next restart.
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
            event.listen(self.engine, "connect", write_ahead_log)
            self.engine.dispose()  # connections opened while creating the tables get the settings too


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
