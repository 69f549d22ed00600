"""The three NLU components of config.yml's pipeline, built and run with Rasa's own graph objects.

Hermetic on purpose: no servers and no `rasa train`, so a failure points at one component rather than
at the whole model. Components are made the way Rasa's GraphNode makes them (defaults merged into the
config, then `create` or `load` with a model storage, a resource and an execution context), and trained
in pipeline order: TF-IDF learns, both featurizers featurize the training data, the classifier learns.
The sentence encoder is the one `make install` extracted into the virtualenv; nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Type

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.common import override_defaults

from content_library.content import read_yaml
from nlu.examples import nlu_examples
from nlu.intent_classifier import IntentClassifier
from nlu.minilm import ModelNotInstalledError, installed_model
from nlu.minilm_onnx import shared_encoder
from nlu.sentence_embeddings import RUNTIME, SentenceEmbeddingFeaturizer
from nlu.tfidf import TfidfFeaturizer, TfidfRows, new_vectorizer
from paths import CONFIG, HELD_OUT_NLU, all_nlu_data

EMBEDDING_WIDTH = 384

# Three intents, six examples each: enough for the classifier, few enough to encode in a fraction of a second.
TRAINING_EXAMPLES: Dict[str, List[str]] = {
    "pump_refill": [
        "how often does the pump need refilling",
        "when is the next pump refill",
        "how do they refill the pump",
        "does the refill hurt",
        "who refills the baclofen pump",
        "how long between refills",
    ],
    "side_effects": [
        "what are the side effects of baclofen",
        "can baclofen make him sleepy",
        "is drowsiness a side effect",
        "will the medicine make her floppy",
        "what problems can the drug cause",
        "are there any risks from the medication",
    ],
    "greet": ["hello", "hi there", "good morning", "hey", "hiya", "good afternoon"],
}

# Worded differently from every training example, most sharing few words with it. TF-IDF alone ranks these right
# too, but less surely ("he has been really tired..." falls below the fallback threshold): the embedding adds that.
UNSEEN_PARAPHRASES = {
    "when does his pump get topped up again": "pump_refill",
    "when do we go back to top up the reservoir": "pump_refill",
    "he has been really tired since starting it": "side_effects",
    "could this treatment harm my son": "side_effects",
    "yo, anyone there": "greet",
}


# --- Helpers: components as Rasa's graph builds them ------------------------------------------------------


@dataclass
class TrainedPipeline:
    """The three trained components and the model storage folder they persisted to."""

    storage_path: Path
    tfidf: TfidfFeaturizer
    embedder: SentenceEmbeddingFeaturizer
    classifier: IntentClassifier


def component_config(component: Type[GraphComponent], **overrides: Any) -> Dict[str, Any]:
    """The component's defaults with `overrides` on top, as GraphNode passes them to `create` and `load`."""
    return override_defaults(component.get_default_config(), overrides)


def execution_context(node_name: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name=node_name)


def new_tfidf(storage: ModelStorage) -> TfidfFeaturizer:
    return TfidfFeaturizer.create(
        component_config(TfidfFeaturizer), storage, Resource("tfidf"), execution_context("tfidf")
    )


def new_embedder(**overrides: Any) -> SentenceEmbeddingFeaturizer:
    return SentenceEmbeddingFeaturizer.create(
        component_config(SentenceEmbeddingFeaturizer, **overrides),
        LocalModelStorage(Path("unused")),  # not trainable: it never writes to its storage
        Resource("embeddings"),
        execution_context("embeddings"),
    )


def new_classifier(storage: ModelStorage, **overrides: Any) -> IntentClassifier:
    config = component_config(IntentClassifier, **overrides)
    return IntentClassifier.create(config, storage, Resource("classifier"), execution_context("classifier"))


def training_data(examples: Dict[str, List[str]] = TRAINING_EXAMPLES) -> TrainingData:
    return TrainingData(
        training_examples=[
            Message(data={TEXT: text, "intent": intent}) for intent, texts in examples.items() for text in texts
        ]
    )


def messages(*texts: str) -> List[Message]:
    return [Message(data={TEXT: text}) for text in texts]


def trained_tfidf(storage: ModelStorage) -> TfidfFeaturizer:
    featurizer = new_tfidf(storage)
    featurizer.train(training_data())
    return featurizer


