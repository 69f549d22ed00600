"""A throwaway PostgreSQL database for one test module, on the server TEST_POSTGRES_URL names.

The default is the local server with trust authentication (as on the project's machines and in
CI); the database is created with a random name, handed out with a password in its URL that must
never reach a log, and dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import uuid
from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from tests.support.outside import missing

ADMIN_URL_VARIABLE = "TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get(ADMIN_URL_VARIABLE) or DEFAULT_ADMIN_URL


@contextmanager
def throwaway_database() -> Iterator[URL]:
    admin = sa.create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    name = f"itb_conversations_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        reason = str(error.orig).strip().splitlines()[0]
        missing(
            f"No PostgreSQL server at {make_url(admin_url())!r} ({reason})",
            f"start one, or set {ADMIN_URL_VARIABLE}=postgresql://USER@HOST:PORT/postgres (USER may create databases)",
        )
    try:
        yield make_url(admin_url()).set(database=name, password=f"pw-{secrets.token_hex(8)}")
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
