"""How well the trained model understands parents, on data it never trained on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bench import realistic
from bench.urgency_lists import score
from connectors.incoming import prepare
from content_library.content import load_content, read_yaml
from harness.servers import server_env
from nlu.examples import nlu_examples
from paths import HELD_OUT_NLU, REALISTIC_DEVELOPMENT, ROOT, URGENCY_LISTS, all_nlu_data

# The pipeline reaches 0.988 (docs/performance.md, at 595d6ef); a change that costs more than a few messages fails.
MIN_MACRO_F1 = 0.95
MAX_FALSE_ALARM_RATE = 0.10
URGENCY = URGENCY_LISTS


MIN_TRAINING_EXAMPLES = 20
MIN_TEST_EXAMPLES = 5


def test_every_intent_has_enough_training_and_held_out_examples(domain: Dict[str, Any]) -> None:
    training = nlu_examples(*all_nlu_data())
    held_out = nlu_examples(HELD_OUT_NLU)
    # Case and spacing don't make a new message: "what is ITB" is "what is itb".
    trained = {" ".join(text.lower().split()) for texts in training.values() for text in texts}
    for intent in domain["intents"]:
        assert len(training.get(intent, [])) >= MIN_TRAINING_EXAMPLES, intent
        assert len(held_out.get(intent, [])) >= MIN_TEST_EXAMPLES, intent
        repeated = [text for text in held_out[intent] if " ".join(text.lower().split()) in trained]
        assert not repeated, f"{intent}: held-out examples also trained on: {repeated}"


def evaluation_texts(path: Path) -> List[str]:
    """Every message of an evaluation file, whichever of the project's shapes it has."""
    data = read_yaml(path)
    if "nlu" in data:
        return [text for texts in nlu_examples(path).values() for text in texts]
    items = [*data.get("urgent", []), *data.get("calm", []), *data.get("messages", [])]
    items += [message for entry in data.get("items", []) for message in entry["messages"]]
    return [item["text"] for item in items]


# Every evaluation set but the two regression lists of the red flags, which were written alongside the
# phrases and the training data and were never blind (docs/understanding.md): the benchmark doesn't use them.
NOT_BLIND = ("urgent_messages.yml", "calm_messages.yml")
EVALUATION_FILES = sorted(
    path for path in [*HELD_OUT_NLU.parent.glob("*.yml"), *URGENCY_LISTS.glob("*.yml")] if path.name not in NOT_BLIND
)


@pytest.mark.parametrize("path", EVALUATION_FILES, ids=[path.name for path in EVALUATION_FILES])
def test_no_evaluation_message_is_also_a_training_example(path: Path) -> None:
    trained = {" ".join(text.lower().split()) for texts in nlu_examples(*all_nlu_data()).values() for text in texts}
    texts = evaluation_texts(path)
    assert texts, f"{path.name} has no messages"
    repeated = [text for text in texts if " ".join(text.lower().split()) in trained]
    assert not repeated, f"{path.name}: also trained on: {repeated}"


def test_held_out_intent_macro_f1(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "nlu"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "nlu",
            "--nlu",
            "tests/nlu/test_nlu.yml",
            "--model",
            str(model_path),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = json.loads((out / "intent_report.json").read_text())
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"held-out intents: macro-F1 {macro_f1:.3f}, accuracy {report['accuracy']:.3f}")
    assert macro_f1 >= MIN_MACRO_F1


@pytest.fixture(scope="module")
def urgency_score(parse: Any) -> Any:
    result = score(
        parse,
        read_yaml(URGENCY / "urgent_messages.yml")["urgent"],
        read_yaml(URGENCY / "calm_messages.yml")["calm"],
    )
    print(result.report())
    return result


def test_every_urgent_message_gets_the_urgent_reply(urgency_score: Any) -> None:
    assert urgency_score.urgent_total >= 50
    assert urgency_score.missed == []


def test_every_life_threatening_message_gets_call_000(urgency_score: Any) -> None:
    assert urgency_score.under_triaged == []


def test_calm_questions_rarely_raise_a_false_alarm(urgency_score: Any) -> None:
    assert urgency_score.calm_total >= 30
    rate = len(urgency_score.false_alarms) / urgency_score.calm_total
    assert rate <= MAX_FALSE_ALARM_RATE, urgency_score.false_alarms


def test_the_two_examples_from_the_brief_get_their_answers(parse: Any) -> None:
    assert parse("does the pump medicine ever cause headaches?")["intent"]["name"] == "side_effects"
    assert parse("a friend said stopping baclofen causes withdrawal, is that true?")["intent"]["name"] == "withdrawal"


# The development set of parents' real writing (bench/realistic.py): what this pipeline reached on it, less a
# little, so that a change that loses ground fails. The targets, on the blind final set, are in
# docs/understanding.md; every urgent message and every bare cry for help must get the number, always.
MIN_REALISTIC_FACTS_RIGHT = 0.90
MAX_REALISTIC_WRONG = 0.03
MAX_REALISTIC_FALSE_ALARMS = 0.03


@pytest.fixture(scope="module")
def realistic_scores(parse: Any) -> Any:
    messages = [message for path in REALISTIC_DEVELOPMENT for message in realistic.read_messages(path)]
    predicted = [parse(prepare(message.text).text)["intent"]["name"] for message in messages]
    scores = realistic.score(messages, predicted, load_content().answers)
    print("\n".join(scores.misses))
    return scores


def test_parents_real_writing_gets_its_answers(realistic_scores: Any) -> None:
    scores = realistic_scores
    assert scores.facts >= 100
    assert scores.facts_right / scores.facts >= MIN_REALISTIC_FACTS_RIGHT
    assert scores.facts_wrong / scores.facts <= MAX_REALISTIC_WRONG


def test_parents_real_writing_raises_few_false_alarms(realistic_scores: Any) -> None:
    assert realistic_scores.false_alarms.rate <= MAX_REALISTIC_FALSE_ALARMS


def test_every_urgent_message_and_every_bare_cry_for_help_in_parents_real_writing_gets_the_number(
    realistic_scores: Any,
) -> None:
    assert realistic_scores.urgent_caught.right == realistic_scores.urgent_caught.total >= 40
    assert realistic_scores.bare_cries.right == realistic_scores.bare_cries.total >= 4
