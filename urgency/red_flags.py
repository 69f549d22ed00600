"""Deterministic red-flag matching over content/red_flags.yml.

The phrase file is written for clinicians, so this module translates its small
phrase language (words in order, `a|b` alternatives, `*` for a gap of up to
three words) into spaCy `Matcher` patterns. Only a blank English tokenizer is
used: no downloaded model is needed, and matching is the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

import spacy
import yaml
from spacy.matcher import Matcher
from spacy.tokens import Doc

from content_library.content import RED_FLAGS_FILE
from paths import ROOT, content_dir

URGENT = "urgent"
EMERGENCY = "emergency"
LEVELS = (URGENT, EMERGENCY)  # in order of severity
GAP_WORDS = 3
# Skipped when looking for a negation right before a match: "not an emergency".
ARTICLES = frozenset({"a", "an", "the", "any"})



APOSTROPHES = frozenset("'’‘`")


def normalise(text: str) -> Tuple[str, List[int]]:
    """Lower-case and drop apostrophes so "can't", "can’t" and "cant" read the same.

    Also returns, for each character kept, its index in `text`, so a match can
    be reported at its place in what the parent actually typed.
    """
    kept = [index for index, char in enumerate(text) if char not in APOSTROPHES]
    lowered = "".join(_lower_one(text[index]) for index in kept)
    return lowered, kept


def _lower_one(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def phrase_to_pattern(phrase: str) -> List[Dict[str, Any]]:
    """Translate one clinician-readable phrase into a spaCy token pattern."""
    pattern: List[Dict[str, Any]] = []
    for word in normalise(phrase)[0].split():
        if word == "*":
            pattern.extend({"OP": "?"} for _ in range(GAP_WORDS))
            continue
        options = [option for option in word.split("|") if option]
        if not options:
            raise ValueError(f"empty word in red-flag phrase {phrase!r}")
        pattern.append({"LOWER": {"IN": options}} if len(options) > 1 else {"LOWER": options[0]})
    if not pattern or "OP" in pattern[0] or "OP" in pattern[-1]:
        raise ValueError(f"red-flag phrase {phrase!r} must start and end with a word")
    return pattern


@dataclass(frozen=True)
class RedFlag:
    """One matched phrase: which category, how severe, and where in the message."""

    category: str
    level: str
    followup: str | None
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Assessment:
    """What the red-flag check concluded about one message."""

    level: str | None
    flags: Sequence[RedFlag]
    set_aside: bool

    @property
    def is_urgent(self) -> bool:
        return self.level is not None


class RedFlagMatcher:
    """Matches red-flag phrases and tells information-seeking questions apart."""

    def __init__(self, definitions: Dict[str, Any]) -> None:
        self._nlp = spacy.blank("en")
        # spaCy splits "cant" into "ca" + "nt"; phrases are whole words, so drop those special cases.
        self._nlp.tokenizer.rules = {}
        self._categories: Dict[str, Dict[str, Any]] = {}
        self._flags = Matcher(self._nlp.vocab)
        self._information = Matcher(self._nlp.vocab)
        self._present = Matcher(self._nlp.vocab)
        self._not_flags = Matcher(self._nlp.vocab)
        self._negations = frozenset(
            word for cue in definitions.get("negation_cues", []) for word in normalise(cue)[0].replace("|", " ").split()
        )

        for name, category in definitions["categories"].items():
            level = category.get("level")
            if level not in LEVELS:
                raise ValueError(f"red-flag category {name!r} has level {level!r}; use one of {LEVELS}")
            self._categories[name] = category
            self._flags.add(name, [phrase_to_pattern(p) for p in category["phrases"]])
        self._information.add("information", [phrase_to_pattern(p) for p in definitions["information_cues"]])
        self._present.add("present", [phrase_to_pattern(p) for p in definitions["present_cues"]])
        if definitions.get("not_red_flags"):
            self._not_flags.add("not_red_flag", [phrase_to_pattern(p) for p in definitions["not_red_flags"]])

    @classmethod
    def from_file(cls, path: str | None = None) -> "RedFlagMatcher":
        """Read the phrase file: the served content's (paths.content_dir()) unless a path is given."""
        with open(ROOT / path if path else content_dir() / RED_FLAGS_FILE, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    def _negated(self, doc: Doc, start: int) -> bool:
        before = start - 1
        while before >= 0 and doc[before].text in ARTICLES:
            before -= 1
        return before >= 0 and doc[before].text in self._negations

    def assess(self, text: str) -> Assessment:
        """Return the most severe level any red flag in `text` calls for.

        A match straight after a negation ("no fever"), or inside a phrase that
        means something else ("the emergency number"), does not count. An
        `urgent` match in a message that reads as a general question and says
        nothing about now is set aside, so "can baclofen cause itching?" is
        answered rather than alarmed. Emergency matches are never set aside.
        """
        normalised, original_index = normalise(text)
        doc = self._nlp.make_doc(normalised)
        other_meanings = [(start, end) for _, start, end in self._not_flags(doc)]
        flags = []
        for match_id, start, end in self._flags(doc):
            if self._negated(doc, start) or any(start < o_end and o_start < end for o_start, o_end in other_meanings):
                continue
            name = self._nlp.vocab.strings[match_id]
            category = self._categories[name]
            span = doc[start:end]
            first, last = original_index[span.start_char], original_index[span.end_char - 1] + 1
            flags.append(RedFlag(name, category["level"], category.get("followup"), first, last, text[first:last]))
        if not flags:
            return Assessment(None, (), False)

        if any(flag.level == EMERGENCY for flag in flags):
            return Assessment(EMERGENCY, tuple(flags), False)
        if self._information(doc) and not self._present(doc):
            return Assessment(None, tuple(flags), True)
        return Assessment(URGENT, tuple(flags), False)
