"""Finding the question in what a parent wrote: sentences, and which of them ask something.

A parent often tells the story first ("we saw the neurologist today, she said his tone is high,
the physio mentioned the pump...") and asks at the end. Read whole, such a message is mostly
story, and its words pull the classifier towards whatever the story is about. The intent
classifier (nlu/intent_classifier.py) also reads the sentences that ask, on their own.
"""

from __future__ import annotations

import re
from typing import List

# A sentence ends at . ! ? (one or more) or a line break; "e.g." and "approx." rarely matter here.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|[\r\n]+")
# A sentence that opens like a question asks one, with or without its question mark (phones drop them).
QUESTION_WORDS = (
    r"(?:what|whats|wat|wot|how|hw|when|why|where|who|whos|which|can|could|cud|does|do|did|is|isnt|are|will|would|"
    r"wud|should|shud|may|might|any|anyone|pls|please|plz|tell|explain|wondering|i wonder|is it|is there|r)\b"
)
QUESTION_START = re.compile(r"^\W*(?:(?:and|also|plus|but|so)\s+)?" + QUESTION_WORDS, re.IGNORECASE)
MIN_WORDS = 2  # "thanks." or "ok." is not a question to answer on its own
# Two questions in one sentence: "what does ITB stand for and how does the pump work?" A join is split only
# where a question's first word follows it.
JOINED_QUESTION = re.compile(
    r"(?:,?\s+(?:and|also|plus|&)\s+(?:also\s+)?|\s*[,;]\s*(?:also\s+)?)(?=" + QUESTION_WORDS + ")", re.IGNORECASE
)


def sentences(text: str) -> List[str]:
    """The sentences of `text`, stripped, without empty ones; two questions joined by "and" count as two."""
    parts = [part.strip() for part in SENTENCE_END.split(text) if part and part.strip()]
    return [piece.strip() for part in parts for piece in split_joined(part)]


def split_joined(sentence: str) -> List[str]:
    """A sentence that asks two things, in pieces: only when it starts as a question, and each piece asks."""
    if not QUESTION_START.match(sentence):
        return [sentence]
    pieces = [piece for piece in JOINED_QUESTION.split(sentence) if piece and piece.strip()]
    return pieces if len(pieces) > 1 and all(asks(piece) for piece in pieces) else [sentence]


def asks(sentence: str) -> bool:
    """Does this sentence ask something (a question mark, or a question's first word)?"""
    if len(sentence.split()) < MIN_WORDS:
        return False
    return sentence.rstrip().endswith("?") or bool(QUESTION_START.match(sentence))


def questions(text: str) -> List[str]:
    """The sentences that ask, when `text` has more than one sentence; none for a one-sentence message."""
    parts = sentences(text)
    if len(parts) < 2:
        return []
    return [part for part in parts if asks(part)]
