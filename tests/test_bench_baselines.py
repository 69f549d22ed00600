"""The understanding benchmark's baselines (bench/baselines.py): each does what its name says.

The numpy MiniLM behind the embedding baseline (and the pipeline) is tested in tests/test_minilm.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from bench.baselines import Baseline, BM25NearestExample, MiniLMNearestExample, TfidfLogisticRegression, all_baselines
from nlu.minilm import MiniLM, installed_model
from paths import ROOT

REFERENCE = json.loads((ROOT / "tests" / "bench_reference" / "minilm_reference.json").read_text(encoding="utf-8"))
SENTENCES = REFERENCE["sentences"]

TRAINING: Dict[str, List[str]] = {
    "pump_refill": [
        "when does the pump need a refill",
        "how often is the pump refilled",
        "who refills the baclofen pump",
        "how is the pump topped up with medicine",
    ],
    "side_effects": [
        "what are the side effects of baclofen",
        "can baclofen make him sleepy",
        "does the medicine cause drowsiness or weakness",
        "are there any risks or side effects",
    ],
    "greet": ["hello", "hi there", "good morning", "hey"],
}
# Unseen wordings; each shares a word with its intent's examples, so even word matching can get it right.
PARAPHRASES = {
    "how often does the pump get refilled": "pump_refill",
    "will baclofen make my son sleepy": "side_effects",
    "any side effects i should know about": "side_effects",
    "hi": "greet",
    "good evening": "greet",
}


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return installed_model()


@pytest.fixture(scope="module")
def model(model_dir: Path) -> MiniLM:
    return MiniLM.load(model_dir)


def fitted(baseline: Baseline) -> Baseline:
    baseline.fit(
        [text for texts in TRAINING.values() for text in texts],
        [intent for intent, texts in TRAINING.items() for _ in texts],
    )
    return baseline


def test_all_baselines_are_the_three_in_report_order(model_dir: Path) -> None:
    baselines = all_baselines()
    assert [type(baseline) for baseline in baselines] == [
        TfidfLogisticRegression,
        BM25NearestExample,
        MiniLMNearestExample,
    ]
    assert len({baseline.name for baseline in baselines}) == 3


@pytest.mark.parametrize("make", [TfidfLogisticRegression, BM25NearestExample, "minilm"])
def test_each_baseline_understands_unseen_paraphrases(make: object, model_dir: Path) -> None:
    baseline = fitted(MiniLMNearestExample() if make == "minilm" else make())
    assert baseline.predict(list(PARAPHRASES)) == list(PARAPHRASES.values())


def test_embeddings_match_meaning_without_shared_words(model_dir: Path) -> None:
    baseline = fitted(MiniLMNearestExample())
    assert baseline.predict(["is drowsiness a possible reaction to it", "howdy"]) == ["side_effects", "greet"]


def test_bm25_gives_an_intent_to_a_message_with_no_known_word() -> None:
    baseline = fitted(BM25NearestExample())
    assert baseline.predict(["xyzzy plugh", ""]) == ["pump_refill", "pump_refill"]  # the first example's


def test_bm25_prefers_the_shorter_of_two_equally_matching_examples() -> None:
    baseline = BM25NearestExample()
    baseline.fit(["the pump is noisy and keeps making a sound at night", "the pump is noisy"], ["long", "short"])
    assert baseline.predict(["noisy pump"]) == ["short"]  # without length normalisation: a tie, won by the first


def test_bm25_weighs_a_rare_word_above_a_common_one() -> None:
    baseline = BM25NearestExample()
    baseline.fit(["pump pump", "dose", "pump", "pump is noisy"], ["common twice", "rare", "common", "common noisy"])
    # Word counts alone would pick "pump pump" (two matches); "dose" is in one example, "pump" in three.
    assert baseline.predict(["pump dose"]) == ["rare"]


def test_tfidf_is_deterministic() -> None:
    first, second = fitted(TfidfLogisticRegression()), fitted(TfidfLogisticRegression())
    texts = ["refill", "sleepy", "morning", "something else entirely"]
    assert first.predict(texts) == second.predict(texts)
    assert np.array_equal(first.pipeline[-1].coef_, second.pipeline[-1].coef_)
