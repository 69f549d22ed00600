"""Sentence features from all-MiniLM-L6-v2: parents' words matched on meaning, not only on spelling.

The word and character features (nlu/tfidf.py) need the parent to use a word the training
examples use; "the thing in his tummy keeps beeping" shares few with "the pump alarm is going
off". A small pretrained sentence encoder closes that gap. Chosen by cross-validation on the
training examples alone (5 folds, macro-F1): TF-IDF features with logistic regression 0.76;
with these embeddings added 0.88 (at `weight` 2). docs/performance.md has the held-out figures.

The encoder is numpy (nlu/minilm.py): no TensorFlow or torch, about 20 ms of one core for a
short message (docs/performance.md has the profile). Its weights are not stored in the trained
model: they come with the environment (`make install`), like a spaCy model, and are loaded once
per process.
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.minilm import MiniLM, installed_model
from nlu.minilm_onnx import ONNX, RUNTIMES, OnnxMiniLM, shared_encoder
from nlu.reading import read_text, with_questions

WEIGHT = "weight"
RUNTIME = "runtime"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one dense sentence feature vector per message text: its MiniLM embedding times `weight`."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # The embedding is a unit vector and each TF-IDF block a unit vector too: `weight` sets how
        # much meaning counts against wording in the classifier (2 was the best of 1, 2 by cross-validation).
        # `runtime`: how the encoder runs (nlu/minilm_onnx.py); training and serving use the same one.
        return {**DenseFeaturizer.get_default_config(), WEIGHT: 2.0, RUNTIME: ONNX}

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if not float(config.get(WEIGHT, 0)) > 0:
            raise ValueError(f"{cls.__name__}: `{WEIGHT}` must be a positive number")
        if config.get(RUNTIME, ONNX) not in RUNTIMES:
            raise ValueError(f"{cls.__name__}: `{RUNTIME}` must be one of {RUNTIMES}")

    def __init__(self, config: Dict[str, Any], name: str, model: MiniLM | OnnxMiniLM) -> None:
        super().__init__(name, config)
        self.weight = float(config[WEIGHT])
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context.node_name, shared_encoder(installed_model(), config[RUNTIME]))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [message for message in with_questions(messages) if message.get(TEXT)]
        if not with_text:
            return messages
        vectors = self.model.encode([read_text(message) for message in with_text]) * np.float32(self.weight)
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(sequence=None, sentence=vector[np.newaxis, :], attribute=TEXT, message=message)
        return messages
