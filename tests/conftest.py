"""Shared fixtures (the vetted content, the trained model, running servers, the platform stub, a PostgreSQL
database) and the markers that sort the tests into the fast path and the full gate (docs/testing.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from content_library.content import Content, load_content, read_yaml
from harness.model import Parse, load_parser
from harness.servers import Stack, start_stack
from paths import DOMAIN, MODEL, ROOT
from tests.support.channel_stubs import PlatformStub
from tests.support.postgres import throwaway_database
from tests.support.redis_server import redis_url as running_redis

# A test that asks for one of these fixtures needs what the marker names; marking by fixture keeps the
# marker and the need in one place. `e2e` (starts servers) and `browser` are set by the modules themselves.
MARKED_BY_FIXTURE = {"model_path": "model", "postgres_url": "postgres", "redis_url": "redis"}


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in MARKED_BY_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many tests were skipped and why, one line per reason, so a skip is never missed in the output."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons = Counter(str(report.longrepr[2]).removeprefix("Skipped: ") for report in skipped)
    terminalreporter.section(f"{len(skipped)} skipped: what is missing, and how to provide it")
    for reason, count in reasons.most_common():
        terminalreporter.line(f"{count:4d}  {reason}")


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return read_yaml(DOMAIN)


@pytest.fixture(scope="session")
def model_path() -> Path:
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL.relative_to(ROOT)}: run `make train` (make test does it for you).")
    return MODEL


@pytest.fixture(scope="session")
def parse(model_path: Path) -> Parse:
    """Parse text with the trained model in-process, as the Rasa server would."""
    return load_parser(model_path)


@pytest.fixture(scope="module")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("stack"), model_path)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def platforms() -> Iterator[PlatformStub]:
    """The messaging platforms' APIs, one recording stub on 127.0.0.1 for every test that needs them."""
    with PlatformStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[Any]:
    """A throwaway PostgreSQL database (TEST_POSTGRES_URL's server); skipped, or failed under CI, without one."""
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis server (TEST_REDIS_URL, default the local one, database 5); skipped, or failed under CI, without one."""
    return running_redis()
