"""The examples of each intent in Rasa NLU YAML files (data/nlu/, the held-out sets).

One reader for the insights report (which runs on the production server), the benchmark,
the scripts and the tests, so they all count the same examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from content_library.content import read_yaml


def nlu_examples(*paths: Path) -> Dict[str, List[str]]:
    """The examples of each intent in Rasa NLU YAML files."""
    examples: Dict[str, List[str]] = {}
    for path in paths:
        for item in read_yaml(path).get("nlu", []):
            lines = [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
            examples.setdefault(item["intent"], []).extend(lines)
    return examples
