"""Write minilm_reference.json: what sentence-transformers itself makes of a few awkward sentences.

tests/test_bench_baselines.py holds nlu/minilm.py (numpy, no torch) to these token ids and embeddings, so
our re-implementation is checked against the real library once, without the project ever needing torch.

Not run by the tests, and not in the project's virtualenv: run it by hand in a throwaway one, e.g.

    python3.11 -m venv /tmp/st-venv
    /tmp/st-venv/bin/pip install torch==2.13.0 sentence-transformers   # pin torch: a CPU wheel, not CUDA's gigabytes
    /tmp/st-venv/bin/python tests/bench_reference/make_minilm_reference.py .cache/bench/all-MiniLM-L6-v2

where the argument is the model folder that nlu.minilm.ensure_model extracted (the project's cache).
"""

from __future__ import annotations

import argparse
import json
from importlib.metadata import version
from pathlib import Path

from sentence_transformers import SentenceTransformer

OUT = Path(__file__).with_name("minilm_reference.json")

# Each one tries a different part of the tokenizer or the encoder.
LONG_MESSAGE = " ".join(
    ["my daughter had her itb pump refilled on tuesday and since then she has been really floppy and sleepy,"]
    + ["the nurse said to watch her breathing and call if anything changes but i am not sure what counts."] * 14
)
SENTENCES = [
    "wat is baclofen",  # a typo: WordPiece splits the unknown word
    "can u get baclofen as a liquid??",  # texting style, repeated punctuation
    "my sons pump alarm keeps beeping what do i do",
    LONG_MESSAGE,  # longer than max_seq_length (256 tokens): truncated
    "Café naïve — is the pump's dose OK?!",  # accents to strip, capitals, an em dash and apostrophe
    "?",  # nothing but punctuation
    "ITB trial: 50mcg @ 9am, then 100µg (2x/day) #help",  # numbers, symbols, a micro sign
    "  lots   of\tspaces\nand\r\nnewlines  ",  # whitespace of every kind
    "巴氯芬是什么 😊",  # CJK characters split one by one; an emoji the vocabulary lacks ([UNK])
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="the extracted all-MiniLM-L6-v2 folder")
    model = SentenceTransformer(str(parser.parse_args().model_dir), device="cpu")
    # What encode() feeds the network, truncated at the model's max_seq_length (`tokenize` before version 6).
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    token_ids = [preprocess([sentence])["input_ids"][0].tolist() for sentence in SENTENCES]
    embeddings = model.encode(SENTENCES, batch_size=4, convert_to_numpy=True)
    reference = {
        "made_with": {name: version(name) for name in ("sentence-transformers", "transformers", "tokenizers", "torch")},
        "max_seq_length": model.max_seq_length,
        "sentences": [
            {"text": text, "input_ids": ids, "embedding": [round(float(value), 6) for value in vector]}
            for text, ids, vector in zip(SENTENCES, token_ids, embeddings, strict=True)
        ],
    }
    # One line per sentence: readable in a diff without 384 lines of floats each.
    lines = ",\n  ".join(json.dumps(item, ensure_ascii=False) for item in reference.pop("sentences"))
    header = json.dumps(reference, ensure_ascii=False)[:-1]
    OUT.write_text(f'{header}, "sentences": [\n  {lines}\n]}}\n', encoding="utf-8")
    print(f"Wrote {len(SENTENCES)} sentences to {OUT}")


if __name__ == "__main__":
    main()
