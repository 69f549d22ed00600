"""`make new-topic`: every file a new fact-sheet topic needs, with placeholders where a person must write.

A topic lives in six places (domain intent, action_respond rule, training
examples, held-out examples, vetted answer, conversation test); forgetting one
shows up late, as a failed training run or a question that gets the fallback.
The scaffold adds all of them at once so the content team only writes words.

Existing files are edited as text, a line at a time, never re-dumped as YAML:
their comments and layout are what reviewers read. Everything left for a person
is marked TODO(new-topic), and tests/test_new_topic.py fails while any remains.
The answer gets no `review:` record, so the assistant won't serve it until a
clinician signs it off with `make approve`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from itertools import pairwise
from pathlib import Path
from typing import Dict, List, Sequence, Set

import yaml

from content_library.content import RESERVED_IDS, read_yaml
from paths import ROOT

MARKER = "TODO(new-topic)"
TOPIC_ID = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
# Rasa's own intent for "not sure" (data/rules.yml sends it to action_clarify), and the contact details'
# sign-off id (content_library/content.py: CONTACTS).
RESERVED = {"nlu_fallback", *RESERVED_IDS}
TRAINING_PLACEHOLDERS = 20  # tests/test_understanding.py: MIN_TRAINING_EXAMPLES
HELD_OUT_PLACEHOLDERS = 5  # tests/test_understanding.py: MIN_TEST_EXAMPLES
DOMAIN_ITEM = re.compile(r"^(?P<prefix>\s+- )(?P<name>\w+)\s*$")
RULE_ITEM = re.compile(r"^(?P<prefix>\s+- intent: )(?P<name>\w+)\s*$")


class Refused(Exception):
    """Why the topic can't be added; shown to the person as one line."""


def _yaml_scalar(text: str) -> str:
    """The text as a YAML value: plain when it reads back unchanged, else double-quoted (JSON is valid YAML)."""
    try:
        if yaml.safe_load(text) == text:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _insert_after_last_answer(
    lines: List[str], start: int, end: int, item: re.Pattern[str], answers: Set[str], topic_id: str
) -> None:
    """Insert the topic after the last fact-sheet answer in lines[start:end], copying that line's layout.

    Keeping answer intents together (before urgent, the replies and chit-chat)
    keeps the lists in the order docs/content-and-signoff.md and reviewers expect.
    """
    matches = [(index, item.match(lines[index])) for index in range(start, end)]
    found = [(index, match["prefix"]) for index, match in matches if match and match["name"] in answers]
    if not found:
        raise Refused("found no fact-sheet answer intent to add the topic after; has the file's layout changed?")
    anchor, prefix = found[-1]
    lines.insert(anchor + 1, f"{prefix}{topic_id}\n")


def add_to_domain(text: str, answers: Set[str], topic_id: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"intents:\s*$", line)), None)
    if start is None:
        raise Refused("domain.yml has no top-level 'intents:' list")
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"[^\s#]", lines[i])), len(lines))
    _insert_after_last_answer(lines, start + 1, end, DOMAIN_ITEM, answers, topic_id)
    return "".join(lines)


def add_to_respond_rule(text: str, answers: Set[str], topic_id: str) -> str:
    """Add the intent to the `or:` list of the rule that ends in action_respond."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"\s*- rule:", line)] + [len(lines)]
    for start, end in pairwise(starts):
        if not any(re.match(r"\s*- action:\s*action_respond\s*$", line) for line in lines[start:end]):
            continue
        or_line = next((i for i in range(start, end) if re.match(r"\s*- or:\s*$", lines[i])), None)
        if or_line is None:
            continue
        or_end = next(
            (i for i in range(or_line + 1, end) if lines[i].strip() and _indent(lines[i]) <= _indent(lines[or_line])),
            end,
        )
        _insert_after_last_answer(lines, or_line + 1, or_end, RULE_ITEM, answers, topic_id)
        return "".join(lines)
    raise Refused("data/rules.yml has no rule with an 'or:' list of intents ending in action_respond")


def training_file(topic_id: str, title: str) -> str:
    examples = "".join(
        f"    - {MARKER} parent's question {n} of {TRAINING_PLACEHOLDERS}\n"
        for n in range(1, TRAINING_PLACEHOLDERS + 1)
    )
    return (
        'version: "3.1"\n'
        f"# {title} (answer {topic_id} in content/answers.yml).\n"
        "# The assistant learns this topic from these examples alone, so it needs at least\n"
        "# 20, varied, in parents' own words as they would type them on a phone: short and\n"
        '# long, "my son"/"my daughter", misspellings, "u" and "pls"; not the fact sheet\'s\n'
        "# wording. Five more, different ones, go in tests/nlu/test_nlu.yml to test it.\n"
        "# Replace every placeholder line below.\n"
        "nlu:\n"
        f"- intent: {topic_id}\n"
        "  examples: |\n"
        f"{examples}"
    )


def held_out_entry(topic_id: str) -> str:
    examples = "".join(
        f"    - {MARKER} held-out question {n} of {HELD_OUT_PLACEHOLDERS}, not one of the training examples\n"
        for n in range(1, HELD_OUT_PLACEHOLDERS + 1)
    )
    return f"- intent: {topic_id}\n  examples: |\n{examples}"


def answer_entry(topic_id: str, title: str, source: str, section: str) -> List[str]:
    """The answer in answers.yml's layout; no `review:` key, so it stays unserved until approved."""
    placeholder = (
        f"{MARKER} Write the answer in plain words for a parent on a phone: at most about"
        " 60 words, faithful to the section cited below, in our own words rather than the sheet's."
    )
    text = textwrap.fill(placeholder, width=90, initial_indent=" " * 6, subsequent_indent=" " * 6)
    entry = (
        f"  {topic_id}:\n"
        f"    title: {_yaml_scalar(title)}\n"
        "    text: >-\n"
        f"{text}\n"
        "    sources:\n"
        f"      - source: {_yaml_scalar(source)}\n"
        f"        section: {_yaml_scalar(section)}\n"
        "    related: []\n"
    )
    return entry.splitlines(keepends=True)


