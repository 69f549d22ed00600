"""Choosing how the classifier reads a long message, by cross-validation on the training data alone.

    .venv/bin/python -m bench.cross_validation [--folds 5] [--extra data-file.yml ...]

The pipeline's features and classifier (word and character TF-IDF, all-MiniLM-L6-v2 embeddings
weighted 2, logistic regression with C=100) are rebuilt here with scikit-learn and numpy, so each
way of reading a message can be scored in seconds on the same folds:

- `whole`: the message as one text (what the pipeline did before);
- `spellings`: the same after content/spellings.yml has put the domain's words right;
- `questions: ...`: the sentences that ask (nlu/sentences.py) are classified on their own as well,
  and their probabilities combined with the whole message's in one of several ways.

Reported per variant: macro-F1 and accuracy over all held-out folds, and accuracy on the examples
of more than one sentence (where the variants differ). No evaluation set is read: only data/nlu/
(and any --extra training files).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import numpy as np
import scipy.sparse

from nlu.examples import nlu_examples
from nlu.intent_classifier import combine as shipped_combine
from nlu.sentences import questions, sentences
from paths import all_nlu_data

C = 100.0
EMBEDDING_WEIGHT = 2.0
# config.yml's FallbackClassifier: below this confidence, or this close to the runner-up, the bot asks
# "Did you mean ...?" instead of answering, so a right guess at low confidence is not an answer.
FALLBACK_THRESHOLD = 0.5
AMBIGUITY_THRESHOLD = 0.1
Combine = Callable[[np.ndarray, List[np.ndarray]], np.ndarray]


def combine_last(whole: np.ndarray, asked: List[np.ndarray]) -> np.ndarray:
    """The last question asked, averaged with the whole message."""
    return (whole + asked[-1]) / 2 if asked else whole


def combine_questions(whole: np.ndarray, asked: List[np.ndarray]) -> np.ndarray:
    """The questions only (their average), the whole message only when nothing asks."""
    return np.mean(asked, axis=0) if asked else whole


def combine_shipped(whole: np.ndarray, asked: List[np.ndarray]) -> np.ndarray:
    """What nlu/intent_classifier.py does: the most confident of the whole and each question."""
    return shipped_combine(whole, asked)[0]


def combine_mean(whole: np.ndarray, asked: List[np.ndarray]) -> np.ndarray:
    """The whole message and every question, averaged."""
    return np.mean([whole, *asked], axis=0)


def combine_clearest_alone(whole: np.ndarray, asked: List[np.ndarray]) -> np.ndarray:
    """Of several questions, the clearest on its own; a single question averaged with the whole."""
    clearest = max(asked, key=lambda p: p.max())
    return clearest if len(asked) > 1 else (whole + clearest) / 2


def combine_clearest(whole: np.ndarray, asked: List[np.ndarray]) -> np.ndarray:
    """The whole message averaged with its clearest question, however many ask."""
    clearest = max(asked, key=lambda p: p.max())
    return (whole + clearest) / 2


VARIANTS: Dict[str, Combine | None] = {
    "whole": None,
    "questions: most confident of whole and each (shipped)": combine_shipped,
    "questions: whole and each averaged": combine_mean,
    "questions: whole averaged with the clearest": combine_clearest,
    "questions: the clearest alone of several, one averaged with the whole": combine_clearest_alone,
    "questions: whole averaged with the last": combine_last,
    "questions: questions only": combine_questions,
}


def folds_of(count: int, folds: int, seed: int = 0) -> List[np.ndarray]:
    order = np.random.default_rng(seed).permutation(count)
    return [order[i::folds] for i in range(folds)]


def run(texts: Sequence[str], intents: Sequence[str], folds: int, normalise: Callable[[str], str]) -> Dict[str, Dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    from nlu.minilm import installed_model, shared_model
    from nlu.tfidf import new_vectorizer

    encoder = shared_model(installed_model())
    texts = [normalise(text) for text in texts]
    asked = [questions(text) for text in texts]
    unique = sorted({*texts, *(q for qs in asked for q in qs)})
    vectors = dict(zip(unique, encoder.encode(unique) * EMBEDDING_WEIGHT, strict=True))
    labels = np.array(intents)
    predicted: Dict[str, List[str]] = {name: [""] * len(texts) for name in VARIANTS}
    answered: Dict[str, List[bool]] = {name: [False] * len(texts) for name in VARIANTS}  # past the fallback
    for held in folds_of(len(texts), folds):
        train = np.setdiff1d(np.arange(len(texts)), held)
        tfidf = new_vectorizer().fit([texts[i] for i in train])

        def features(batch: List[str], tfidf: object = tfidf) -> scipy.sparse.csr_matrix:
            dense = scipy.sparse.csr_matrix(np.array([vectors[text] for text in batch]))
            return scipy.sparse.hstack([tfidf.transform(batch), dense]).tocsr()  # each block unit length

        model = LogisticRegression(C=C, max_iter=3000).fit(features([texts[i] for i in train]), labels[train])
        whole = model.predict_proba(features([texts[i] for i in held]))
        for row, index in enumerate(held):
            asked_probs = list(model.predict_proba(features(asked[index]))) if asked[index] else []
            for name, combine in VARIANTS.items():
                probs = whole[row] if combine is None or not asked_probs else combine(whole[row], asked_probs)
                predicted[name][index] = model.classes_[int(np.argmax(probs))]
                top, runner_up = np.sort(probs)[::-1][:2]
                answered[name][index] = top >= FALLBACK_THRESHOLD and top - runner_up >= AMBIGUITY_THRESHOLD
    several = [i for i, text in enumerate(texts) if len(sentences(text)) > 1]

    def rate(name: str, which: Sequence[int], past_fallback: bool) -> float:
        right = [predicted[name][i] == labels[i] and (answered[name][i] or not past_fallback) for i in which]
        return float(np.mean(right)) if which else 0.0

    return {
        name: {
            "macro_f1": float(f1_score(labels, guesses, average="macro")),
            "accuracy": float(accuracy_score(labels, guesses)),
            "several_sentences": rate(name, several, past_fallback=False),
            "several_answered": rate(name, several, past_fallback=True),
            "answered": rate(name, range(len(texts)), past_fallback=True),
            "several_count": len(several),
        }
        for name, guesses in predicted.items()
    }


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--extra", type=Path, nargs="*", default=[], help="more training files to include")
    args = parser.parse_args(argv)
    examples = nlu_examples(*all_nlu_data(), *args.extra)
    texts = [text for values in examples.values() for text in values]
    intents = [intent for intent, values in examples.items() for _ in values]
    from nlu.spellings import Spellings

    spellings = Spellings.from_file()
    print(f"{len(texts)} training examples, {len(examples)} intents, {args.folds} folds", file=sys.stderr)
    print(
        "| reading | spellings | macro-F1 | accuracy | answered right (past the fallback) | several sentences: right "
        "| several sentences: answered right |\n|---|---|---|---|---|---|---|"
    )
    for label, normalise in (("no", lambda text: text), ("yes", spellings.normalise)):
        for name, result in run(texts, intents, args.folds, normalise).items():
            print(
                f"| {name} | {label} | {result['macro_f1']:.3f} | {result['accuracy']:.3f} | "
                f"{result['answered']:.3f} | "
                f"{result['several_sentences']:.3f} (n={result['several_count']}) | {result['several_answered']:.3f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
