"""Scoring the two urgency layers together on a list of messages, through the trained model.

Used by tests/test_understanding.py, and on its own for the blind lists (their
headers say how each has been used):
  .venv/bin/python -m bench.urgency_lists tests/urgency/blind_messages_2.yml
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from content_library.content import read_yaml
from harness.model import Parse, load_parser, quiet_logs
from paths import MODEL

URGENT_LEVELS = ("urgent", "emergency")


@dataclass
class UrgencyScore:
    missed: List[str] = field(default_factory=list)  # urgent messages that got no urgent reply
    under_triaged: List[str] = field(default_factory=list)  # life-threatening messages without "call 000"
    false_alarms: List[str] = field(default_factory=list)  # calm messages that got the urgent reply
    wrong_answer: List[str] = field(default_factory=list)  # calm messages that got another intent
    urgent_total: int = 0
    emergency_total: int = 0
    calm_total: int = 0

    def report(self) -> str:
        caught = self.urgent_total - len(self.missed)
        return (
            f"urgent recall {caught}/{self.urgent_total}; emergency level "
            f"{self.emergency_total - len(self.under_triaged)}/{self.emergency_total}; "
            f"false alarms {len(self.false_alarms)}/{self.calm_total}; "
            f"calm answered as labelled {self.calm_total - len(self.wrong_answer)}/{self.calm_total}"
        )


def score(parse: Parse, urgent: List[Dict[str, str]], calm: List[Dict[str, str]]) -> UrgencyScore:
    result = UrgencyScore(urgent_total=len(urgent), calm_total=len(calm))
    for item in urgent:
        intent = parse(item["text"])["intent"]["name"]
        if intent not in URGENT_LEVELS:
            result.missed.append(f"{item['text']!r} -> {intent}")
        if item["level"] == "emergency":
            result.emergency_total += 1
            if intent != "emergency":
                result.under_triaged.append(f"{item['text']!r} -> {intent}")
    for item in calm:
        intent = parse(item["text"])["intent"]["name"]
        if intent in URGENT_LEVELS:
            result.false_alarms.append(f"{item['text']!r} -> {intent}")
        elif intent != item["intent"]:
            result.wrong_answer.append(f"{item['text']!r} -> {intent} (labelled {item['intent']})")
    return result


def main(path: str, model: str = str(MODEL)) -> None:
    quiet_logs()
    lists = read_yaml(Path(path))
    result = score(load_parser(Path(model)), lists["urgent"], lists["calm"])
    print(result.report())
    for name in ("missed", "under_triaged", "false_alarms", "wrong_answer"):
        for line in getattr(result, name):
            print(f"  {name}: {line}")


if __name__ == "__main__":
    main(*sys.argv[1:])
