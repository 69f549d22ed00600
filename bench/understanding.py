"""How well each system understands parents, on messages none of them was trained on.

Every system learns from the same training examples (data/nlu/) and is scored on:
  - the held-out NLU test set (tests/nlu/test_nlu.yml): intent accuracy and macro-F1;
  - urgency: the test set's `urgent` and `emergency` messages plus the urgent half of
    tests/urgency/blind_messages_2.yml must be flagged (recall); the test set's other messages
    plus that file's calm half must not be (false alarms). Only the blind file's second list is
    used: the other urgency lists were written alongside the red flags and would flatter them.

A Rasa system's intent is the one its classifier ranked first: when FallbackClassifier turns
a low-confidence guess into `nlu_fallback` (the bot then asks "Did you mean ...?"), the guess
underneath is scored, and how often that happened is reported beside it. Urgency is the final
intent, red flags and all: that is what decides whether the parent gets the on-call number.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from bench import realistic
from bench.training import rasa_train
from connectors.incoming import prepare
from content_library.content import load_content, read_yaml
from harness.model import load_parser, quiet_logs
from nlu.examples import nlu_examples
from paths import CONFIG, HELD_OUT_NLU, NLU_DATA, REALISTIC, URGENCY_LISTS, all_nlu_data

BLIND_URGENCY = URGENCY_LISTS / "blind_messages_2.yml"
URGENT_INTENTS = ("urgent", "emergency")
FALLBACK = "nlu_fallback"

# What `rasa init` writes: an empty pipeline and policies, which Rasa fills with its default
# pipeline at training time (and says so in its log).
RASA_INIT_CONFIG = "recipe: default.v1\nassistant_id: rasa-init-default\nlanguage: en\npipeline:\npolicies:\n"


@dataclass
class Labelled:
    texts: List[str]
    intents: List[str]


@dataclass
class EvaluationData:
    training: Labelled
    test: Labelled
    urgent: List[str]  # must get the on-call number
    calm: List[str]  # must not
    realistic: List[realistic.Message] = field(default_factory=list)  # as parents really write

    @property
    def realistic_texts(self) -> List[str]:
        """What the model reads of each, after the channels' guard (connectors/incoming.py) has read it."""
        return [prepare(message.text).text for message in self.realistic]


def labelled(examples: Dict[str, List[str]]) -> Labelled:
    pairs = [(text, intent) for intent, texts in examples.items() for text in texts]
    return Labelled([text for text, _ in pairs], [intent for _, intent in pairs])


def evaluation_data() -> EvaluationData:
    test = labelled(nlu_examples(HELD_OUT_NLU))
    blind = read_yaml(BLIND_URGENCY)
    urgent = [text for text, intent in zip(test.texts, test.intents, strict=True) if intent in URGENT_INTENTS]
    calm = [text for text, intent in zip(test.texts, test.intents, strict=True) if intent not in URGENT_INTENTS]
    return EvaluationData(
        training=labelled(nlu_examples(*all_nlu_data())),
        test=test,
        urgent=urgent + [item["text"] for item in blind["urgent"]],
        calm=calm + [item["text"] for item in blind["calm"]],
        realistic=realistic.read_messages(REALISTIC) if REALISTIC.exists() else [],
    )


@dataclass
class Predictions:
    """One system's answers for the evaluation data, and how long it took to learn."""

    system: str
    train_seconds: float
    test: List[str]  # the intent understood for each test message
    urgent_flagged: List[bool]
    calm_flagged: List[bool]
    asked_instead: int | None = None  # test messages that became "Did you mean ...?" (Rasa systems only)
    # The reply each realistic message gets: the final intent (urgency and the fallback included).
    realistic: List[str] = field(default_factory=list)


@dataclass
class Scores:
    system: str
    train_seconds: float
    accuracy: float
    macro_f1: float
    urgent_recall: float
    urgent_caught: int
    urgent_total: int
    false_alarm_rate: float
    false_alarms: int
    calm_total: int
    asked_instead: int | None
    per_intent_f1: Dict[str, float] = field(default_factory=dict)
    realistic: Dict = field(default_factory=dict)  # bench/realistic.py's scores, as a dict


def score(predictions: Predictions, data: EvaluationData) -> Scores:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(data.test.intents))
    per_intent = f1_score(data.test.intents, predictions.test, labels=labels, average=None, zero_division=0)
    caught, alarms = sum(predictions.urgent_flagged), sum(predictions.calm_flagged)
    return Scores(
        system=predictions.system,
        train_seconds=predictions.train_seconds,
        accuracy=float(accuracy_score(data.test.intents, predictions.test)),
        macro_f1=float(per_intent.mean()),
        urgent_recall=caught / len(data.urgent),
        urgent_caught=caught,
        urgent_total=len(data.urgent),
        false_alarm_rate=alarms / len(data.calm),
        false_alarms=alarms,
        calm_total=len(data.calm),
        asked_instead=predictions.asked_instead,
        per_intent_f1={label: round(float(value), 4) for label, value in zip(labels, per_intent, strict=True)},
        realistic=realistic_scores(predictions, data),
    )


def realistic_scores(predictions: Predictions, data: EvaluationData) -> Dict:
    if not data.realistic:
        return {}
    scored = realistic.score(data.realistic, predictions.realistic, load_content().answers)
    result = scored.as_dict()
    del result["misses"]  # quoted in full only by the tests, not in the published report
    return result


