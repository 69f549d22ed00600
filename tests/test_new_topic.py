"""`make new-topic` adds a topic to every file it needs, keeps their layout, and refuses what would break them.

Each test runs the scaffold on a copy of the repository's files, so the real
ones are never touched; the last test is the gate on the real repository: no
scaffold placeholder may reach a commit that passes `make test`.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence

import pytest
import yaml

from content_library.content import load_content, read_yaml
from nlu.examples import nlu_examples
from paths import CONTENT_DIR, HELD_OUT_NLU, NLU_DATA, ROOT
from scripts.new_topic import MARKER, main

TOPIC = "pump_mri"
# A title that isn't a plain YAML scalar (": " and a quote), to show it is written so it reads back the same.
TITLE = 'MRI scans: "is it safe"?'
SOURCE = "rch_itb_intro"
SECTION = "Key points to remember"
COPIED = ["domain.yml", "data", "content", "tests/test_stories.yml", "tests/nlu"]
# Where a placeholder must not be left: everything the model, the answers and the tests are built from.
SCANNED = ["data", "content", "tests/nlu", "tests/test_stories.yml", "domain.yml"]
# Twenty questions a parent might type, to show the scaffold's files are Rasa-valid once filled in.
MRI_QUESTIONS = [
    "can my son have an mri with the pump in",
    "is an mri safe with a baclofen pump",
    "she needs an mri scan next week, does the pump matter",
    "will the mri magnet mess up the pump",
    "do i need to tell the radiographer about the itb pump",
    "can u have mri scans if ur kid has a pump",
    "does the pump need checking after an mri",
    "mri and itb pump ok together?",
    "what happens to the pump in an mri machine",
    "can the mri stop the pump working",
    "my daughter has itb and is booked for an mri what should i do",
    "is there anything special about mri scans with intrathecal baclofen",
    "will they have to turn the pump off for the scan",
    "hospital wants to do an mri on his back is that ok with the pump",
    "mri with pump implant",
    "r mri scans allowed with the baclofen pump",
    "does the pump have to be restarted after a scan",
    "can the scan damage the pump or the tube",
    "who do i tell before his mri because of the pump",
    "are xrays and mri ok after itb surgery",
]


def copy_repo(target: Path, extra: Sequence[str] = ()) -> Path:
    for name in [*COPIED, *extra]:
        source, destination = ROOT / name, target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)
    return target


def snapshot(root: Path) -> Dict[str, str]:
    return {str(path.relative_to(root)): path.read_text(encoding="utf-8") for path in root.rglob("*") if path.is_file()}


def run(root: Path, topic: str = TOPIC, title: str = TITLE, source: str = SOURCE, section: str = SECTION) -> int:
    return main(["--id", topic, "--title", title, "--source", source, "--section", section, "--root", str(root)])


def added_lines(before: str, after: str) -> List[str]:
    """The lines `after` adds to `before`; fails if any line was changed or removed."""
    old, new = before.splitlines(), after.splitlines()
    added = []
    for tag, _, _, start, end in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), f"an existing line was changed: {tag} {new[start:end]}"
        if tag == "insert":
            added.extend(new[start:end])
    return added


def placeholders_left(root: Path) -> List[str]:
    """Every `file:line` under root that still holds the scaffold's marker."""
    found = []
    for name in SCANNED:
        top = root / name
        for path in sorted(top.rglob("*") if top.is_dir() else [top]):
            if not path.is_file():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if MARKER in line:
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")


@pytest.fixture()
def scaffolded(repo: Path, capsys: pytest.CaptureFixture[str]) -> Dict[str, Any]:
    """The copy before and after one successful run, and what the run printed."""
    before = snapshot(repo)
    assert run(repo) == 0
    return {"root": repo, "before": before, "after": snapshot(repo), "out": capsys.readouterr().out}