def sentence_row(featurizer: TfidfFeaturizer, text: str) -> scipy.sparse.csr_matrix:
    """The one sparse sentence row the featurizer gives `text`."""
    [message] = featurizer.process(messages(text))
    [feature] = message.features
    return scipy.sparse.csr_matrix(feature.features)


def embedding(featurizer: SentenceEmbeddingFeaturizer, text: str) -> np.ndarray:
    """The dense sentence feature of `text`, as one (1, width) row."""
    [message] = featurizer.process(messages(text))
    [feature] = message.features
    return feature.features


def cosine(first: np.ndarray, second: np.ndarray) -> float:
    first, second = first.ravel(), second.ravel()
    return float(first @ second / (np.linalg.norm(first) * np.linalg.norm(second)))


def featurized(pipeline: TrainedPipeline, *texts: str) -> List[Message]:
    """New messages with both featurizers' features, as the pipeline hands them to the classifier."""
    return pipeline.embedder.process(pipeline.tfidf.process(messages(*texts)))


def fallback_threshold() -> float:
    """config.yml's FallbackClassifier threshold: below it, a recognised intent is still answered "Did you mean?"."""
    [fallback] = [step for step in read_yaml(CONFIG)["pipeline"] if step["name"] == "FallbackClassifier"]
    return float(fallback["threshold"])


def ranking(classifier: IntentClassifier, message: Message) -> List[tuple[str, float]]:
    classifier.process([message])
    return [(entry["name"], entry["confidence"]) for entry in message.get("intent_ranking")]


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbeddingFeaturizer:
    return new_embedder()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbeddingFeaturizer) -> TrainedPipeline:
    """The three components trained on TRAINING_EXAMPLES in config.yml's order, persisted to one model storage."""
    storage_path = tmp_path_factory.mktemp("model")
    storage = LocalModelStorage(storage_path)
    data = training_data()
    tfidf = new_tfidf(storage)
    tfidf.train(data)
    data = embedder.process_training_data(tfidf.process_training_data(data))
    classifier = new_classifier(storage)
    classifier.train(data)
    return TrainedPipeline(storage_path, tfidf, embedder, classifier)


# --- TfidfFeaturizer -----------------------------------------------------------------------------------------


def test_tfidf_adds_exactly_one_sparse_sentence_feature_for_text(tmp_path: Path) -> None:
    featurizer = trained_tfidf(LocalModelStorage(tmp_path))

    [message] = featurizer.process(messages("how often does the pump need refilling"))

    [feature] = message.features
    assert feature.is_sparse()
    assert feature.type == FEATURE_TYPE_SENTENCE
    assert feature.attribute == TEXT
    sequence, sentence = message.get_sparse_features(TEXT)
    assert sequence is None
    assert sentence.features.shape[0] == 1


def test_tfidf_row_has_unit_length_in_each_block(tmp_path: Path) -> None:
    featurizer = trained_tfidf(LocalModelStorage(tmp_path))
    word_block_width = len(featurizer.vectorizer.transformer_list[0][1].vocabulary_)

    row = sentence_row(featurizer, "when is the next pump refill").toarray().ravel()

    assert np.linalg.norm(row[:word_block_width]) == pytest.approx(1.0)
    assert np.linalg.norm(row[word_block_width:]) == pytest.approx(1.0)


def test_tfidf_features_are_deterministic(tmp_path: Path) -> None:
    featurizer = trained_tfidf(LocalModelStorage(tmp_path))

    first = sentence_row(featurizer, "can baclofen make him sleepy")
    second = sentence_row(featurizer, "can baclofen make him sleepy")

    assert first.nnz > 0
    assert (first != second).nnz == 0


def test_tfidf_leaves_messages_without_text_alone(tmp_path: Path) -> None:
    featurizer = trained_tfidf(LocalModelStorage(tmp_path))
    without_text = Message(data={"intent": "greet"})
    empty_text = Message(data={TEXT: ""})
    with_text = Message(data={TEXT: "hello"})

    featurizer.process([without_text, empty_text, with_text])

    assert without_text.features == []
    assert empty_text.features == []
    assert len(with_text.features) == 1


def test_tfidf_typo_shares_character_features_with_the_right_word(tmp_path: Path) -> None:
    featurizer = trained_tfidf(LocalModelStorage(tmp_path))
    typo = sentence_row(featurizer, "refil")

    with_right_word = typo.multiply(sentence_row(featurizer, "refill")).sum()
    with_other_word = typo.multiply(sentence_row(featurizer, "hello")).sum()

    assert with_right_word > 0
    assert with_right_word > with_other_word


