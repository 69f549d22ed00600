"""What parents ask that the assistant can't answer: reading the stored conversations and analysing them.

The clinical content team decides which answers to write next from this (make
insights; scripts/insights.py writes the report, conversations/insights_report.py
renders it). Everything here works on the events Rasa's SQLTrackerStore keeps,
as plain dicts (the `data` column, Rasa's `Event.as_dict()`), so the analysis is
tested on events built in memory and run on SQLite or PostgreSQL alike.

Privacy: the sender id (on SMS, a parent's phone number) only groups events into
conversations and is dropped as soon as they are read; times are kept to the day;
any text that may be shown goes through `mask` first.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from itertools import groupby
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Sequence, Tuple

import numpy as np
import scipy.sparse as sparse
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.preprocessing import normalize
from sqlalchemy.engine import Engine

# The replies that mean "I can't answer that" (custom.kind, content_library/content.py KINDS).
UNANSWERED_KINDS = ("not_covered", "clarify", "fallback")
RATINGS = {"feedback_helpful": "helpful", "feedback_unhelpful": "unhelpful"}
# The urgent replies are domain responses; their action events say so even if a reply lost its `custom`.
URGENT_ACTIONS = {"utter_urgent": "urgent", "utter_emergency": "emergency"}
# Not a reply to the question: the channels' "I read only the start" note.
NOT_A_REPLY = ("notice",)
# How a button's payload arrives: "/intent", perhaps with entities as JSON.
PAYLOAD = re.compile(r"/(\w+)(\{.*\})?", re.DOTALL)
LONGEST_SHOWN = 200  # characters of a parent's message shown in the report
WITHOUT_WORDS = "(a message without words: a photo, sticker or file)"

# --- Masking -------------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|edu|gov|info|io|au|uk|nz)\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?",
    re.IGNORECASE,
)
# Six digits or more, allowing the spaces, dashes, dots and brackets phone numbers are written with.
NUMBER = re.compile(r"[+(]{0,2}\d(?:[\s().\-]{0,3}\d){5,}\)?")


def mask(text: str) -> str:
    """`text` with email addresses, links, and phone numbers or any other run of 6+ digits replaced.

    Emails first (their domain would otherwise read as a link), then links (which may hold digits).
    """
    text = EMAIL.sub("[email]", text)
    text = LINK.sub("[link]", text)
    return NUMBER.sub("[number]", text)


def shown(text: str) -> str:
    """A parent's message as the report may show it: masked, on one line, cut to LONGEST_SHOWN characters."""
    line = mask(" ".join(text.split()))
    return line if len(line) <= LONGEST_SHOWN else line[: LONGEST_SHOWN - 1].rstrip() + "…"


# --- Turns: a parent's message and the replies to it ---------------------------------------------------


@dataclass(frozen=True)
class Reply:
    kind: str
    answer_id: str = ""
    withheld: str = ""  # the item a `withheld` reply stands in for


@dataclass(frozen=True)
class Turn:
    """One message from a parent, and what the bot sent before the next one."""

    text: str
    intent: str
    channel: str
    timestamp: float
    replies: Tuple[Reply, ...] = ()
    urgent_actions: Tuple[str, ...] = ()  # utter_urgent / utter_emergency, if they ran

    @property
    def is_button(self) -> bool:
        """A button press (its payload), not words: "/pump_refill" with intent pump_refill."""
        match = PAYLOAD.fullmatch(self.text.strip())
        return bool(match) and match.group(1) == self.intent

    @property
    def first_kind(self) -> str:
        kinds = [reply.kind for reply in self.replies if reply.kind not in NOT_A_REPLY]
        return kinds[0] if kinds else ""

    @property
    def urgency(self) -> str:
        """The more severe of "emergency" and "urgent" if that reply was sent, else "".

        The reply's kind is enough; the action that sends it counts too, in case a domain
        response ever loses its `custom`.
        """
        levels = {reply.kind for reply in self.replies} | {URGENT_ACTIONS[name] for name in self.urgent_actions}
        return "emergency" if "emergency" in levels else "urgent" if "urgent" in levels else ""


def _reply(event: Mapping[str, Any]) -> Reply:
    custom = (event.get("data") or {}).get("custom") or {}
    if not isinstance(custom, Mapping):
        return Reply("")
    return Reply(str(custom.get("kind") or ""), str(custom.get("answer_id") or ""), str(custom.get("withheld") or ""))


def conversation_turns(events: Iterable[Mapping[str, Any]]) -> List[Turn]:
    """A conversation's events (in the order stored) as turns; what comes before the first message is dropped."""
    turns: List[Turn] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            turns.append(
                Turn(
                    text=event.get("text") or "",
                    intent=intent,
                    channel=event.get("input_channel") or "unknown",
                    timestamp=float(event.get("timestamp") or 0.0),
                )
            )
        elif turns and kind == "bot":
            turns[-1] = replace(turns[-1], replies=(*turns[-1].replies, _reply(event)))
        elif turns and kind == "action" and event.get("name") in URGENT_ACTIONS:
            turns[-1] = replace(turns[-1], urgent_actions=(*turns[-1].urgent_actions, event["name"]))
    return turns


