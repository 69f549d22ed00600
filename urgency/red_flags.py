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
    """What the red-flag check concluded about one message.

    `set_aside`: there were red flags, but the message reads as a general question, or as a story
    that is over. `over`: the sign is told as past and resolved ("last year ... he's fine now")
    with nothing said about now, so the classifier's urgent reading is set aside too. Whenever a
    set-aside sign was `told_as_past`, the parent gets the answer plus one line on what to do if
    it is happening now.
    """

    level: str | None
    flags: Sequence[RedFlag]
    set_aside: bool
    over: bool = False
    told_as_past: bool = False
    cry_for_help: bool = False  # nothing but "help" (and please, me, now ...)

    @property
    def is_urgent(self) -> bool:
        return self.level is not None


SENTENCE_ENDS = frozenset(".!?")


def sentence_numbers(doc: Doc) -> List[int]:
    """For each token, which sentence of the message it is in (a new one after . ! or ?)."""
    numbers, current = [], 0
    for token in doc:
        numbers.append(current)
        if token.text and all(char in SENTENCE_ENDS for char in token.text):
            current += 1
    return numbers


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
        self._past = Matcher(self._nlp.vocab)
        self._resolved = Matcher(self._nlp.vocab)
        self._not_present = Matcher(self._nlp.vocab)
        self._not_flags = Matcher(self._nlp.vocab)
        self._negations = frozenset(
            word for cue in definitions.get("negation_cues", []) for word in normalise(cue)[0].replace("|", " ").split()
        )

        self._cries: List[Tuple[str, Dict[str, Any]]] = []
        for name, category in definitions["categories"].items():
            level = category.get("level")
            if level not in LEVELS:
                raise ValueError(f"red-flag category {name!r} has level {level!r}; use one of {LEVELS}")
            self._categories[name] = category
            if category.get("phrases"):
                self._flags.add(name, [phrase_to_pattern(p) for p in category["phrases"]])
            if category.get("whole_message"):
                self._cries.append((name, category["whole_message"]))
        self._information.add("information", [phrase_to_pattern(p) for p in definitions["information_cues"]])
        self._present.add("present", [phrase_to_pattern(p) for p in definitions["present_cues"]])
        for matcher, key in (
            (self._past, "past_cues"),
            (self._resolved, "resolution_cues"),
            (self._not_present, "not_present_cues"),
        ):
            if definitions.get(key):
                matcher.add(key, [phrase_to_pattern(p) for p in definitions[key]])
        if definitions.get("not_red_flags"):
            self._not_flags.add("not_red_flag", [phrase_to_pattern(p) for p in definitions["not_red_flags"]])

    @classmethod
    def from_file(cls, path: str | None = None) -> "RedFlagMatcher":
        """Read the phrase file: the served content's (paths.content_dir()) unless a path is given."""
        with open(ROOT / path if path else content_dir() / RED_FLAGS_FILE, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    def _denied(self, doc: Doc, start: int, end: int) -> bool:
        """A resolution that is negated before it, or inside it: "she's not fine" is not the end of the story.

        Only its first word may be a negation: "hasn't happened since" and "no problems since" are resolutions.
        """
        return self._negated(doc, start) or any(token.text in self._negations for token in doc[start + 1 : end])

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
        cry = self._cry_for_help(doc)
        if cry:
            category = self._categories[cry]
            flag = RedFlag(cry, category["level"], category.get("followup"), 0, len(text), text)
            return Assessment(category["level"], (flag,), False, cry_for_help=True)
        other_meanings = [(start, end) for _, start, end in self._not_flags(doc)]
        flags = []
        sentence = sentence_numbers(doc)
        asking = {sentence[start] for _, start, _ in self._information(doc)}  # sentences that ask in general
        last_flag_end = 0  # in tokens: where the last sign the parent describes (not asks about) ends
        for match_id, start, end in self._flags(doc):
            if self._negated(doc, start) or any(start < o_end and o_start < end for o_start, o_end in other_meanings):
                continue
            if sentence[start] not in asking:
                last_flag_end = max(last_flag_end, end)
            name = self._nlp.vocab.strings[match_id]
            category = self._categories[name]
            span = doc[start:end]
            first, last = original_index[span.start_char], original_index[span.end_char - 1] + 1
            flags.append(RedFlag(name, category["level"], category.get("followup"), first, last, text[first:last]))
        if not flags:
            return Assessment(None, (), False)

        resolved = [(start, end) for _, start, end in self._resolved(doc) if not self._denied(doc, start, end)]
        past_spans = [(start, end) for _, start, end in self._past(doc)]
        about_the_parent = [(start, end) for _, start, end in self._not_present(doc)]
        # "he's fine now", "he's been settled since" and "when she started" tell the story: their "he's",
        # "now" and "started" are not the present. A cue right next to the end of the story belongs to it.
        present = [
            (start, end)
            for _, start, end in self._present(doc)
            if not any(start <= r_end and r_start <= end for r_start, r_end in resolved)
            and not any(start < p_end and p_start < end for p_start, p_end in [*past_spans, *about_the_parent])
        ]
        past = bool(past_spans)
        # Over means the story is closed after its last sign: "he had a seizure last year and has been fine
        # since", never "last year he was fine but he is struggling to breathe".
        closed = any(r_end >= last_flag_end for _, r_end in resolved)
        if past and closed and not present:
            return Assessment(None, tuple(flags), True, over=True, told_as_past=True)
        if any(flag.level == EMERGENCY for flag in flags):
            return Assessment(EMERGENCY, tuple(flags), False)
        if self._information(doc) and not present:
            return Assessment(None, tuple(flags), True, told_as_past=past)
        return Assessment(URGENT, tuple(flags), False)

    def _cry_for_help(self, doc: Doc) -> str | None:
        """The category of a message that is nothing but a cry for help, if it is one."""
        words = [token.text for token in doc if any(char.isalnum() for char in token.text)]
        for name, rule in self._cries:
            allowed = set(rule["only"]) | set(rule["one_of"])
            if words and all(word in allowed for word in words) and any(word in rule["one_of"] for word in words):
                return name
        return None
