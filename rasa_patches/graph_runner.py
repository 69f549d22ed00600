"""Rasa's graph runner without dask: the same nodes, in the same order of needs, in the calling thread.

Rasa 3.6 runs the NLU graph and the dialogue graph of every message through `dask.get`: each run
works out the minimal graph for its targets again, builds a dask task graph and schedules it. For
this bot's ten NLU nodes and three dialogue nodes that bookkeeping cost more than some components
(docs/performance.md). `SequentialGraphRunner` works out each target set's order once and then
calls the nodes one after another, giving each node what dask would have given it: the
`(name, output)` of every node it needs, an input as `(name, value)`, and the bare name of a need
that nothing provides (which `GraphNode` reports, as under dask).

`use_sequential_graph_runner` makes the Rasa server's processor build this runner instead of dask's.
connectors/guard.py applies it when the channels are built, before the model is loaded. It replaces
a name in `rasa.core.processor` of the exact Rasa version pinned in pyproject.toml;
tests/test_graph_runner.py checks that the model then parses and predicts exactly as under dask.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    """A DaskGraphRunner whose `run` calls the nodes itself."""

    _orders: Dict[Tuple[str, ...], List[str]]

    def run(self, inputs: Dict[str, Any] | None = None, targets: List[str] | None = None) -> Dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        # Rasa's own check that no input's value names a node.
        self._add_inputs_to_graph(inputs, dict.fromkeys(self._graph_schema.nodes))
        outputs: Dict[str, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
        try:
            for name in self._order(tuple(run_targets)):
                needs = self._graph_schema.nodes[name].needs.values()
                outputs[name] = self._instantiated_nodes[name](*(outputs.get(need, need) for need in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(outputs[target] for target in run_targets)

    def _order(self, targets: Tuple[str, ...]) -> List[str]:
        """The nodes the targets need, each after the nodes it needs: worked out once per target set."""
        if not hasattr(self, "_orders"):
            self._orders = {}
        if targets not in self._orders:
            self._orders[targets] = dependency_order(self._graph_schema.minimal_graph_schema(list(targets)))
        return self._orders[targets]


def dependency_order(schema: GraphSchema) -> List[str]:
    order: List[str] = []
    placed: set = set()

    def place(name: str) -> None:
        if name in placed or name not in schema.nodes:
            return
        placed.add(name)
        for need in schema.nodes[name].needs.values():
            place(need)
        order.append(name)

    for name in schema.nodes:
        place(name)
    return order


def use_sequential_graph_runner() -> None:
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
