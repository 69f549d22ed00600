"""The vetted content: answers, replies, sources and contacts, loaded and checked once.

Every sentence the assistant says comes from content/*.yml, reviewed by
clinicians. Loading validates the whole set (sources cited exist, placeholders
resolve, related topics exist) so a broken edit stops the action server at
start-up instead of reaching a parent mid-conversation.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

import yaml

from content_library.review import Review, fingerprint, parse_review, plain
from paths import content_dir

MAX_RELATED = 3
RED_FLAGS_FILE = "red_flags.yml"
KINDS = (
    "answer",
    "urgent",
    "emergency",
    "clarify",
    "not_covered",
    "advice",
    "out_of_scope",
    "smalltalk",
    "fallback",
    "other_language",  # a message not in English
    "unavailable",  # sent by the channels when no reply came (connectors/guard.py)
    "notice",  # the web widget's standing notice, and "your message was shortened"
    "unreachable",  # the web widget's message when the servers can't be reached
    "feedback",  # thanks for a "did this help?" rating
    "withheld",  # sent instead of a text that is not approved (content_library/signoff.py)
    "safety",  # after an answer to a story of a sign that is over: what to do if it is happening now
)


# The ids of the contact details' and the red-flag phrases' sign-off records (content_library/signoff.py): no
# answer or reply may take them.
CONTACTS = "contacts"
RED_FLAGS = "red_flags"
RESERVED_IDS = (CONTACTS, RED_FLAGS)
# The published clinical list the red-flag categories implement (content/red_flags.yml: `implements`).
RED_FLAGS_SOURCE = {"source": "rch_itb_complications", "section": "When to call your child's baclofen doctor:"}

# The kinds of reply that offer numbers to call (see Content.calls).
CALLING_KINDS = ("urgent", "emergency", "unavailable", "unreachable", "safety")


class ContentError(ValueError):
    """The content files are inconsistent; the message lists every problem found."""


@dataclass(frozen=True)
class Source:
    id: str
    publisher: str
    title: str
    date: str
    short_name: str
    file: str
    sections: Tuple[str, ...]


@dataclass(frozen=True)
class Citation:
    source: Source
    section: str

    def as_payload(self) -> Dict[str, str]:
        return {
            "publisher": self.source.publisher,
            "title": self.source.title,
            "date": self.source.date,
            "section": self.section,
        }


def cited(citations: Tuple[Citation, ...]) -> str:
    """Citations, short: each sheet once, followed by its sections."""
    by_source: Dict[str, List[str]] = {}
    for citation in citations:
        by_source.setdefault(citation.source.short_name, []).append(f"“{citation.section}”")
    return "; ".join(f"{name}, {', '.join(sections)}" for name, sections in by_source.items())


@dataclass(frozen=True)
class Answer:
    id: str
    title: str
    text: str
    citations: Tuple[Citation, ...]
    related: Tuple[str, ...]
    review: Review | None
    fingerprint: str

    @property
    def source_line(self) -> str:
        """A short 'Source:' line a parent can read on a phone."""
        return "Source: " + cited(self.citations)


@dataclass(frozen=True)
class Reply:
    id: str
    kind: str
    text: str
    title: str
    buttons: Tuple[str, ...]
    review: Review | None
    fingerprint: str


@dataclass(frozen=True)
class RedFlagCategory:
    """What a clinician signs off about one red-flag category: how severe, what it implements, its phrases."""

    name: str
    level: str
    implements: Tuple[str, ...]  # items of the sheet's list, word for word
    addition: str  # why it is (also) the project's own safety addition; empty if it is not
    phrases: Tuple[str, ...]


@dataclass(frozen=True)
class RedFlags:
    """content/red_flags.yml as one sign-off item: every phrase and cue that decides whether a message is urgent."""

    categories: Mapping[str, RedFlagCategory]
    cues: Mapping[str, Tuple[str, ...]]  # information, present, negation, not-red-flag ... cue lists
    source: Citation | None
    review: Review | None
    fingerprint: str

    def as_text(self) -> str:
        """The file as a reviewer reads it in the content report: each category, its source, its phrases."""
        lines = []
        for category in self.categories.values():
            where = "; ".join([*(f"implements “{item}”" for item in category.implements), category.addition])
            phrases = " / ".join(category.phrases)
            lines.append(f"{category.name} ({category.level}): {where.strip('; ')}. Phrases: {phrases}")
        lines += [f"{name}: {' / '.join(cues)}" for name, cues in self.cues.items()]
        return "\n".join(lines)


@dataclass(frozen=True)
class Content:
    answers: Mapping[str, Answer]
    replies: Mapping[str, Reply]
    sources: Mapping[str, Source]
    contacts: Mapping[str, str]
    contacts_source: Citation | None
    contacts_review: Review | None
    contacts_fingerprint: str
    red_flags: RedFlags

    def calls(self, kind: str) -> List[Dict[str, str]]:
        """The numbers a reply of this kind offers as tel: links, in the order to call them (none for most).

        The replies that send a parent to the phone carry them: urgent and
        emergency, and the apologies when the assistant can't answer (whose
        texts name 000 too). domain.yml repeats the urgent ones (they must work
        without the action server); tests/test_content.py checks the copy.
        """
        if kind not in CALLING_KINDS:
            return []
        hospital = {
            "number": self.contacts["hospital_phone"],
            "tel": self.contacts["hospital_phone_tel"],
            "label": self.contacts["hospital_name"],
        }
        emergency = {
            "number": self.contacts["emergency_number"],
            "tel": self.contacts["emergency_number"],
            "label": "Emergency",
        }
        return [hospital] if kind in ("urgent", "safety") else [emergency, hospital]

    def button_title(self, topic_id: str) -> str:
        if topic_id in self.answers:
            return self.answers[topic_id].title
        return self.replies[topic_id].title

    def has_topic(self, topic_id: str) -> bool:
        return topic_id in self.answers or topic_id in self.replies


class _UniqueKeyLoader(yaml.SafeLoader):
    """Plain YAML keeps the last of two equal keys; a second answer with the same id must be an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Dict[Any, Any]:
        keys = [self.construct_object(key_node, deep=deep) for key_node, _ in node.value]
        duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ContentError(f"{node.start_mark.name}: {', '.join(duplicates)} defined more than once")
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects


