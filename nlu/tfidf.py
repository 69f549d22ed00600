"""Word and character TF-IDF features: what the parent actually typed, typos included.

Rasa's CountVectorsFeaturizer gives raw counts, on which a linear classifier weighs a long message's
words more than a short one's. Here each block (word 1-2-grams; character 2-5-grams within words, so
"refil", "siezure" and "baclafen" still share most of their features with the right word) uses
sublinear term frequency and is scaled to unit length, as a search engine would. Only sentence
features: the classifier (nlu/intent_classifier.py) reads whole messages.

scikit-learn fits and stores the vectorizer; a message's row is then built by `TfidfRows` from the fitted
vocabularies and weights, with the same arithmetic. `FeatureUnion.transform` on one short message spent
about 1 ms in joblib, input checks and sparse-matrix conversions for a few dozen non-zeros
(docs/performance.md); tests/test_pipeline_components.py checks the rows equal scikit-learn's.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence

import joblib
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from nlu.reading import read_text, with_questions

# Words are runs of letters and digits, one character included: parents write "u", "r" and "2" for words.
WORD_PATTERN = r"(?u)\b\w+\b"
FILE_NAME = "tfidf.joblib"


def new_vectorizer() -> FeatureUnion:
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=WORD_PATTERN)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )


@dataclass(frozen=True)
class _Block:
    """One fitted TfidfVectorizer, as its transform uses it: features, their columns and weights."""

    analyze: Callable[[str], List[str]]
    columns: Dict[str, int]
    idf: np.ndarray
    sublinear: bool
    offset: int  # where this block's columns start in the union's row


class TfidfRows:
    """The fitted union's `transform`, without scikit-learn's per-call overhead.

    Per block, as TfidfVectorizer does it: count the vocabulary's features in the text, take
    1 + log(count) (sublinear) or the count, multiply by the feature's idf, scale the block to unit
    length; then the blocks side by side, as FeatureUnion stacks them. Only for what `new_vectorizer`
    makes; `supports` says whether a fitted union is that, and the featurizer falls back to
    scikit-learn's own transform for anything else.
    """

    def __init__(self, union: FeatureUnion) -> None:
        self.blocks: List[_Block] = []
        offset = 0
        for _, vectorizer in union.transformer_list:
            analyze, columns = vectorizer.build_analyzer(), vectorizer.vocabulary_
            self.blocks.append(_Block(analyze, columns, vectorizer.idf_, vectorizer.sublinear_tf, offset))
            offset += len(vectorizer.vocabulary_)
        self.width = offset

    @staticmethod
    def supports(union: FeatureUnion) -> bool:
        return union.transformer_weights is None and all(
            isinstance(vectorizer, TfidfVectorizer)
            and vectorizer.norm == "l2"
            and vectorizer.use_idf
            and not vectorizer.binary
            and vectorizer.dtype == np.float64
            for _, vectorizer in union.transformer_list
        )

    def row(self, text: str) -> scipy.sparse.coo_matrix:
        """The text's row of the union's transform: a 1 × width matrix, columns in order."""
        columns: List[np.ndarray] = []
        values: List[np.ndarray] = []
        for block in self.blocks:
            counts = Counter(column for column in map(block.columns.get, block.analyze(text)) if column is not None)
            if not counts:
                continue
            found = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            order = np.argsort(found)
            weights = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))[order]
            found = found[order]
            if block.sublinear:
                weights = np.log(weights) + 1.0
            weights *= block.idf[found]
            # scikit-learn adds the squares one by one, from the last column to the first (the order
            # scipy's product with the idf diagonal leaves them in): the same order gives the same bits.
            total = 0.0
            for weight in weights[::-1].tolist():
                total += weight * weight
            weights /= math.sqrt(total)
            columns.append(found + block.offset)
            values.append(weights)
        found = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        return scipy.sparse.coo_matrix(
            (np.concatenate(values) if values else np.zeros(0), (np.zeros(len(found), dtype=np.int64), found)),
            shape=(1, self.width),
        )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class TfidfFeaturizer(SparseFeaturizer, GraphComponent):
    """Learns the vocabulary and its weights from the training examples; adds one sparse row per message."""

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        pass

    def __init__(
        self,
        config: Dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
        vectorizer: FeatureUnion | None = None,
    ) -> None:
        super().__init__(name, config)
        self.model_storage = model_storage
        self.resource = resource
        self.vectorizer = vectorizer

    @property
    def vectorizer(self) -> FeatureUnion | None:
        return self._vectorizer

    @vectorizer.setter
    def vectorizer(self, vectorizer: FeatureUnion | None) -> None:
        self._vectorizer = vectorizer
        self._rows = TfidfRows(vectorizer) if vectorizer is not None and TfidfRows.supports(vectorizer) else None

    def rows(self, texts: Sequence[str]) -> List[scipy.sparse.coo_matrix]:
        """One sparse 1 × width row per text."""
        if self._rows is not None:
            return [self._rows.row(text) for text in texts]
        rows = scipy.sparse.csr_matrix(self._vectorizer.transform(texts))
        return [rows[index].tocoo() for index in range(len(texts))]

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfFeaturizer:
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts = [read_text(example) for example in training_data.training_examples if example.get(TEXT)]
        self.vectorizer = new_vectorizer().fit(texts)
        with self.model_storage.write_to(self.resource) as directory:
            joblib.dump(self.vectorizer, directory / FILE_NAME)
        return self.resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfFeaturizer:
        with model_storage.read_from(resource) as directory:
            vectorizer = joblib.load(directory / FILE_NAME)
        return cls(config, execution_context.node_name, model_storage, resource, vectorizer)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [message for message in with_questions(messages) if message.get(TEXT)]
        if not with_text or self.vectorizer is None:
            return messages
        rows = self.rows([read_text(message) for message in with_text])
        for message, row in zip(with_text, rows, strict=True):
            self.add_features_to_message(sequence=None, sentence=row, attribute=TEXT, message=message)
        return messages
