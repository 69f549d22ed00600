"""What a parent typed, made safe for the model: readable characters and a bounded length.

A question fits in a few hundred characters. Without a cap the time to read a
message grows with the square of its length (DIET's transformer): 5 KB took
0.24 s and 20 KB 4.6 s, and one 100 KB message kept the Rasa server busy for
minutes while every other parent waited. So only the start of a long message
reaches the model, and the parent is told. A warning sign later in a long
message must not be cut off with the rest: the words around every red-flag
phrase (content/red_flags.yml) further on are kept too, so the urgency check
still sees them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any, List

import yaml
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME, INTENT_MESSAGE_PREFIX

from paths import DOMAIN
from urgency.red_flags import LEVELS, RedFlag, RedFlagMatcher

# Enough for any question; the longest message in the NLU test set is under 200.
MAX_CHARS = 500
# How much of a message is read at all: about 800 words, some 30 ms of red-flag
# matching, so that a megabyte of text can't keep the server busy either.
READ_CHARS = 5_000
# Kept around each red-flag phrase after the start, within its sentence: enough
# for a negation before it ("he is not ...") and the words after it.
FLAG_CONTEXT_CHARS = 80
# The kept passages stop here, though the most severe one is always kept whole.
MAX_FLAGGED_CHARS = 400
GAP = " … "
# Kept: line breaks and tabs read as spaces to the tokenizer. Dropped: other
# control characters, and lone UTF-16 surrogates, which JSON allows but no
# database or log can store.
KEPT_CONTROLS = frozenset("\n\t")
# A terminal's escape sequences (colours, "clear screen") go whole: dropping only the escape character
# left words like "[2J" for the classifier to guess from.
TERMINAL_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class IncomingText:
    text: str
    shortened: bool = False


def readable(text: str) -> str:
    """NFC-normalised, without control characters, terminal escape sequences or unpaired surrogates."""
    text = TERMINAL_ESCAPE.sub("", text)
    kept = (
        char
        for char in unicodedata.normalize("NFC", text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
        if char in KEPT_CONTROLS
        or unicodedata.category(char) not in ("Cc", "Cs", "Cf")
        or char in "\u200d"  # keeps emoji sequences (family, flags) whole
    )
    return "".join(kept).strip()


@cache
def _red_flags() -> RedFlagMatcher:
    return RedFlagMatcher.from_file()


def passage(text: str, flag: RedFlag) -> str:
    """The flag's words with some of their sentence around them, cut at whole words, never inside the flag."""
    sentence_start = max((end.end() for end in SENTENCE_END.finditer(text, 0, flag.start)), default=0)
    next_end = SENTENCE_END.search(text, flag.end)
    sentence_end = next_end.start() if next_end else len(text)
    left = max(sentence_start, flag.start - FLAG_CONTEXT_CHARS)
    if left > sentence_start:
        left = text.find(" ", left, flag.start) + 1 or left
    right = min(sentence_end, flag.end + FLAG_CONTEXT_CHARS)
    if right < sentence_end:
        right = max(text.rfind(" ", flag.end, right), flag.end)
    return text[left:right].strip()


def flagged_passages(text: str, after: int) -> List[str]:
    """Passages around the red flags in `text` that end after position `after`, the most severe first."""
    flags = [flag for flag in _red_flags().assess(text).flags if flag.end > after]
    flags.sort(key=lambda flag: -LEVELS.index(flag.level))
    kept: List[str] = []
    for flag in flags:
        words = passage(text, flag)
        if kept and len(GAP.join([*kept, words])) > MAX_FLAGGED_CHARS:
            break
        if words not in kept:
            kept.append(words)
    return kept


@cache
def button_payloads() -> frozenset[str]:
    """"/intent" for each intent in the domain: what the assistant's buttons send."""
    with open(DOMAIN, encoding="utf-8") as handle:
        intents = yaml.safe_load(handle)["intents"]
    names = [intent if isinstance(intent, str) else next(iter(intent)) for intent in intents]
    # Not Rasa's /restart, /back or /session_start: no button sends them, and a parent typing one
    # would get no reply at all (then the apology); as words they get an honest fallback.
    return frozenset(INTENT_MESSAGE_PREFIX + name for name in [*names, DEFAULT_NLU_FALLBACK_INTENT_NAME])


def prepare(text: Any) -> IncomingText:
    """The text to give the model, and whether it was shortened.

    Rasa reads any message that starts with "/" as an intent name, and logs the
    whole message when it is not one. Unless it is a button's payload, such a
    message is read as the words it is.
    """
    text = text if isinstance(text, str) else ""  # socket.io clients can send any JSON
    cleaned = readable(text[:READ_CHARS])
    if cleaned.startswith(INTENT_MESSAGE_PREFIX) and cleaned not in button_payloads():
        cleaned = cleaned.lstrip(INTENT_MESSAGE_PREFIX + " ")
    if len(cleaned) <= MAX_CHARS and len(text) <= READ_CHARS:
        return IncomingText(cleaned)
    start = cleaned[:MAX_CHARS].rsplit(None, 1)[0] if " " in cleaned[:MAX_CHARS] else cleaned[:MAX_CHARS]
    # The whole read part is matched, so a phrase that straddles the cut, and a
    # negation just before a later one, are read as the parent wrote them.
    kept = flagged_passages(cleaned, len(start))
    return IncomingText(GAP.join([start, *kept]), shortened=True)


def red_flag_level(text: str) -> str | None:
    """`urgent`, `emergency` or None, by the red-flag phrases alone, as the NLU pipeline's urgency check reads them."""
    return _red_flags().assess(text).level


def warm_up() -> None:
    """Load the red-flag phrases at start-up rather than during a parent's first long message."""
    _red_flags()
    button_payloads()