def _fill(text: str, contacts: Mapping[str, str], where: str, problems: List[str]) -> str:
    """Put contact details into a text, collapsing the YAML line breaks."""
    names = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    unknown = names - set(contacts)
    if unknown:
        problems.append(f"{where}: unknown placeholder(s) {sorted(unknown)}; contacts.yml has {sorted(contacts)}")
        return text
    return plain(text.format_map(contacts))


def _cite(cited: Mapping[str, Any], sources: Mapping[str, Source], where: str, problems: List[str]) -> Citation | None:
    source = sources.get(cited["source"])
    if source is None:
        problems.append(f"{where}: unknown source {cited['source']!r}")
    elif cited["section"] not in source.sections:
        problems.append(f"{where}: {source.id} has no section {cited['section']!r}")
    else:
        return Citation(source, cited["section"])
    return None


def _as_read(citations: List[Citation | None]) -> List[Dict[str, str]]:
    """The citations as a fingerprint covers them: a new edition of a sheet (another date) needs a new approval."""
    return [{"source": c.source.id, "short_name": c.source.short_name, **c.as_payload()} for c in citations if c]


def _red_flags(raw: Dict[str, Any], sources: Mapping[str, Source], problems: List[str]) -> RedFlags:
    """The red-flag file's sign-off item; each category must say what it implements or why it is an addition."""
    categories: Dict[str, RedFlagCategory] = {}
    for name, category in (raw.get("categories") or {}).items():
        implements = tuple(" ".join(str(item).split()) for item in category.get("implements") or ())
        addition = " ".join(str(category.get("addition") or "").split())
        if not implements and not addition:
            problems.append(f"red flag {name}: say which sheet item it `implements`, or why it is an `addition`")
        categories[name] = RedFlagCategory(
            name, str(category.get("level")), implements, addition, tuple(category.get("phrases") or ())
        )
    cues = {key: tuple(value) for key, value in raw.items() if key.endswith("_cues") or key == "not_red_flags"}
    source = _cite(RED_FLAGS_SOURCE, sources, RED_FLAGS, problems)
    read = {key: value for key, value in raw.items() if key != "review"}  # every phrase, cue and level
    return RedFlags(
        categories=categories,
        cues=cues,
        source=source,
        review=parse_review(raw.get("review"), RED_FLAGS, problems),
        fingerprint=fingerprint({"red_flags": read, "source": _as_read([source])}),
    )


