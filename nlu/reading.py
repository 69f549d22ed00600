"""What the featurizers read of a parent's message: its words put right, and the sentences that ask.

`MessageReader` comes first in the pipeline (config.yml). For every message it records the text
with the domain's spellings put right (content/spellings.yml, nlu/spellings.py), which the
featurizers read instead of the raw text, and, for a message of several sentences, the sentences
that ask something (nlu/sentences.py), as small messages of their own. The featurizers give those
features too, in the same batch, and the intent classifier reads them beside the whole message
(nlu/intent_classifier.py). The raw text is kept as the parent wrote it: the urgency check, the
logs and the conversation store see that.

Both steps were chosen by cross-validation on the training data (`python -m bench.cross_validation`,
docs/understanding.md).
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.sentences import questions
from nlu.spellings import Spellings

READ_TEXT = "read_text"  # the text as the featurizers read it
QUESTIONS = "questions"  # the sentences that ask, each a Message of its own
SPELLINGS = "spellings"
FIND_QUESTIONS = "find_questions"


def read_text(message: Message) -> str:
    return message.get(READ_TEXT) or message.get(TEXT) or ""


def with_questions(messages: List[Message]) -> List[Message]:
    """The messages and, after them, the question sentences found in them: what the featurizers featurize."""
    return [*messages, *(question for message in messages for question in message.get(QUESTIONS) or [])]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MessageReader(GraphComponent):
    """Puts the domain's spellings right and finds the questions, for the featurizers to read."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {SPELLINGS: True, FIND_QUESTIONS: True}

    def __init__(self, config: Dict[str, Any], spellings: Spellings | None) -> None:
        self._spellings = spellings
        self._find_questions = bool(config[FIND_QUESTIONS])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MessageReader:
        # Read when the model loads, like the red flags. The training examples are read the same way when
        # the model is trained, so an edit to the file takes full effect after `make train`.
        return cls(config, Spellings.from_file() if config[SPELLINGS] else None)

    def _read(self, message: Message) -> str:
        text = message.get(TEXT) or ""
        return self._spellings.normalise(text) if self._spellings else text

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            if example.get(TEXT):
                example.set(READ_TEXT, self._read(example))
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not message.get(TEXT):
                continue
            text = self._read(message)
            message.set(READ_TEXT, text)
            if self._find_questions:
                message.set(QUESTIONS, [Message(data={TEXT: sentence}) for sentence in questions(text)])
        return messages