def test_tfidf_loaded_from_model_storage_gives_the_trained_features(tmp_path: Path) -> None:
    trained = trained_tfidf(LocalModelStorage(tmp_path))

    loaded = TfidfFeaturizer.load(
        component_config(TfidfFeaturizer), LocalModelStorage(tmp_path), Resource("tfidf"), execution_context("tfidf")
    )

    for text in ["how do they refill the pump", "refil", "something never seen before"]:
        np.testing.assert_array_equal(sentence_row(loaded, text).toarray(), sentence_row(trained, text).toarray())


def test_tfidf_rows_are_scikit_learns_own_to_the_last_bit() -> None:
    """The featurizer's own row builder (TfidfRows) gives exactly the fitted union's `transform`.

    Fitted on the real training data and compared on the held-out messages, misspellings and all,
    plus texts with no known feature at all.
    """
    training = [text for texts in nlu_examples(*all_nlu_data()).values() for text in texts]
    held_out = [text for texts in nlu_examples(HELD_OUT_NLU).values() for text in texts]
    union = new_vectorizer().fit(training)
    texts = [*held_out, "", "zzzz qqqq", "🙂"]

    expected = scipy.sparse.csr_matrix(union.transform(texts))
    rows = TfidfRows(union)
    actual = scipy.sparse.vstack([rows.row(text) for text in texts], format="csr")

    assert TfidfRows.supports(union)
    assert actual.shape == expected.shape and actual.nnz == expected.nnz > 0
    assert (actual != expected).nnz == 0


def test_tfidf_takes_scikit_learns_transform_for_a_union_it_was_not_built_for(tmp_path: Path) -> None:
    featurizer = trained_tfidf(LocalModelStorage(tmp_path))
    union = featurizer.vectorizer
    union.transformer_list[0][1].set_params(norm=None)  # raw word weights: not what new_vectorizer makes

    featurizer.vectorizer = union
    row = sentence_row(featurizer, "how often does the pump need refilling")

    assert not TfidfRows.supports(union)
    assert (row != scipy.sparse.csr_matrix(union.transform(["how often does the pump need refilling"]))).nnz == 0


# --- SentenceEmbeddingFeaturizer -----------------------------------------------------------------------------


def test_embedding_is_one_dense_sentence_feature_of_model_width(embedder: SentenceEmbeddingFeaturizer) -> None:
    [message] = embedder.process(messages("does the refill hurt"))

    [feature] = message.features
    assert feature.is_dense()
    assert feature.type == FEATURE_TYPE_SENTENCE
    assert feature.attribute == TEXT
    assert feature.features.shape == (1, EMBEDDING_WIDTH)


def test_embedding_weight_defaults_to_two(embedder: SentenceEmbeddingFeaturizer) -> None:
    assert embedder.weight == 2.0
    assert np.linalg.norm(embedding(embedder, "does the refill hurt")) == pytest.approx(2.0, rel=1e-5)


@pytest.mark.parametrize("weight", [0.5, 3.0])
def test_embedding_norm_equals_configured_weight(weight: float) -> None:
    featurizer = new_embedder(weight=weight)

    assert np.linalg.norm(embedding(featurizer, "does the refill hurt")) == pytest.approx(weight, rel=1e-5)


@pytest.mark.parametrize("weight", [0, 0.0, -1.0])
def test_embedding_refuses_a_weight_that_is_not_positive(weight: float) -> None:
    with pytest.raises(ValueError, match="weight"):
        new_embedder(weight=weight)


def test_embedding_leaves_messages_without_text_alone(embedder: SentenceEmbeddingFeaturizer) -> None:
    without_text = Message(data={"intent": "greet"})
    with_text = Message(data={TEXT: "hello"})

    embedder.process([without_text, with_text])

    assert without_text.features == []
    assert len(with_text.features) == 1


def test_embedding_puts_paraphrases_closer_than_unrelated_sentences(embedder: SentenceEmbeddingFeaturizer) -> None:
    question = embedding(embedder, "the pump alarm is going off")
    paraphrase = embedding(embedder, "the pump is beeping")
    unrelated = embedding(embedder, "what time does the hospital cafe open")

    assert cosine(question, paraphrase) > cosine(question, unrelated) + 0.2


def test_embedding_components_share_one_loaded_model() -> None:
    first, second = new_embedder(), new_embedder(weight=1.0)

    assert first.model is second.model
    assert first.model is shared_encoder(installed_model(), first._config[RUNTIME])


