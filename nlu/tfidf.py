"""Word and character TF-IDF features: what the parent actually typed, typos included.

Rasa's CountVectorsFeaturizer gives raw counts, on which a linear classifier weighs a long message's
words more than a short one's. Here each block (word 1-2-grams; character 2-5-grams within words, so
"refil", "siezure" and "baclafen" still share most of their features with the right word) uses
sublinear term frequency and is scaled to unit length, as a search engine would. Only sentence
features: the classifier (nlu/intent_classifier.py) reads whole messages.
"""

from __future__ import annotations

from typing import Any, Dict, List

import joblib
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
        rows = scipy.sparse.csr_matrix(self.vectorizer.transform([read_text(message) for message in with_text]))
        for index, message in enumerate(with_text):
            self.add_features_to_message(sequence=None, sentence=rows[index].tocoo(), attribute=TEXT, message=message)
        return messages