# --- Reading the store ---------------------------------------------------------------------------------


def read_conversations(engine: Engine) -> Iterator[List[Dict[str, Any]]]:
    """Each conversation's user and bot events (and urgent actions), one conversation at a time.

    Ordered by sender id and then id, so a conversation's events are together and in the order
    they happened; the sender id is not passed on. A row whose JSON can't be read is skipped.
    """
    events = SQLTrackerStore.SQLEvent.__table__
    if not sa.inspect(engine).has_table(events.name):
        return
    query = (
        sa.select(events.c.sender_id, events.c.data)
        .where(sa.or_(events.c.type_name.in_(("user", "bot")), events.c.action_name.in_(tuple(URGENT_ACTIONS))))
        .order_by(events.c.sender_id, events.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execution_options(stream_results=True).execute(query)
        for _sender, group in groupby(rows, key=lambda row: row.sender_id):
            yield [event for event in (_parse(row.data) for row in group) if event is not None]


def _parse(data: str | None) -> Dict[str, Any] | None:
    try:
        event = json.loads(data or "")
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


# --- Analysis ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A message whose first reply was one of UNANSWERED_KINDS, as it may be shown."""

    text: str
    kind: str


@dataclass
class Ratings:
    helpful: int = 0
    unhelpful: int = 0
    # What was asked before each answer rated unhelpful, as it may be shown (see `asked`).
    unhelpful_questions: List[str] = field(default_factory=list)


@dataclass
class Insights:
    """The counts and shown texts the report is made of: no sender ids, no time finer than the day."""

    since: date | None = None
    conversations: int = 0
    messages: Counter = field(default_factory=Counter)  # (day, channel) -> parent messages
    buttons: int = 0
    questions: List[Question] = field(default_factory=list)
    ratings: Dict[str, Ratings] = field(default_factory=dict)
    unattributed_ratings: int = 0  # ratings with no answer before them
    urgent: Counter = field(default_factory=Counter)  # (day, "urgent" | "emergency") -> messages
    withheld: Counter = field(default_factory=Counter)  # item id -> times a parent got `withheld` instead

    @property
    def days(self) -> List[date]:
        """Every day from the first to the last parent message, inclusive."""
        seen = sorted({day for day, _ in self.messages})
        if not seen:
            return []
        return [date.fromordinal(ordinal) for ordinal in range(seen[0].toordinal(), seen[-1].toordinal() + 1)]


def day_of(timestamp: float, tz: tzinfo | None = None) -> date:
    """The calendar day of a Unix time in `tz` (None: the machine's local time zone)."""
    return datetime.fromtimestamp(timestamp, tz).date()


def asked(turn: Turn, titles: Mapping[str, str]) -> str:
    """What a parent asked, as shown: their words masked and in quotes, or "(button)" and the topic's title."""
    if turn.is_button:
        return f"(button) {titles.get(turn.intent, turn.intent)}"
    return f"“{shown(turn.text)}”"


def analyse(
    conversations: Iterable[Sequence[Mapping[str, Any]]],
    titles: Mapping[str, str] | None = None,
    since: date | None = None,
    tz: tzinfo | None = None,
) -> Insights:
    """Count what the report shows, over the parents' messages from `since` (a day in `tz`) on.

    Earlier messages still give a rating its answer. `titles` names the topics buttons lead to.
    """
    titles = titles or {}
    insights = Insights(since=since)
    for events in conversations:
        if _add_conversation(insights, conversation_turns(events), titles, since, tz):
            insights.conversations += 1
    return insights


def _add_conversation(
    insights: Insights, turns: Sequence[Turn], titles: Mapping[str, str], since: date | None, tz: tzinfo | None
) -> bool:
    """Add one conversation's turns to `insights`; whether it had a message in the period."""
    # The answer the previous turn ended with, if any, and the turn that asked for it: a rating is about the
    # answer straight before it, so after a turn without one (a second press, a "not covered") there is none.
    previous_answer: Tuple[str, Turn] | None = None
    counted = False
    for turn in turns:
        day = day_of(turn.timestamp, tz)
        if since is None or day >= since:
            counted = True
            _count_turn(insights, turn, day)
            if turn.intent in RATINGS:
                _count_rating(insights, RATINGS[turn.intent], previous_answer, titles)
        answers = [reply.answer_id for reply in turn.replies if reply.kind == "answer" and reply.answer_id]
        previous_answer = (answers[-1], turn) if answers else None
    return counted


def _count_rating(
    insights: Insights, rating: str, answer: Tuple[str, Turn] | None, titles: Mapping[str, str]
) -> None:
    if answer is None:
        insights.unattributed_ratings += 1
        return
    answer_id, question = answer
    counts = insights.ratings.setdefault(answer_id, Ratings())
    if rating == "helpful":
        counts.helpful += 1
    else:
        counts.unhelpful += 1
        counts.unhelpful_questions.append(asked(question, titles))


def _count_turn(insights: Insights, turn: Turn, day: date) -> None:
    insights.messages[(day, turn.channel)] += 1
    if turn.is_button:
        insights.buttons += 1
    elif turn.first_kind in UNANSWERED_KINDS:
        insights.questions.append(Question(shown(turn.text) or WITHOUT_WORDS, turn.first_kind))
    if turn.urgency:
        insights.urgent[(day, turn.urgency)] += 1
    for reply in turn.replies:
        if reply.kind == "withheld" and reply.withheld:
            insights.withheld[reply.withheld] += 1


# --- Clustering the questions --------------------------------------------------------------------------

# Average-linkage clusters merge while the average cosine distance between their questions is at most
# this (similarity at least 0.2). Chosen on paraphrases of questions the fact sheets don't cover (hot
# tub, swimming, flying, MRI, cost): at 0.8 each topic's wordings came together and no two topics did;
# at 0.85 "does the pump hurt when it is refilled" joined "how much does the pump cost".
DISTANCE_THRESHOLD = 0.8
# Words that say nothing about the topic: English stop words, the ones chat adds, and mask's stand-ins.
CHAT_WORDS = {"does", "did", "ok", "okay", "u", "r", "ur", "im", "whats", "thats", "dont", "cant", "pls", "please"}
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS | CHAT_WORDS | {"number", "email", "link"})
WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Cluster:
    questions: Tuple[Question, ...]
    key_words: Tuple[str, ...] = ()  # its most weighted single words: a label to scan the list by

    @property
    def size(self) -> int:
        return len(self.questions)

    def count(self, kind: str) -> int:
        return sum(question.kind == kind for question in self.questions)

    def examples(self, limit: int = 3) -> List[str]:
        """The most frequent distinct wordings (see `wording`), the most frequent first."""
        frequency = Counter(wording(question.text) for question in self.questions)
        first_seen: Dict[str, str] = {}
        for question in self.questions:
            first_seen.setdefault(wording(question.text), question.text)
        return [first_seen[key] for key, _ in frequency.most_common(limit)]


def wording(text: str) -> str:
    """`text` ignoring case and spacing: two messages with the same wording are one example."""
    return " ".join(text.casefold().split())


def content_words(text: str) -> str:
    return " ".join(word for word in WORD.findall(text.lower()) if word not in STOP_WORDS)


def _tfidf(vectorizer: TfidfVectorizer, corpus: Sequence[str], texts: Sequence[str]) -> sparse.csr_matrix:
    try:
        return normalize(vectorizer.fit(corpus).transform(texts))
    except ValueError:  # not one content word in the whole corpus
        return sparse.csr_matrix((len(texts), 0))


def cluster_questions(
    questions: Sequence[Question], background: Sequence[str] = (), threshold: float = DISTANCE_THRESHOLD
) -> List[Cluster]:
    """Group questions by similar wording; the biggest groups first.

    Each distinct wording (ignoring case and spacing) becomes word 1-2-gram and character 3-5-gram
    TF-IDF vectors of its content words (English stop words left out), the two weighted equally.
    The weights are learnt from `background` (the training examples) plus the questions, so words
    nearly every ITB question has, like "pump", count for little. Wordings are then joined by
    average-linkage agglomerative clustering on cosine distance, up to `threshold`.
    """
    if not questions:
        return []
    by_wording: Dict[str, List[Question]] = {}
    for question in questions:
        by_wording.setdefault(wording(question.text), []).append(question)
    wordings = list(by_wording)
    corpus = [*background, *wordings]
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words=sorted(STOP_WORDS))
    word_vectors = _tfidf(words, corpus, wordings)
    characters = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, preprocessor=content_words)
    vectors = sparse.hstack([word_vectors, _tfidf(characters, corpus, wordings)]).tocsr()
    if vectors.shape[1]:
        vectors = normalize(vectors)

    if len(wordings) == 1:
        labels = np.ones(1, dtype=int)
    else:
        distances = np.clip(1.0 - (vectors @ vectors.T).toarray(), 0.0, 2.0)
        np.fill_diagonal(distances, 0.0)
        labels = fcluster(linkage(squareform(distances, checks=False), method="average"), threshold, "distance")

    vocabulary = words.get_feature_names_out() if word_vectors.shape[1] else np.array([], dtype=str)
    single_words = np.array([" " not in term for term in vocabulary], dtype=bool)
    clusters = []
    for label in sorted(set(labels)):
        members = np.flatnonzero(labels == label)
        weights = np.asarray(word_vectors[members].sum(axis=0)).ravel() * single_words
        key_words = tuple(str(vocabulary[i]) for i in np.argsort(-weights, kind="stable")[:3] if weights[i] > 0)
        grouped = tuple(question for index in members for question in by_wording[wordings[index]])
        clusters.append(Cluster(grouped, key_words))
    return sorted(clusters, key=lambda cluster: (-cluster.size, cluster.examples(1)[0].casefold()))