def train_rasa_nlu(config: Path, out_dir: Path) -> Tuple[Path, float]:
    """`rasa train nlu` with `config` from scratch: the model and the seconds it took."""
    seconds = rasa_train(["nlu", "--config", str(config), "--nlu", str(NLU_DATA)], out_dir)
    return out_dir / "model.tar.gz", seconds


def understood(parsed: Dict) -> str:
    """The classifier's own first choice, under a fallback if FallbackClassifier put one on top."""
    if parsed["intent"]["name"] != FALLBACK:
        return parsed["intent"]["name"]
    ranked = [intent["name"] for intent in parsed.get("intent_ranking") or [] if intent["name"] != FALLBACK]
    return ranked[0] if ranked else FALLBACK


def rasa_predictions(system: str, config: Path, data: EvaluationData, workdir: Path) -> Predictions:
    model, seconds = train_rasa_nlu(config, workdir)
    quiet_logs()
    parse = load_parser(model)

    def parsed(texts: Sequence[str]) -> List[Dict]:
        return [parse(text) for text in texts]

    test = parsed(data.test.texts)
    return Predictions(
        system=system,
        train_seconds=seconds,
        test=[understood(result) for result in test],
        urgent_flagged=[result["intent"]["name"] in URGENT_INTENTS for result in parsed(data.urgent)],
        calm_flagged=[result["intent"]["name"] in URGENT_INTENTS for result in parsed(data.calm)],
        asked_instead=sum(result["intent"]["name"] == FALLBACK for result in test),
        realistic=[result["intent"]["name"] for result in parsed(data.realistic_texts)],
    )


def baseline_predictions(baseline: object, data: EvaluationData) -> Predictions:
    started = time.perf_counter()
    baseline.fit(data.training.texts, data.training.intents)
    seconds = time.perf_counter() - started

    def flagged(texts: Sequence[str]) -> List[bool]:
        return [intent in URGENT_INTENTS for intent in baseline.predict(texts)]

    return Predictions(
        system=baseline.name,
        train_seconds=seconds,
        test=list(baseline.predict(data.test.texts)),
        urgent_flagged=flagged(data.urgent),
        calm_flagged=flagged(data.calm),
        realistic=list(baseline.predict(data.realistic_texts)) if data.realistic else [],
    )


SHIPPED = "this project's pipeline (config.yml)"
RASA_DEFAULT = "Rasa's default pipeline (rasa init)"


def systems() -> List[Tuple[str, Callable[[EvaluationData, Path], Predictions]]]:
    """Every system in report order, each as a function that trains it and predicts."""
    from bench.baselines import all_baselines

    def rasa_init(data: EvaluationData, workdir: Path) -> Predictions:
        config = workdir / "config.yml"
        config.write_text(RASA_INIT_CONFIG)
        return rasa_predictions(RASA_DEFAULT, config, data, workdir)

    entries: List[Tuple[str, Callable[[EvaluationData, Path], Predictions]]] = [
        (SHIPPED, lambda data, workdir: rasa_predictions(SHIPPED, CONFIG, data, workdir)),
        (RASA_DEFAULT, rasa_init),
    ]
    for baseline in all_baselines():
        entries.append((baseline.name, lambda data, _workdir, baseline=baseline: baseline_predictions(baseline, data)))
    return entries


def measure(only: Sequence[str] = ()) -> List[Predictions]:
    """Train and run every system (or those whose name contains one of `only`), one after another."""
    data = evaluation_data()
    results = []
    for name, run in systems():
        if only and not any(part.lower() in name.lower() for part in only):
            continue
        print(f"  understanding: {name} ...", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-nlu-") as workdir:
            results.append(run(data, Path(workdir)))
    return results


def draw_plots(scores: Scores, predictions: Predictions, data: EvaluationData, out_dir: Path) -> List[Path]:
    """The shipped pipeline's confusion matrix and per-intent F1, as PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(data.test.intents) | set(predictions.test))
    matrix = confusion_matrix(data.test.intents, predictions.test, labels=labels)
    figure, axes = plt.subplots(figsize=(13, 11))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("understood as")
    axes.set_ylabel("labelled")
    for row, column in zip(*matrix.nonzero(), strict=True):
        colour = "white" if matrix[row, column] > matrix.max() / 2 else "black"
        axes.text(column, row, matrix[row, column], ha="center", va="center", fontsize=7, color=colour)
    axes.set_title(f"{scores.system}: held-out test set ({len(data.test.texts)} messages)")
    figure.tight_layout()
    confusion_png = out_dir / "confusion_matrix.png"
    figure.savefig(confusion_png, dpi=110)
    plt.close(figure)

    ordered = sorted(scores.per_intent_f1.items(), key=lambda item: (item[1], item[0]))
    figure, axes = plt.subplots(figsize=(8, 10))
    axes.barh([name for name, _ in ordered], [value for _, value in ordered], color="#2b6cb0")
    axes.set_xlim(0, 1)
    axes.axvline(scores.macro_f1, color="#c05621", linestyle="--", label=f"macro-F1 {scores.macro_f1:.3f}")
    axes.set_xlabel("F1 on the held-out test set")
    axes.tick_params(axis="y", labelsize=8)
    axes.legend(loc="lower right")
    axes.set_title(f"Per-intent F1: {scores.system}")
    figure.tight_layout()
    f1_png = out_dir / "per_intent_f1.png"
    figure.savefig(f1_png, dpi=110)
    plt.close(figure)
    return [confusion_png, f1_png]
