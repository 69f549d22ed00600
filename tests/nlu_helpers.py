"""Using a trained model and the NLU data files from Python, outside the Rasa server.

Shared by the tests, the urgency report and scripts/compare_pipelines.py, so
each reads examples and parses messages the same way.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Callable, Dict, List

from actions.content import read_yaml

Parse = Callable[[str], Dict[str, Any]]


def quiet_logs() -> None:
    """Rasa logs each parsed message (with its text) at DEBUG through structlog; a report needs none of it."""
    import structlog

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def load_parser(model: Path) -> Parse:
    """Load a model once and return a function that parses text as the Rasa server would."""
    from rasa.core.agent import load_agent

    loop = asyncio.new_event_loop()
    agent = loop.run_until_complete(load_agent(model_path=str(model)))
    return lambda text: loop.run_until_complete(agent.parse_message(text))


def nlu_examples(*paths: Path) -> Dict[str, List[str]]:
    """The examples of each intent in Rasa NLU YAML files."""
    examples: Dict[str, List[str]] = {}
    for path in paths:
        for item in read_yaml(path).get("nlu", []):
            lines = [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
            examples.setdefault(item["intent"], []).extend(lines)
    return examples