def add_answer(text: str, entry: List[str]) -> str:
    """Put the entry last among the answers, just before the top-level `replies:` line."""
    lines = text.splitlines(keepends=True)
    replies = next((i for i, line in enumerate(lines) if re.match(r"replies:\s*$", line)), None)
    if replies is None:
        raise Refused("content/answers.yml has no top-level 'replies:' line to add the answer before")
    gap = [] if replies == 0 or not lines[replies - 1].strip() else ["\n"]
    lines[replies:replies] = [*gap, *entry, "\n"]
    return "".join(lines)


def story_entry(topic_id: str, title: str) -> str:
    return (
        f"- story: {topic_id} is answered\n"
        "  steps:\n"
        "  - user: |\n"
        f"      {MARKER} a parent's question on this topic ({title}), in their own words\n"
        f"    intent: {topic_id}\n"
        "  - action: action_respond\n"
    )


def _append(text: str, addition: str) -> str:
    return text + ("" if not text or text.endswith("\n") else "\n") + addition


def check(root: Path, topic_id: str, title: str, source: str, section: str) -> None:
    """Refuse before writing anything, so a refused run leaves every file as it was."""
    if not TOPIC_ID.fullmatch(topic_id):
        raise Refused(f"topic id {topic_id!r} must be lower_snake_case, like pump_mri")
    if not title.strip() or "\n" in title:
        raise Refused('the title must be one non-empty line, like TITLE="Can my child have an MRI?"')
    domain = read_yaml(root / "domain.yml")
    content = read_yaml(root / "content" / "answers.yml")
    taken = [
        (domain.get("intents", []), "an intent in domain.yml"),
        ({*content.get("answers", {}), *content.get("replies", {})}, "an answer or reply id in content/answers.yml"),
        (RESERVED, "reserved (Rasa's own intent, or the sign-off id of the contact details or the red flags)"),
    ]
    for names, where in taken:
        if topic_id in names:
            raise Refused(f"{topic_id!r} is already {where}; choose another id")
    if (root / "data" / "nlu" / f"{topic_id}.yml").exists():
        raise Refused(f"data/nlu/{topic_id}.yml already exists")
    sources = read_yaml(root / "content" / "sources.yml")["sources"]
    if source not in sources:
        raise Refused(
            f"source {source!r} is not in content/sources.yml (it has: {', '.join(sources)});"
            " for a new fact sheet, add it there with its sections first"
        )
    sections = sources[source]["sections"]
    if section not in sections:
        listed = "; ".join(f'"{name}"' for name in sections)
        raise Refused(f"{source} has no section {section!r}; its sections are: {listed}")


def scaffold(root: Path, topic_id: str, title: str, source: str, section: str) -> Dict[Path, str]:
    """The new text of every file the topic touches, checked to parse before anything is written."""
    check(root, topic_id, title, source, section)
    answers = set(read_yaml(root / "content" / "answers.yml")["answers"])

    def read(relative: str) -> str:
        return (root / relative).read_text(encoding="utf-8")

    files = {
        root / "domain.yml": add_to_domain(read("domain.yml"), answers, topic_id),
        root / "data" / "rules.yml": add_to_respond_rule(read("data/rules.yml"), answers, topic_id),
        root / "data" / "nlu" / f"{topic_id}.yml": training_file(topic_id, title),
        root / "tests" / "nlu" / "test_nlu.yml": _append(read("tests/nlu/test_nlu.yml"), held_out_entry(topic_id)),
        root / "content" / "answers.yml": add_answer(
            read("content/answers.yml"), answer_entry(topic_id, title, source, section)
        ),
        root / "tests" / "test_stories.yml": _append(read("tests/test_stories.yml"), story_entry(topic_id, title)),
    }
    for path, text in files.items():
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise Refused(
                f"{path.relative_to(root)} would not parse after the edit: {' '.join(str(error).split())}"
            ) from None
    return files


CHECKLIST = """\
Added topic {id}. Next:
  1. data/nlu/{id}.yml: 20+ varied questions in parents' own words; tests/nlu/test_nlu.yml: 5+ different ones.
  2. content/answers.yml: the answer text and 1-3 related topics; tests/test_stories.yml: one question.
     Replace every {marker}.
  3. After clinical review: make approve ANSWER={id} REVIEWER="..."
  4. make test (trains the model, and fails while any {marker} is left)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Add the files for a new fact-sheet topic, with placeholders.")
    parser.add_argument("--id", dest="topic_id", required=True, help="lower_snake_case intent and answer id")
    parser.add_argument("--title", required=True, help="short label shown on topic buttons")
    parser.add_argument("--source", required=True, help="fact-sheet id in content/sources.yml")
    parser.add_argument("--section", required=True, help="section heading of that sheet")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (tests use a copy)")
    args = parser.parse_args(argv)
    try:
        files = scaffold(args.root, args.topic_id, args.title, args.source, args.section)
    except Refused as refusal:
        print(f"new-topic: {refusal}", file=sys.stderr)
        return 2
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(CHECKLIST.format(id=args.topic_id, marker=MARKER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
