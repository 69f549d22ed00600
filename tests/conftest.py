"""Shared fixtures: the vetted content, the trained model, and running servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from actions.content import Content, load_content, read_yaml
from tests.nlu_helpers import Parse, load_parser
from tests.servers import MODEL, ROOT, Stack, start_stack

SHARED_SOURCES = ROOT.parent / "shared" / "sources"


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return read_yaml(ROOT / "domain.yml")


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
