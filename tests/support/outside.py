"""What some tests need from outside the repository, and what they do when it is missing.

A PostgreSQL server, Redis, Chromium or the fact sheets' text are not in the
repository. On a developer's machine a test that needs one skips, with one line
naming what is missing and how to provide it, so the rest of the suite still
runs. Under CI (`CI=true`) the same test fails instead: CI's machines have all
of them, and a gate that passes by skipping proves nothing.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

CI_VARIABLE = "CI"


def in_ci() -> bool:
    return os.environ.get(CI_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def missing(what: str, how: str) -> NoReturn:
    """Skip (fail under CI) because `what` is missing; `how` says how to provide it."""
    reason = f"{what}: {how}"
    if in_ci():
        pytest.fail(f"{reason} ({CI_VARIABLE}=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)
