"""Scoring a system on messages written the way parents really type (tests/nlu/realistic_*.yml).

Each message carries the reply it should get (`intent`), its style (long, esl, misspelt, carer,
past_event, two_questions, plain) and, for two questions in one message, the second question's
intent (`also`: either answer counts as right). What counts is what the parent would be sent, as
the issue that asked for these sets measured it over REST:

- a fact question is answered right (its answer, or the other question's), asked "Did you mean
  ...?" (nlu_fallback), sent the urgent reply needlessly, or answered wrong (anything else);
- advice, not-covered and conversation messages are handled when they get their own reply;
- an urgent or emergency message must get the urgent or emergency reply (recall), and a
  life-threatening one "call 000" (emergency);
- any other message that gets an urgent or emergency reply is a false alarm;
- a bare cry for help ("help", "HELP!!", "please help me") must get the urgent reply.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence

from content_library.content import read_yaml

URGENT_INTENTS = ("urgent", "emergency")
FALLBACK = "nlu_fallback"
STYLES = ("long", "esl", "misspelt", "carer", "past_event", "two_questions", "plain")
# Nothing but a call for help: the words, punctuation and capitals aside.
BARE_CRY = re.compile(r"^\W*((please|pls|plz|help|me|us|someone|somebody|now|quick|sos|heelp|halp)\W*)+$", re.I)


@dataclass(frozen=True)
class Message:
    text: str
    intent: str
    style: str
    also: str | None = None

    @property
    def urgent(self) -> bool:
        return self.intent in URGENT_INTENTS

    @property
    def bare_cry(self) -> bool:
        return bool(BARE_CRY.match(self.text)) and "help" in self.text.lower()


def read_messages(path: Path) -> List[Message]:
    return [
        Message(item["text"], item["intent"], item.get("style", "plain"), item.get("also"))
        for item in read_yaml(path)["messages"]
    ]


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.right += ok

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass
class RealisticScores:
    facts: int = 0
    facts_right: int = 0
    facts_clarified: int = 0
    facts_urgent: int = 0
    facts_wrong: int = 0
    other_handled: Tally = field(default_factory=Tally)  # advice, not covered, conversation
    urgent_caught: Tally = field(default_factory=Tally)
    emergency_caught: Tally = field(default_factory=Tally)
    false_alarms: Tally = field(default_factory=Tally)  # `right` counts the alarms
    bare_cries: Tally = field(default_factory=Tally)
    by_style: Dict[str, Dict[str, Tally]] = field(default_factory=dict)
    misses: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        result = asdict(self)
        result["facts_right_rate"] = self.facts_right / self.facts if self.facts else 0.0
        result["facts_wrong_rate"] = self.facts_wrong / self.facts if self.facts else 0.0
        return result


def score(messages: Sequence[Message], predicted: Iterable[str], answer_ids: Iterable[str]) -> RealisticScores:
    """`predicted` is the final intent each message was given (after urgency and the fallback)."""
    answers = set(answer_ids)
    result = RealisticScores()
    styles: Dict[str, Dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for message, intent in zip(messages, predicted, strict=True):
        accepted = {message.intent, message.also} - {None}
        alarmed = intent in URGENT_INTENTS
        if message.urgent:
            result.urgent_caught.add(alarmed)
            styles[message.style]["urgent recall"].add(alarmed)
            if message.intent == "emergency":
                result.emergency_caught.add(intent == "emergency")
            if message.bare_cry:
                result.bare_cries.add(alarmed)
            ok = alarmed and (message.intent != "emergency" or intent == "emergency")
        else:
            result.false_alarms.add(alarmed)
            styles[message.style]["false alarms"].add(alarmed)
            if message.intent in answers:
                result.facts += 1
                ok = intent in accepted
                result.facts_right += ok
                result.facts_clarified += intent == FALLBACK
                result.facts_urgent += alarmed
                result.facts_wrong += not ok and intent != FALLBACK and not alarmed
                styles[message.style]["facts right"].add(ok)
            else:
                ok = intent in accepted
                result.other_handled.add(ok)
        if not ok:
            result.misses.append(f"[{message.style}] {message.text!r}: {message.intent} -> {intent}")
    result.by_style = {style: dict(tallies) for style, tallies in sorted(styles.items())}
    return result


def main(argv: List[str] | None = None) -> int:
    """`python -m bench.realistic [--model M] FILE ...`: score a trained model on realistic sets, in-process."""
    import argparse
    import json

    from connectors.incoming import prepare
    from content_library.content import load_content
    from harness.model import load_parser, quiet_logs
    from paths import MODEL

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--misses", action="store_true", help="also list the messages that missed (reads them out)")
    args = parser.parse_args(argv)
    quiet_logs()
    parse = load_parser(args.model)
    answers = load_content().answers
    for path in args.files:
        messages = read_messages(path)
        scores = score(messages, [parse(prepare(m.text).text)["intent"]["name"] for m in messages], answers)
        summary = scores.as_dict()
        misses = summary.pop("misses")
        print(json.dumps({"file": str(path), **summary}))
        if args.misses:
            print("\n".join(misses))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
