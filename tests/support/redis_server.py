"""A Redis database for the tests that need one, on the server TEST_REDIS_URL names (default the local one)."""

from __future__ import annotations

import os

from conversations.lock import why_unreachable
from tests.support.outside import missing

URL_VARIABLE = "TEST_REDIS_URL"
DEFAULT_URL = "redis://127.0.0.1:6379/5"


def redis_url() -> str:
    """The test Redis's URL, once it answers; skipped (failed under CI) when there is none."""
    url = os.environ.get(URL_VARIABLE) or DEFAULT_URL
    reason = why_unreachable(url)
    if reason:
        missing(f"No Redis server at {url} ({reason})", f"start one, or set {URL_VARIABLE}=redis://HOST:PORT/DB")
    return url
