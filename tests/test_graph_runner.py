"""The model run without dask (rasa_patches/graph_runner.py) understands and decides exactly as under dask."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest
import rasa.core.processor
from rasa.core.agent import Agent, load_agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_patches.graph_runner import SequentialGraphRunner, use_sequential_graph_runner

MESSAGES = [
    "how often does the pump need refilling",
    "my daughter is really floppy and sleepy since this morning",
    "hi",
    "what is the weather tomorrow",
    "does the refill hurt? and how big is the pump",
]


@pytest.fixture(scope="module")
def agents(model_path: Path) -> Iterator[Tuple[asyncio.AbstractEventLoop, Agent, Agent]]:
    # Whatever an earlier test in this process did (building a channel's guard applies the patch), Rasa's
    # own runner for the first agent, the guard's patch for the second.
    loop = asyncio.new_event_loop()
    patched = rasa.core.processor.DaskGraphRunner
    try:
        rasa.core.processor.DaskGraphRunner = DaskGraphRunner
        with_dask = loop.run_until_complete(load_agent(model_path=str(model_path)))
        use_sequential_graph_runner()
        sequential = loop.run_until_complete(load_agent(model_path=str(model_path)))
    finally:
        rasa.core.processor.DaskGraphRunner = patched
    yield loop, with_dask, sequential
    loop.close()


def decide(agent: Agent, parsed: Dict[str, Any]) -> Tuple[Any, ...]:
    tracker = DialogueStateTracker.from_events(
        "graph-runner-test", [ActionExecuted("action_listen"), UserUttered(parsed["text"], parsed["intent"])]
    )
    prediction = agent.processor._predict_next_with_tracker(tracker)
    return prediction.max_confidence_index, prediction.policy_name, tuple(prediction.probabilities)


def test_the_guards_patch_gives_the_processor_the_sequential_runner(agents: Tuple[Any, Agent, Agent]) -> None:
    _, with_dask, sequential = agents

    assert type(with_dask.processor.graph_runner) is DaskGraphRunner
    assert type(sequential.processor.graph_runner) is SequentialGraphRunner


@pytest.mark.parametrize("text", MESSAGES)
def test_the_model_parses_and_decides_as_under_dask(agents: Tuple[Any, Agent, Agent], text: str) -> None:
    loop, with_dask, sequential = agents

    expected = loop.run_until_complete(with_dask.parse_message(text))
    actual = loop.run_until_complete(sequential.parse_message(text))

    assert actual == expected
    assert decide(sequential, actual) == decide(with_dask, expected)
