"""How the pipeline reads a parent's message before classifying it: spellings put right, questions found.

Hermetic: content/spellings.yml with nlu/spellings.py, nlu/sentences.py, and the classifier's way of
combining the whole message with its questions (nlu/intent_classifier.py). The trained pipeline's
handling of whole messages is in tests/test_understanding.py and, over REST, tests/test_realistic_e2e.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import numpy as np
import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from content_library.content import Content, read_yaml
from nlu.intent_classifier import SECOND_QUESTION_CONFIDENCE, combine, second_question
from nlu.reading import QUESTIONS, READ_TEXT, MessageReader, with_questions
from nlu.sentences import asks, questions, sentences
from nlu.spellings import SPELLINGS_FILE, Spellings, SpellingsError, squashed
from paths import CONTENT_DIR, sources_dir
from tests.support.outside import missing


@pytest.fixture(scope="module")
def spellings() -> Spellings:
    return Spellings.from_file()


@pytest.mark.parametrize(
    "written, read",
    [
        ("my son is on bak lo fen since jan", "my son is on baclofen since jan"),
        ("Backlofen side affects?", "baclofen side effects?"),
        ("the I.T.B pump needs a refil", "the itb pump needs a refill"),
        ("intra thecal or intrathekal, its all the same", "intrathecal or intrathecal, its all the same"),
    ],
)
def test_the_domains_words_are_put_right_and_nothing_else_is_touched(
    spellings: Spellings, written: str, read: str
) -> None:
    assert spellings.normalise(written) == read


def test_only_whole_words_are_replaced(spellings: Spellings) -> None:
    assert spellings.normalise("he's on baclofen, the pump is fine") == "he's on baclofen, the pump is fine"
    variant = next(key for key, word in spellings.words.items() if word == "baclofen" and key != "baclofen")
    assert spellings.normalise(f"x{variant}") == f"x{variant}"


def test_a_question_about_how_a_word_is_said_is_read_as_written(spellings: Spellings) -> None:
    assert spellings.normalise("is it back low fen or bay clo fen? how do you say it") == (
        "is it back low fen or bay clo fen? how do you say it"
    )


def test_a_spelling_listed_for_two_words_is_refused() -> None:
    with pytest.raises(SpellingsError, match="listed for both"):
        Spellings.from_mapping({"words": {"baclofen": ["baklofen"], "dystonia": ["bak-lofen"]}})


def test_a_spelling_with_other_characters_is_refused() -> None:
    with pytest.raises(SpellingsError, match="only letters and digits"):
        Spellings.from_mapping({"words": {"baclofen": ["bac*lofen"]}})


def test_no_listed_spelling_is_a_word_the_sheets_or_the_answers_use(content: Content) -> None:
    """A spelling that is a real word would change every message that uses it; the sheets' own words show some."""
    texts = [answer.text for answer in content.answers.values()] + [reply.text for reply in content.replies.values()]
    for source in content.sources.values():
        path = sources_dir() / source.file
        if not path.exists():
            missing(f"Fact sheet {path} is missing", "put the sheets in ../shared/sources or set ITB_SOURCES_DIR")
        texts.append(path.read_text(encoding="utf-8"))
    used = {word for text in texts for word in re.findall(r"[a-z0-9]+", text.lower())}
    listed = read_yaml(CONTENT_DIR / SPELLINGS_FILE)["words"]
    clashes = {
        variant: word
        for word, variants in listed.items()
        for variant in variants
        if squashed(variant) in used and squashed(variant) != squashed(word)
    }
    assert clashes == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("how often is it refilled", []),  # one sentence: the message is its own question
        (
            "We saw the neurologist today. She said his tone is high. How often would the pump need filling?",
            ["How often would the pump need filling?"],
        ),
        ("thanks. ok.", []),
        ("my son has cp. he is 7\nwhat r the side effects", ["what r the side effects"]),
        ("Does it hurt? And how long does a refill take?", ["Does it hurt?", "And how long does a refill take?"]),
    ],
)
def test_the_sentences_that_ask_are_found(text: str, expected: List[str]) -> None:
    assert questions(text) == expected


def test_a_sentence_asks_with_or_without_its_question_mark() -> None:
    assert asks("whats the difference between the trials")
    assert asks("The pump is permanent right?")
    assert not asks("She has had the pump for two years.")
    assert sentences("One. Two!  Three?") == ["One.", "Two!", "Three?"]


def test_the_reader_keeps_the_parents_text_and_reads_it_right_with_its_questions() -> None:
    reader = MessageReader(MessageReader.get_default_config(), Spellings.from_file())
    text = "Our physio mentioned the pump. Is backlofen given every day? Does it hurt?"
    [message] = reader.process([Message(data={TEXT: text})])
    assert message.get(TEXT) == text
    assert message.get(READ_TEXT) == "Our physio mentioned the pump. Is baclofen given every day? Does it hurt?"
    asked = [question.get(TEXT) for question in message.get(QUESTIONS)]
    assert asked == ["Is baclofen given every day?", "Does it hurt?"]
    assert with_questions([message]) == [message, *message.get(QUESTIONS)]


def test_the_most_confident_reading_of_the_whole_message_and_its_questions_wins() -> None:
    whole = np.array([0.5, 0.3, 0.2])
    asked = [np.array([0.4, 0.4, 0.2]), np.array([0.1, 0.9, 0.0])]
    combined, clearest = combine(whole, asked)
    assert clearest == 1 and np.array_equal(combined, asked[1])
    sure = np.array([0.95, 0.03, 0.02])
    assert combine(sure, asked)[0] is sure and combine(sure, asked)[1] == 1
    assert combine(whole, [])[0] is whole


def test_a_question_read_on_its_own_never_hides_the_urgency_of_the_whole_message() -> None:
    whole = np.array([0.2, 0.7, 0.1])  # urgent is class 1
    asked = [np.array([0.9, 0.05, 0.05])]
    combined, _ = combine(whole, asked, keep=[1])
    assert combined[0] == 0.9 and combined[1] == 0.7


def test_a_confident_other_question_about_something_else_is_the_second_question() -> None:
    classes = ["pump_refill", "withdrawal", "urgent"]
    asked = [np.array([0.9, 0.05, 0.05]), np.array([0.1, SECOND_QUESTION_CONFIDENCE + 0.1, 0.3])]
    assert second_question(classes, asked, 0, "pump_refill") == ("withdrawal", pytest.approx(0.6))
    unsure = [asked[0], np.array([0.3, 0.4, 0.3])]
    assert second_question(classes, unsure, 0, "pump_refill") is None
    urgent = [asked[0], np.array([0.0, 0.1, 0.9])]
    assert second_question(classes, urgent, 0, "pump_refill") is None  # urgency is the urgency check's


def test_the_spellings_file_is_where_the_content_is(tmp_path: Path) -> None:
    (tmp_path / SPELLINGS_FILE).write_text("words:\n  baclofen: [baklofin]\n", encoding="utf-8")
    assert Spellings.from_file(tmp_path / SPELLINGS_FILE).normalise("baklofin") == "baclofen"
