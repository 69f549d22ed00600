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
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from urgency.red_flags import EMERGENCY, LEVELS, URGENT, RedFlag, RedFlagMatcher

RED_FLAG_ENTITY = "red_flag"
# A red flag told as past and set aside: the answer then ends with what to do if it is happening now.
PAST_SIGN_ENTITY = "past_sign"
# Below this, the classifier's best calm reading of an over-and-done story is a guess: ask instead.
MIN_CALM_CONFIDENCE = 0.2


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
        if assessment.told_as_past:
            # An answer, plus one line on what to do if anything like it is happening now (actions/).
            past = [self._entity(PAST_SIGN_ENTITY, flag) for flag in assessment.flags[:1]]
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), *past], add_to_output=True)
        if assessment.over:
            # Told as past and over, nothing about now: the story's words must not make it urgent either.
            self._answer_instead_of_alarm(message)
            return
        level = most_severe(assessment.level, self.classifier_level(message))
        if level is None:
            return

        ranking = [item for item in message.get(INTENT_RANKING_KEY) or [] if item["name"] != level]
        decided = {"name": level, "confidence": 1.0}
        message.set(INTENT, decided, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [decided, *ranking], add_to_output=True)
        if assessment.is_urgent:
            flags = [self._entity(RED_FLAG_ENTITY, flag) for flag in assessment.flags]
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), *flags], add_to_output=True)

    def _entity(self, entity: str, flag: RedFlag) -> Dict[str, Any]:
        return {
            "entity": entity,
            "value": flag.category,
            "start": flag.start,
            "end": flag.end,
            "extractor": type(self).__name__,
            # The text that helps in this situation (an answer or a reply id), for action_urgent_followup.
            "followup": flag.followup,
        }

    @staticmethod
    def _answer_instead_of_alarm(message: Message) -> None:
        """If the classifier read the story as urgent, take its best reading that is not."""
        ranking = message.get(INTENT_RANKING_KEY) or []
        intent = (message.get(INTENT) or {}).get("name")
        if intent not in LEVELS:
            return
        calm = [item for item in ranking if item["name"] not in LEVELS]
        answered = next((item for item in calm if item["name"] != DEFAULT_NLU_FALLBACK_INTENT_NAME), None)
        if answered is None or answered["confidence"] < MIN_CALM_CONFIDENCE:
            answered = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
        message.set(INTENT, answered, add_to_output=True)
        others = [item for item in calm if item is not answered]
        message.set(INTENT_RANKING_KEY, [answered, *others], add_to_output=True)
