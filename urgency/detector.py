"""The Rasa NLU component that turns red flags and urgent intents into one decision.

It runs after the intent classifiers and the FallbackClassifier, so it has the
final word: a message is urgent when the red-flag phrases say so, or when the
classifier gives `urgent`/`emergency` at least `classifier_threshold`
confidence. That threshold is deliberately lower than the fallback threshold: a
false alarm costs a parent a phone number they did not need, a miss costs far
more.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from urgency.red_flags import EMERGENCY, LEVELS, URGENT, RedFlagMatcher

RED_FLAG_ENTITY = "red_flag"


def most_severe(*levels: str | None) -> str | None:
    present = [level for level in levels if level]
    return max(present, key=LEVELS.index) if present else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class UrgencyDetector(GraphComponent):
    """Overrides the intent with `urgent` or `emergency` when either layer says so."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # No red_flags_file: the served content's (ITB_CONTENT_DIR or content/), like every other text.
        return {"red_flags_file": None, "classifier_threshold": 0.3}

    def __init__(self, config: Dict[str, Any], matcher: RedFlagMatcher) -> None:
        self._threshold = float(config["classifier_threshold"])
        self._matcher = matcher

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "UrgencyDetector":
        # Read at load time, not baked into the model: a clinician's edit to the
        # phrase file takes effect on the next server start without retraining.
        return cls(config, RedFlagMatcher.from_file(config["red_flags_file"]))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def classifier_level(self, message: Message) -> str | None:
        confidences = {item["name"]: item["confidence"] for item in message.get(INTENT_RANKING_KEY) or []}
        emergency = confidences.get(EMERGENCY, 0.0)
        if emergency >= self._threshold:
            return EMERGENCY
        if emergency + confidences.get(URGENT, 0.0) >= self._threshold:
            return URGENT
        return None

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    def _process_one(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        assessment = self._matcher.assess(text)
        level = most_severe(assessment.level, self.classifier_level(message))
        if level is None:
            return

        ranking = [item for item in message.get(INTENT_RANKING_KEY) or [] if item["name"] != level]
        decided = {"name": level, "confidence": 1.0}
        message.set(INTENT, decided, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [decided, *ranking], add_to_output=True)
        if assessment.is_urgent:
            flags = [
                {
                    "entity": RED_FLAG_ENTITY,
                    "value": flag.category,
                    "start": flag.start,
                    "end": flag.end,
                    "extractor": type(self).__name__,
                    # The fact-sheet answer that helps in this situation, for action_urgent_followup.
                    "followup": flag.followup,
                }
                for flag in assessment.flags
            ]
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), *flags], add_to_output=True)