def test_missing_embedding_model_says_to_run_make_install(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalledError, match="make install") as raised:
        installed_model(home=tmp_path)

    assert str(tmp_path) in str(raised.value)


# --- IntentClassifier ----------------------------------------------------------------------------------------


def test_classifier_defaults_to_c_100_and_3000_iterations(tmp_path: Path) -> None:
    classifier = new_classifier(LocalModelStorage(tmp_path))

    assert classifier.clf.C == 100.0
    assert classifier.clf.max_iter == 3000


def test_classifier_passes_configured_c_and_max_iter_to_sklearn(tmp_path: Path) -> None:
    classifier = new_classifier(LocalModelStorage(tmp_path), C=5, max_iter=500)

    assert classifier.clf.C == 5.0
    assert classifier.clf.max_iter == 500


@pytest.mark.parametrize(("text", "intent"), UNSEEN_PARAPHRASES.items())
def test_classifier_recognises_unseen_paraphrases_above_the_fallback_threshold(
    pipeline: TrainedPipeline, text: str, intent: str
) -> None:
    [message] = pipeline.classifier.process(featurized(pipeline, text))

    assert message.get("intent")["name"] == intent
    assert message.get("intent")["confidence"] > fallback_threshold()


def test_classifier_ranks_every_intent_by_falling_confidence(pipeline: TrainedPipeline) -> None:
    [message] = featurized(pipeline, "does the refill hurt")

    ranked = ranking(pipeline.classifier, message)

    assert {name for name, _ in ranked} == set(TRAINING_EXAMPLES)
    confidences = [confidence for _, confidence in ranked]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)
    assert message.get("intent") == {"name": ranked[0][0], "confidence": ranked[0][1]}


def test_classifier_probabilities_are_scikit_learns_own(pipeline: TrainedPipeline) -> None:
    """The classifier's fast path gives exactly what LogisticRegression.predict_proba gives."""
    messages = [message for text in UNSEEN_PARAPHRASES for message in featurized(pipeline, text)]
    features = pipeline.classifier._create_X(messages)

    np.testing.assert_allclose(
        pipeline.classifier.probabilities(features), pipeline.classifier.clf.predict_proba(features), rtol=1e-9
    )


def test_classifier_message_path_gives_the_probabilities_of_the_combined_features(pipeline: TrainedPipeline) -> None:
    """`process` scores each message's sparse and dense features apart: the same as Rasa's stacked matrix."""
    messages = [message for text in [*UNSEEN_PARAPHRASES, "refil", "zzzz"] for message in featurized(pipeline, text)]
    classifier = pipeline.classifier

    expected = classifier.clf.predict_proba(classifier._create_X(messages))
    np.testing.assert_allclose(classifier.message_probabilities(messages), expected, rtol=1e-9)


def test_classifier_given_one_kind_of_feature_fails_as_rasas_own_path_would(pipeline: TrainedPipeline) -> None:
    """Without its sentence embedding a message takes Rasa's stacked-matrix path: the same error, not a guess."""
    [message] = pipeline.tfidf.process(messages("does the refill hurt"))

    with pytest.raises(ValueError, match="dimension mismatch"):
        pipeline.classifier.message_probabilities([message])


def test_pipeline_loaded_from_model_storage_ranks_as_trained(pipeline: TrainedPipeline) -> None:
    """Every trained component loaded back with Rasa's `load` (the classifier through skops) answers the same."""
    storage = LocalModelStorage(pipeline.storage_path)
    tfidf = TfidfFeaturizer.load(
        component_config(TfidfFeaturizer), storage, Resource("tfidf"), execution_context("tfidf")
    )
    classifier = IntentClassifier.load(
        component_config(IntentClassifier), storage, Resource("classifier"), execution_context("classifier")
    )
    loaded = TrainedPipeline(pipeline.storage_path, tfidf, pipeline.embedder, classifier)

    for text in UNSEEN_PARAPHRASES:
        [trained_message], [loaded_message] = featurized(pipeline, text), featurized(loaded, text)
        expected = ranking(pipeline.classifier, trained_message)
        actual = ranking(loaded.classifier, loaded_message)
        assert [name for name, _ in actual] == [name for name, _ in expected]
        np.testing.assert_allclose([c for _, c in actual], [c for _, c in expected], rtol=1e-9)