def parse_content(
    answers_file: Dict[str, Any],
    sources_file: Dict[str, Any],
    contacts_file: Dict[str, Any],
    red_flags_file: Dict[str, Any],
) -> Content:
    """Build and check the content; raise ContentError naming every problem."""
    problems: List[str] = []
    contacts = {key: str(value) for key, value in contacts_file["contacts"].items()}
    sources = {
        source_id: Source(
            id=source_id,
            publisher=raw["publisher"],
            title=raw["title"],
            date=str(raw["date"]),
            short_name=raw["short_name"],
            file=raw["file"],
            sections=tuple(raw["sections"]),
        )
        for source_id, raw in sources_file["sources"].items()
    }

    answers: Dict[str, Answer] = {}
    for answer_id, raw in answers_file["answers"].items():
        if answer_id in RESERVED_IDS:
            problems.append(f"answer {answer_id}: the id is reserved for a sign-off record")
        citations = [_cite(cited, sources, f"answer {answer_id}", problems) for cited in raw.get("sources") or []]
        if not raw.get("sources"):
            problems.append(f"answer {answer_id}: cites no source")
        answers[answer_id] = Answer(
            id=answer_id,
            title=raw["title"],
            text=_fill(raw["text"], contacts, f"answer {answer_id}", problems),
            citations=tuple(citation for citation in citations if citation),
            related=tuple(raw.get("related") or ()),
            review=parse_review(raw.get("review"), f"answer {answer_id}", problems),
            fingerprint=fingerprint(
                {
                    "answer": answer_id,
                    "title": plain(raw["title"]),
                    "text": plain(raw["text"]),
                    "sources": _as_read(citations),
                }
            ),
        )

    replies: Dict[str, Reply] = {}
    for reply_id, raw in answers_file["replies"].items():
        if reply_id in answers:
            problems.append(f"reply {reply_id}: an answer has the same id")
        if reply_id in RESERVED_IDS:
            problems.append(f"reply {reply_id}: the id is reserved for a sign-off record")
        if raw.get("kind") not in KINDS:
            problems.append(f"reply {reply_id}: kind {raw.get('kind')!r} is not one of {KINDS}")
        replies[reply_id] = Reply(
            id=reply_id,
            kind=raw.get("kind", ""),
            text=_fill(raw["text"], contacts, f"reply {reply_id}", problems),
            title=raw.get("title", ""),
            buttons=tuple(raw.get("buttons") or ()),
            review=parse_review(raw.get("review"), f"reply {reply_id}", problems),
            fingerprint=fingerprint(
                {
                    "reply": reply_id,
                    "kind": raw.get("kind", ""),
                    "title": plain(raw.get("title", "")),
                    "text": plain(raw["text"]),
                }
            ),
        )

    titled = {*answers, *(reply_id for reply_id, reply in replies.items() if reply.title)}
    for answer in answers.values():
        if len(answer.related) > MAX_RELATED:
            problems.append(f"answer {answer.id}: {len(answer.related)} related topics, at most {MAX_RELATED}")
        for topic in answer.related:
            if topic not in answers or topic == answer.id:
                problems.append(f"answer {answer.id}: related topic {topic!r} is not another answer")
    for reply in replies.values():
        for topic in reply.buttons:
            if topic not in titled:
                problems.append(f"reply {reply.id}: button {topic!r} is not an answer or a titled reply")

    contacts_review = parse_review(contacts_file.get("review"), "contacts", problems)
    cited = contacts_file.get("source") or {"source": None, "section": None}
    contacts_source = _cite(cited, sources, CONTACTS, problems)
    red_flags = _red_flags(red_flags_file, sources, problems)
    if problems:
        raise ContentError("content/ has problems:\n- " + "\n- ".join(problems))
    return Content(
        answers=answers,
        replies=replies,
        sources=sources,
        contacts=contacts,
        contacts_source=contacts_source,
        contacts_review=contacts_review,
        contacts_fingerprint=fingerprint({"contacts": contacts, "source": _as_read([contacts_source])}),
        red_flags=red_flags,
    )


def load_content(directory: Path | None = None) -> Content:
    """Load the content once per process; actions share the result."""
    return _loaded(directory or content_dir())


def read_content(directory: Path) -> Content:
    """Read and check the content files in `directory` afresh (make approve reads them before and after writing)."""
    return parse_content(
        read_yaml(directory / "answers.yml"),
        read_yaml(directory / "sources.yml"),
        read_yaml(directory / "contacts.yml"),
        read_yaml(directory / RED_FLAGS_FILE),
    )


_loaded = cache(read_content)
