"""The Rasa NLU component that keeps the classifier from guessing at text it can't read.

The model was trained on English only. Given Chinese, Arabic or Vietnamese, or
a row of emoji, it finds almost no features it knows, and its guess can still
come out confident: the nearest wrong answer, never acceptable here. So
after the classifiers have guessed, this component looks at the letters:

- no letters at all (emoji, punctuation, numbers): `nlu_fallback`, whose reply
  asks the parent to put it in words, in English, and gives the hospital's number;
- mostly letters outside the English alphabet, or several common words of
  another language: `other_language`, whose reply says the assistant only
  reads English and gives the hospital's and the emergency number.

It runs before the urgency detector, whose red-flag phrases still have the final
word: an English red flag inside a mixed message is still urgent. (The
classifier's own urgent guess is dropped with the rest of its ranking: on text
it can't read, it means nothing.)
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME, INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

OTHER_LANGUAGE = "other_language"
WORD = re.compile(r"[^\W\d_]+")
# Accented letters in English ("café", "Zoë") are a small share of a message;
# in Vietnamese they are a third or more, in Chinese or Arabic all of them.
MAX_OTHER_LETTERS_SHARE = 0.2
# Another language's common words: at least this many, and this share of the words.
MIN_FOREIGN_WORDS = 2
MIN_FOREIGN_WORDS_SHARE = 0.3
# Common words of Latin-script languages families in Melbourne and Derbyshire
# write in (Vietnamese, Italian, Spanish, Portuguese, French, German, Polish,
# Tagalog). Words that are also English, or texting ("il", "um", "hat",
# "kind", "come", "die"), are left out.
FOREIGN_WORDS = frozenset(
    """
    và của là có không được cho với này những một người tôi bị anh chị bác sĩ
    che di della sono gli quali può mio figlio figlia bambino cosa perché
    el la los las es está mi hijo hija niño tiene puede qué cuáles por para pero cómo cuando muy
    uma não meu filho filha criança tem
    le les est mon fils fille enfant avec dans pas une qui
    der das ist mein sohn tochter nicht ich und
    jest nie syn córka dziecko czy ale
    ang ng mga anak ko siya hindi sa ako
    """.split()
)


def is_english_letter(char: str) -> bool:
    return "a" <= char.lower() <= "z"


def reading(text: str) -> str | None:
    """`nlu_fallback`, `other_language`, or None when the text may be English."""
    words = WORD.findall(text)
    letters = [char for word in words for char in word]
    if not letters:
        return DEFAULT_NLU_FALLBACK_INTENT_NAME
    if sum(not is_english_letter(char) for char in letters) / len(letters) > MAX_OTHER_LETTERS_SHARE:
        return OTHER_LANGUAGE
    foreign = sum(word.lower() in FOREIGN_WORDS for word in words)
    if foreign >= MIN_FOREIGN_WORDS and foreign / len(words) >= MIN_FOREIGN_WORDS_SHARE:
        return OTHER_LANGUAGE
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageScreen(GraphComponent):
    """Replaces the classifier's guess when the message is not English words."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageScreen":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith(INTENT_MESSAGE_PREFIX):
                continue  # a button's payload, not words
            intent = reading(text)
            if intent is not None:
                decided = {"name": intent, "confidence": 1.0}
                # No other candidates: "Did you mean ...?" must not offer guesses made from unreadable text.
                message.set(INTENT, decided, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [decided], add_to_output=True)
        return messages
