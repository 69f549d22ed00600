"""How long conversations are kept, and deleting the ones past it.

Parents write about their child's health, and on SMS the conversation id is
their phone number, so conversations are personal health information, kept only
as long as they are of use. The default, 30 days, is a starting point, not a
policy: continuing a conversation needs it for an hour (a session ends after 60
minutes of silence), and looking into a complaint or a wrong answer needs it
for the few weeks in which those are usually raised; keeping less leaves less
to leak. Each hospital sets its own period from its records policy with
CONVERSATION_RETENTION_DAYS.
"""

from __future__ import annotations

import os
import re
import time
from typing import Mapping

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import Engine

DAYS_VARIABLE = "CONVERSATION_RETENTION_DAYS"
DEFAULT_DAYS = 30
SECONDS_PER_DAY = 24 * 60 * 60
WHOLE_NUMBER = re.compile(r"[0-9]+")


class BadRetention(ValueError):
    """A retention period that is not a whole number of days, 1 or more."""


def parse_days(value: str, name: str) -> int:
    """`value` as a number of days; `name` says where it came from, for the message."""
    text = value.strip()
    if not WHOLE_NUMBER.fullmatch(text) or int(text) < 1:
        raise BadRetention(f"{name} must be a whole number of days, 1 or more (e.g. {DEFAULT_DAYS}); got {value!r}")
    return int(text)


def retention_days(environ: Mapping[str, str] | None = None) -> int:
    """CONVERSATION_RETENTION_DAYS, or 30 when it is unset or empty."""
    environ = os.environ if environ is None else environ
    value = environ.get(DAYS_VARIABLE, "")
    return parse_days(value, DAYS_VARIABLE) if value.strip() else DEFAULT_DAYS


def purge(engine: Engine, days: int, now: float | None = None) -> int:
    """Delete every conversation whose last event is more than `days` days old; return how many.

    A conversation is all the events of one sender id, across sessions: one that
    started long ago but was written in yesterday is kept whole. The delete
    re-checks the age itself rather than deleting a list of ids read earlier, so
    a conversation that gets a new message meanwhile is not deleted.
    """
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    events = SQLTrackerStore.SQLEvent.__table__
    if not sa.inspect(engine).has_table(events.name):
        return 0  # nothing stored yet
    stale = sa.select(events.c.sender_id).group_by(events.c.sender_id).having(sa.func.max(events.c.timestamp) < cutoff)
    with engine.begin() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(stale.subquery())).scalar_one()
        connection.execute(events.delete().where(events.c.sender_id.in_(stale)))
    return count
