"""A trained model used from Python, outside the Rasa server.

Shared by the tests, the benchmark, the urgency-list report and scripts/compare_pipelines.py,
so each parses messages the way the Rasa server does.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Callable, Dict

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
