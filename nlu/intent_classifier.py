"""Rasa's LogisticRegressionClassifier, with the regularisation this bot's data needs, reading the questions too.

Rasa 3.6's classifier fixes C=1 and 100 iterations. On unit-length TF-IDF rows plus a sentence
embedding, with about 30 examples an intent, that underfits: by 5-fold cross-validation on the
training examples (macro-F1), TF-IDF alone gave 0.67 at C=1, 0.74 at C=10 and 0.76 at C=100; with
the embeddings (weight 2), 0.880 at C=10 and 0.885 at C=100. So C is a setting here,
and the solver may run until it converges. Classes are not re-weighted (Rasa's uses "balanced"),
as in that cross-validation: the intent with the most examples is `urgent`, so any lean goes
towards the on-call number. Training, ranking, saving with skops and loading are Rasa's.

A message of several sentences is also read question by question (nlu/reading.py finds the
sentences that ask, and splits two questions joined by "and"). Its ranking is that of the most
confident reading: the whole message, or one of its questions on its own. Chosen by 5-fold
cross-validation on the training data (`python -m bench.cross_validation`, spellings put right),
counting what the parent gets: a right intent that the FallbackClassifier then turns into "Did you
mean ...?" is not an answer. Of the 424 several-sentence examples this answered 0.925 right, against
0.913 for the whole message alone; averaging the readings scored higher on bare accuracy but lower
confidence made it ask instead of answer (0.880). Overall macro-F1 was 0.910 either way. When another
question of the message is clearly about something else (`SECOND_QUESTION_CONFIDENCE`), its intent is
kept as the entity `second_question`: the answer then offers it as a button (actions/messages.py).
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import scipy.special
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from sklearn.linear_model import LogisticRegression

from nlu.reading import QUESTIONS

C = "C"
SECOND_QUESTION_ENTITY = "second_question"
# A second question counts when the classifier is at least this sure of it: the fallback's own threshold.
SECOND_QUESTION_CONFIDENCE = 0.5
# Never offered as "your other question": the urgency check decides those.
NOT_A_SECOND_QUESTION = frozenset({"urgent", "emergency"})


def combine(
    whole: np.ndarray, asked: Sequence[np.ndarray], keep: Sequence[int] = ()
) -> Tuple[np.ndarray, int | None]:
    """The message's probabilities, and which question (an index into `asked`) was the clearest.

    The most confident reading: the whole message, or one of its questions on its own. The classes in
    `keep` (urgent and emergency) keep at least the whole message's probability: a question read on its
    own must never hide what the rest of the message says is happening.
    """
    if not len(asked):
        return whole, None
    clearest = int(np.argmax([probabilities.max() for probabilities in asked]))
    if asked[clearest].max() <= whole.max():
        return whole, clearest
    chosen = asked[clearest].copy()
    for index in keep:
        chosen[index] = max(chosen[index], whole[index])
    return chosen, clearest


def second_question(
    classes: Sequence[str], asked: Sequence[np.ndarray], clearest: int | None, answered: str
) -> Tuple[str, float] | None:
    """Another question of the message, about something else, that the classifier is sure of."""
    if clearest is None:
        return None
    for probabilities in asked:
        best = int(np.argmax(probabilities))
        intent, confidence = classes[best], float(probabilities[best])
        if intent != answered and intent not in NOT_A_SECOND_QUESTION:
            if confidence >= SECOND_QUESTION_CONFIDENCE:
                return intent, confidence
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class IntentClassifier(LogisticRegressionClassifier):
    """Multinomial logistic regression over every sentence feature the featurizers give."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), C: 100.0, "max_iter": 3000}

    def __init__(self, config: Dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf = LogisticRegression(
            C=float(self.config[C]),
            solver=self.config["solver"],
            max_iter=self.config["max_iter"],
            tol=self.config["tol"],
            random_state=self.config["random_state"],
        )
        self._weights: Tuple[np.ndarray, np.ndarray] | None = None

    def probabilities(self, X: Any) -> np.ndarray:
        """`predict_proba`, at a fraction of its cost per message.

        scikit-learn multiplies the sparse features by the transposed coefficients, a view that scipy
        copies (44 intents × ~31,000 features) on every call: about 6 ms a message, a fifth of a turn.
        The transposed copy is made once here; a multinomial model's probabilities are the softmax of
        the same scores (tests/test_pipeline_components.py checks they agree).
        """
        if not self._multinomial():
            return self.clf.predict_proba(X)
        scores = np.asarray(X @ self._transposed()) + self.clf.intercept_
        return scipy.special.softmax(scores, axis=1)

    def _multinomial(self) -> bool:
        """scikit-learn 1.1's rule for when a model is multinomial (otherwise its own one-vs-rest formula)."""
        multi_class = self.clf.multi_class
        return multi_class == "multinomial" or (
            multi_class == "auto" and self.clf.solver != "liblinear" and self.clf.coef_.shape[0] > 1
        )

    def _transposed(self) -> np.ndarray:
        """The weights as (features, intents), copied once per trained model."""
        coef = self.clf.coef_
        if self._weights is None or self._weights[0] is not coef:
            self._weights = (coef, np.ascontiguousarray(coef.T))
        return self._weights[1]

    def message_probabilities(self, messages: Sequence[Message]) -> np.ndarray:
        """`probabilities(self._create_X(messages))`, without building the combined feature matrix.

        Rasa's `_create_X` stacks each message's sparse and dense sentence features into a new sparse
        matrix, about 0.3 ms a message. A multinomial model's scores are the features times the
        transposed weights, so each part is multiplied by its own rows of them: the sparse part (its
        columns first, as `_create_X` puts them) and the dense part after it. The same probabilities
        (tests/test_pipeline_components.py); any other case takes the general path.
        """
        parts = [(message.get_sparse_features(TEXT)[1], message.get_dense_features(TEXT)[1]) for message in messages]
        coef = self.clf.coef_
        if not self._multinomial() or any(sparse is None or dense is None for sparse, dense in parts):
            return self.probabilities(self._create_X(list(messages)))
        weights = self._transposed()
        scores = np.tile(self.clf.intercept_, (len(parts), 1))
        for row, (sparse, dense) in enumerate(parts):
            rows = sparse.features.tocoo()
            width = rows.shape[1]
            given = width + dense.features.shape[1]
            if given != coef.shape[1]:
                raise ValueError(f"{given} features, the model was trained on {coef.shape[1]}")
            scores[row] += rows.data @ weights[rows.col] + np.asarray(dense.features).ravel() @ weights[width:]
        return scipy.special.softmax(scores, axis=1)

    def process(self, messages: List[Message]) -> List[Message]:
        """Rasa's ranking, but from the whole message and its clearest question together."""
        if not messages:
            return messages
        whole = self.message_probabilities(messages)
        classes = list(self.clf.classes_)
        for index, message in enumerate(messages):
            asked = message.get(QUESTIONS) or []
            asked_probabilities = list(self.message_probabilities(asked)) if asked else []
            urgency = [classes.index(name) for name in NOT_A_SECOND_QUESTION if name in classes]
            probabilities, clearest = combine(whole[index], asked_probabilities, urgency)
            ranking = [
                {"name": name, "confidence": float(value)}
                for value, name in sorted(zip(probabilities, classes, strict=True), key=lambda pair: -pair[0])
            ]
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            other = second_question(classes, asked_probabilities, clearest, ranking[0]["name"])
            if other:
                entity = {
                    "entity": SECOND_QUESTION_ENTITY,
                    "value": other[0],
                    "confidence": other[1],
                    "extractor": type(self).__name__,
                }
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