def test_domain_gets_the_intent_after_the_last_answer_intent_and_nothing_else(scaffolded: Dict[str, Any]) -> None:
    before, after = scaffolded["before"]["domain.yml"], scaffolded["after"]["domain.yml"]
    assert added_lines(before, after) == [f"  - {TOPIC}"]
    old_intents, new_intents = (
        yaml.safe_load(before)["intents"],
        read_yaml(scaffolded["root"] / "domain.yml")["intents"],
    )
    answers = read_yaml(CONTENT_DIR / "answers.yml")["answers"]
    last_answer = [intent for intent in old_intents if intent in answers][-1]
    at = new_intents.index(TOPIC)
    assert new_intents[at - 1] == last_answer
    assert new_intents[at + 1] == old_intents[old_intents.index(last_answer) + 1]


def test_the_action_respond_rule_gets_the_intent(scaffolded: Dict[str, Any]) -> None:
    before, after = scaffolded["before"]["data/rules.yml"], scaffolded["after"]["data/rules.yml"]
    assert added_lines(before, after) == [f"    - intent: {TOPIC}"]
    rules = read_yaml(scaffolded["root"] / "data" / "rules.yml")["rules"]
    responding = [rule for rule in rules if {"action": "action_respond"} in rule["steps"]]
    assert len(responding) == 1
    assert {"intent": TOPIC} in responding[0]["steps"][0]["or"]


def test_a_training_file_with_placeholders_and_the_reason_for_twenty(scaffolded: Dict[str, Any]) -> None:
    path = scaffolded["root"] / "data" / "nlu" / f"{TOPIC}.yml"
    examples = nlu_examples(path)
    assert list(examples) == [TOPIC]
    assert len(examples[TOPIC]) >= 20
    assert all(MARKER in example for example in examples[TOPIC])
    comments = " ".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    assert "at least" in comments and "20" in comments and "own words" in comments
    assert read_yaml(path)["version"] == read_yaml(NLU_DATA / "pump.yml")["version"]


def test_held_out_placeholders_are_appended(scaffolded: Dict[str, Any]) -> None:
    before, after = scaffolded["before"]["tests/nlu/test_nlu.yml"], scaffolded["after"]["tests/nlu/test_nlu.yml"]
    assert after.startswith(before)
    held_out = nlu_examples(scaffolded["root"] / "tests" / "nlu" / "test_nlu.yml")
    assert len(held_out[TOPIC]) >= 5
    assert all(MARKER in example for example in held_out[TOPIC])
    assert {intent: texts for intent, texts in held_out.items() if intent != TOPIC} == nlu_examples(
        HELD_OUT_NLU
    )


def test_the_answer_is_last_unreviewed_and_loads(scaffolded: Dict[str, Any]) -> None:
    before, after = scaffolded["before"]["content/answers.yml"], scaffolded["after"]["content/answers.yml"]
    added_lines(before, after)  # only additions
    raw, old = yaml.safe_load(after), yaml.safe_load(before)
    assert list(raw["answers"]) == [*old["answers"], TOPIC]
    assert raw["replies"] == old["replies"]
    entry = raw["answers"][TOPIC]
    assert set(entry) == {"title", "text", "sources", "related"}  # no review: not served until approved
    assert after.index(f"\n  {TOPIC}:\n    title: ") < after.index("\nreplies:")
    assert "    text: >-\n" in after[after.index(f"\n  {TOPIC}:") :]

    content = load_content(scaffolded["root"] / "content")
    answer = content.answers[TOPIC]
    assert answer.title == TITLE
    assert MARKER in answer.text
    assert [(citation.source.id, citation.section) for citation in answer.citations] == [(SOURCE, SECTION)]
    assert answer.related == ()


def test_a_story_is_appended(scaffolded: Dict[str, Any]) -> None:
    before, after = scaffolded["before"]["tests/test_stories.yml"], scaffolded["after"]["tests/test_stories.yml"]
    assert after.startswith(before)
    story = read_yaml(scaffolded["root"] / "tests" / "test_stories.yml")["stories"][-1]
    assert story["story"] == f"{TOPIC} is answered"
    user, respond = story["steps"]
    assert MARKER in user["user"] and user["intent"] == TOPIC
    assert respond == {"action": "action_respond"}


