"""Putting the domain's words right before the model reads them: "bak lo fen" is baclofen.

Parents write the drug and therapy names as they sound, or in pieces: backlofen, bak lo fen,
intra thecal, I T B. The character n-grams catch some of these, a sentence encoder few (it has
never seen "backlofen"). content/spellings.yml lists, for each word, the spellings that mean it:
a data file the content team or a clinician can extend, as they do the red flags. Only whole
words are replaced (case, and the spaces, dots or hyphens between a split word's pieces, do not
matter), so an entry can never change a word it doesn't name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Dict, Mapping

from content_library.content import read_yaml
from paths import content_dir

SPELLINGS_FILE = "spellings.yml"
# Between the pieces of a split word: spaces, or a dot or hyphen with or without them ("i.t.b", "bac-lo-fen").
PIECE_GAP = r"[\s.\-]*"


class SpellingsError(ValueError):
    """The spellings file is inconsistent; the message says where."""


def squashed(spelling: str) -> str:
    """A spelling without case or the gaps between its pieces: "Bak lo-fen" and "baklofen" are one."""
    return re.sub(r"[\s.\-]+", "", spelling.strip().lower())


def variant_pattern(variant: str) -> str:
    pieces = re.split(r"[\s.\-]+", variant.strip().lower())
    if not all(piece.isalnum() for piece in pieces):
        raise SpellingsError(f"spelling {variant!r}: only letters and digits, with spaces between pieces")
    return PIECE_GAP.join(re.escape(piece) for piece in pieces)


@dataclass(frozen=True)
class Spellings:
    """Each variant spelling (squashed) and the word it stands for, and when to leave a message as written."""

    words: Mapping[str, str]
    variants: tuple = ()  # the spellings as listed, gaps and all: what the pattern looks for
    as_written_when: frozenset = frozenset()  # words of a message about saying or spelling a word

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> "Spellings":
        words: Dict[str, str] = {}
        listed = []
        for word, variants in (raw.get("words") or {}).items():
            for variant in variants or []:
                variant_pattern(str(variant))  # refuses what isn't letters, digits and gaps
                key = squashed(str(variant))
                if key in words and words[key] != word:
                    raise SpellingsError(f"spelling {variant!r} is listed for both {words[key]!r} and {word!r}")
                words[key] = str(word)
                listed.append(str(variant).strip().lower())
        as_written = frozenset(str(word).lower() for word in raw.get("read_as_written_when") or ())
        return cls(words, tuple(dict.fromkeys(listed)), as_written)

    @classmethod
    def from_file(cls, path: Path | None = None) -> "Spellings":
        return _read(path or content_dir() / SPELLINGS_FILE)

    @property
    def _pattern(self) -> re.Pattern[str] | None:
        return _compile(tuple(sorted(self.variants, key=len, reverse=True)))

    def normalise(self, text: str) -> str:
        """`text` with every listed spelling replaced by its word; everything else exactly as written."""
        pattern = self._pattern
        if pattern is None or not text or self.as_written_when & set(re.findall(r"\w+", text.lower())):
            return text
        return pattern.sub(lambda match: self.words[squashed(match.group(0))], text)


@cache
def _compile(variants: tuple) -> re.Pattern[str] | None:
    if not variants:
        return None
    alternatives = "|".join(variant_pattern(variant) for variant in variants)
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)


@cache
def _read(path: Path) -> Spellings:
    return Spellings.from_mapping(read_yaml(path))