def test_only_the_topics_files_change_and_the_checklist_says_what_next(scaffolded: Dict[str, Any]) -> None:
    before, after = scaffolded["before"], scaffolded["after"]
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {
        "domain.yml",
        "data/rules.yml",
        f"data/nlu/{TOPIC}.yml",
        "tests/nlu/test_nlu.yml",
        "content/answers.yml",
        "tests/test_stories.yml",
    }
    assert set(before) <= set(after)
    out = scaffolded["out"]
    assert f'make approve ANSWER={TOPIC} REVIEWER="..."' in out
    assert "make test" in out and MARKER in out and "related" in out
    assert len(out.splitlines()) <= 8


def test_the_placeholder_check_names_every_file_the_scaffold_leaves_work_in(scaffolded: Dict[str, Any]) -> None:
    left = placeholders_left(scaffolded["root"])
    files = {entry.split(":")[0] for entry in left}
    assert files == {f"data/nlu/{TOPIC}.yml", "tests/nlu/test_nlu.yml", "content/answers.yml", "tests/test_stories.yml"}
    assert len(left) >= 20 + 5 + 2


def test_running_twice_is_refused(scaffolded: Dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(scaffolded["root"]) == 2
    assert TOPIC in capsys.readouterr().err
    assert snapshot(scaffolded["root"]) == scaffolded["after"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"topic": "PumpMRI"}, "lower_snake_case"),
        ({"topic": "pump-mri"}, "lower_snake_case"),
        ({"topic": "pump__mri"}, "lower_snake_case"),
        ({"topic": "2nd_pump"}, "lower_snake_case"),
        ({"topic": "pump_refill"}, "domain.yml"),
        ({"topic": "unreachable"}, "content/answers.yml"),  # a reply, not an intent
        ({"topic": "nlu_fallback"}, "Rasa"),
        ({"title": " "}, "title"),
        ({"source": "nhs_leaflet"}, "add it there"),
        ({"section": "Key points"}, "What happens after a successful trial?"),
    ],
)
def test_refusals_change_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], arguments: Dict[str, str], expected: str
) -> None:
    before = snapshot(repo)
    assert run(repo, **arguments) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert expected in captured.err
    assert snapshot(repo) == before


def test_an_unknown_section_lists_every_valid_one(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(repo, section="Nowhere") == 2
    message = capsys.readouterr().err
    for section in read_yaml(CONTENT_DIR / "sources.yml")["sources"][SOURCE]["sections"]:
        assert f'"{section}"' in message


def test_an_existing_training_file_is_not_overwritten(repo: Path) -> None:
    existing = repo / "data" / "nlu" / f"{TOPIC}.yml"
    existing.write_text("# someone's work in progress\n", encoding="utf-8")
    assert run(repo) == 2
    assert existing.read_text(encoding="utf-8") == "# someone's work in progress\n"


def test_filled_in_scaffold_passes_rasa_validation(tmp_path: Path) -> None:
    """Rasa's own check of domain, rules and training data, once the examples are written (about 10 s)."""
    root = copy_repo(tmp_path / "repo", extra=["config.yml"])
    assert run(root) == 0
    training = root / "data" / "nlu" / f"{TOPIC}.yml"
    questions = "".join(f"    - {question}\n" for question in MRI_QUESTIONS)
    training.write_text(re.sub(r"(?m)^    - .*\n", "", training.read_text(encoding="utf-8")) + questions, "utf-8")
    assert nlu_examples(training)[TOPIC] == MRI_QUESTIONS

    completed = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings"],
        cwd=root,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def test_no_new_topic_placeholders_are_left() -> None:
    left = placeholders_left(ROOT)
    assert not left, f"Replace every {MARKER} left by `make new-topic`:\n" + "\n".join(left)
