"""The deterministic red-flag layer and the NLU component that decides urgency."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.shared.nlu.training_data.message import Message

from urgency.detector import UrgencyDetector
from urgency.red_flags import RedFlagMatcher, phrase_to_pattern


@pytest.fixture(scope="module")
def matcher() -> RedFlagMatcher:
    return RedFlagMatcher.from_file()


@pytest.fixture(scope="module")
def detector(matcher: RedFlagMatcher) -> UrgencyDetector:
    return UrgencyDetector({**UrgencyDetector.get_default_config()}, matcher)


@pytest.mark.parametrize(
    "text, level",
    [
        ("his pump is beeping", "urgent"),
        ("the PUMP ALARM keeps going off", "urgent"),
        ("we missed her refill appointment last week", "urgent"),
        ("we ran out of his baclofen syrup", "urgent"),
        ("she's really itchy and sweaty", "urgent"),
        ("he has a fever", "urgent"),
        ("her spasms are back suddenly", "urgent"),
        ("he's hallucinating", "urgent"),
        ("the wound around the pump is red and swollen", "urgent"),
        ("terrible headache and a stiff neck", "urgent"),
        ("he fell on his pump", "urgent"),
        ("this is an emergency", "urgent"),
        ("he can't breathe", "emergency"),
        ("he cant breathe", "emergency"),
        ("his lips are going blue", "emergency"),
        ("she won't wake up", "emergency"),
        ("hes having a siezure", "emergency"),
        ("he collapsed", "emergency"),
    ],
)
def test_red_flags_are_caught(matcher: RedFlagMatcher, text: str, level: str) -> None:
    assert matcher.assess(text).level == level


@pytest.mark.parametrize(
    "text",
    [
        "does the pump medicine ever cause headaches?",
        "a friend said stopping baclofen causes withdrawal, is that true?",
        "how often is the pump refilled",
        "what is spasticity",
    ],
)
def test_information_questions_are_not_alarms(matcher: RedFlagMatcher, text: str) -> None:
    assert matcher.assess(text).level is None


def test_a_red_flag_in_a_general_question_is_set_aside_not_ignored(matcher: RedFlagMatcher) -> None:
    assessment = matcher.assess("can baclofen cause itching?")
    assert assessment.level is None and assessment.set_aside
    assert [flag.category for flag in assessment.flags] == ["sweaty_itchy_grumpy"]


@pytest.mark.parametrize("text", ["no fever, just asking", "not an emergency, but how often is it refilled"])
def test_a_negated_red_flag_does_not_count(matcher: RedFlagMatcher, text: str) -> None:
    assert matcher.assess(text).level is None


@pytest.mark.parametrize(
    "text", ["im confused about the two kinds of trial", "whats the emergency number", "he fell asleep on his tummy"]
)
def test_a_red_flag_word_with_another_meaning_does_not_count(matcher: RedFlagMatcher, text: str) -> None:
    assert matcher.assess(text).level is None


def test_the_child_being_confused_still_counts(matcher: RedFlagMatcher) -> None:
    assert matcher.assess("he is confused and doesnt know where he is").level == "urgent"


def test_a_negation_before_a_different_word_does_not_cancel_an_emergency(matcher: RedFlagMatcher) -> None:
    assert matcher.assess("no, he can't breathe").level == "emergency"
    assert matcher.assess("no he cant breathe").level == "emergency"


def test_an_information_question_about_a_situation_happening_now_is_still_urgent(matcher: RedFlagMatcher) -> None:
    assert matcher.assess("can baclofen cause itching? she is itchy right now").level == "urgent"


def test_emergency_signs_are_never_set_aside_as_questions(matcher: RedFlagMatcher) -> None:
    assert matcher.assess("is it a side effect if he's not breathing properly").level == "emergency"


def test_a_match_reports_where_it_is_in_what_the_parent_typed(matcher: RedFlagMatcher) -> None:
    text = "Help, he CAN’T breathe"
    [flag] = [f for f in matcher.assess(text).flags if f.category == "breathing"]
    assert text[flag.start : flag.end] == "CAN’T breathe"


def test_phrase_language() -> None:
    assert phrase_to_pattern("pump * beeping|alarm") == [
        {"LOWER": "pump"},
        {"OP": "?"},
        {"OP": "?"},
        {"OP": "?"},
        {"LOWER": {"IN": ["beeping", "alarm"]}},
    ]
    with pytest.raises(ValueError):
        phrase_to_pattern("* beeping")


def message(text: str, ranking: List[Dict[str, Any]]) -> Message:
    msg = Message(data={"text": text})
    msg.set("intent", ranking[0])
    msg.set("intent_ranking", ranking)
    return msg


def decided(detector: UrgencyDetector, text: str, ranking: List[Dict[str, Any]]) -> str | None:
    [processed] = detector.process([message(text, ranking)])
    return processed.get("intent")["name"]


def test_a_red_flag_overrides_a_confident_informational_intent(detector: UrgencyDetector) -> None:
    ranking = [{"name": "pump_how_it_works", "confidence": 0.97}, {"name": "urgent", "confidence": 0.01}]
    msg = message("the pump is beeping", ranking)
    [processed] = detector.process([msg])
    assert processed.get("intent") == {"name": "urgent", "confidence": 1.0}
    assert processed.get("intent_ranking")[0]["name"] == "urgent"
    [entity] = processed.get("entities")
    assert entity["entity"] == "red_flag" and entity["value"] == "pump_alarm"


def test_the_urgent_intent_alone_is_enough(detector: UrgencyDetector) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "urgent", "confidence": 0.35},
        {"name": "side_effects", "confidence": 0.3},
    ]
    assert decided(detector, "something is not right with him", ranking) == "urgent"


def test_urgent_and_emergency_confidence_add_up(detector: UrgencyDetector) -> None:
    ranking = [
        {"name": "side_effects", "confidence": 0.6},
        {"name": "urgent", "confidence": 0.2},
        {"name": "emergency", "confidence": 0.15},
    ]
    assert decided(detector, "he is not right", ranking) == "urgent"


def test_the_emergency_intent_escalates(detector: UrgencyDetector) -> None:
    ranking = [{"name": "urgent", "confidence": 0.6}, {"name": "emergency", "confidence": 0.4}]
    assert decided(detector, "he is grey and floppy", ranking) == "emergency"


def test_a_calm_question_keeps_its_intent(detector: UrgencyDetector) -> None:
    ranking = [{"name": "side_effects", "confidence": 0.9}, {"name": "urgent", "confidence": 0.05}]
    assert decided(detector, "does the pump medicine ever cause headaches?", ranking) == "side_effects"


# --- Time: a sign told as past and over ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a few months ago he had a fever with the pump, he's fine now. what are the side effects in general?",
        "two years ago his scar got infected, it healed up. what can go wrong with the pump?",
        "last month his pump was beeping but it was sorted the same day. how often is it refilled?",
        "when she started on the pump she was really floppy for a week. that's long behind us now.",
    ],
)
def test_an_urgent_sign_told_as_past_and_over_is_set_aside_as_over(matcher: RedFlagMatcher, text: str) -> None:
    assessment = matcher.assess(text)
    assert assessment.level is None and assessment.set_aside and assessment.over and assessment.told_as_past


@pytest.mark.parametrize(
    "text",
    [
        "last year she had a seizure after her refill but she's been fine since. does baclofen cause seizures?",
        "when he was little he stopped breathing once, he's ok now, is itb safe?",
        "two years ago she collapsed at school and hasn't had anything like it since",
    ],
)
def test_an_emergency_sign_is_set_aside_only_when_past_and_over_are_both_said(
    matcher: RedFlagMatcher, text: str
) -> None:
    assert matcher.assess(text).over


@pytest.mark.parametrize(
    "text, level",
    [
        # Past but not said to be over: uncertain, so urgent.
        ("my son had a fever last week", "urgent"),
        # Over, but something is happening now.
        ("he had a fever last week and it cleared up, but it's back tonight", "urgent"),
        ("last year he stopped breathing, he's fine now but now he's going blue", "emergency"),
        # "Not fine" is not over.
        ("she had a seizure last year and she's not fine now", "emergency"),
        ("she had a seizure last year and she's really not fine", "emergency"),
        # An emergency sign in the past, with a question but nothing to say it is over.
        ("he had a seizure last year, can baclofen cause seizures?", "emergency"),
        # Over, then happening again now.
        ("two years ago she had a seizure. she's been fine. she's shaking now", "emergency"),
        # The story is closed before the sign: whatever was fine is not what is happening.
        ("last year he was fine but he is struggling to breathe", "emergency"),
        ("she was fine at christmas but she is having a seizure", "emergency"),
        ("last year she had a seizure and she was fine. can baclofen cause seizures? she is fitting now", "emergency"),
    ],
)
def test_a_past_sign_that_may_not_be_over_keeps_the_urgent_reply(
    matcher: RedFlagMatcher, text: str, level: str
) -> None:
    assessment = matcher.assess(text)
    assert assessment.level == level and not assessment.over


def test_a_general_question_that_mentions_the_past_is_answered_with_the_line_about_now(
    matcher: RedFlagMatcher,
) -> None:
    assessment = matcher.assess("he had a fever last week, what are the side effects?")
    assert assessment.level is None and assessment.told_as_past and not assessment.over


def test_a_general_question_without_a_past_gets_no_line_about_now(matcher: RedFlagMatcher) -> None:
    assessment = matcher.assess("can baclofen cause itching?")
    assert assessment.set_aside and not assessment.told_as_past


# --- A bare cry for help --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["help", "HELP!!", "help me please", "please help", "Pls help!!!", "someone help us now"]
)
def test_a_bare_cry_for_help_is_urgent_and_is_followed_by_what_the_assistant_can_do(
    matcher: RedFlagMatcher, text: str
) -> None:
    assessment = matcher.assess(text)
    assert assessment.level == "urgent" and assessment.cry_for_help
    assert [flag.followup for flag in assessment.flags] == ["capabilities"]


@pytest.mark.parametrize(
    "text", ["can you help me understand the pump", "please help me find the trial sheet", "thanks for the help"]
)
def test_asking_for_help_with_something_is_not_a_cry_for_help(matcher: RedFlagMatcher, text: str) -> None:
    assert matcher.assess(text).level is None


# --- The detector with time and cries -------------------------------------------------------------------


def test_an_over_and_done_story_is_answered_even_if_the_classifier_reads_it_as_urgent(
    detector: UrgencyDetector,
) -> None:
    ranking = [{"name": "urgent", "confidence": 0.6}, {"name": "side_effects", "confidence": 0.3}]
    text = "a few months ago he had a fever, he's fine now. what are the side effects in general?"
    [processed] = detector.process([message(text, ranking)])
    assert processed.get("intent")["name"] == "side_effects"
    assert [e["entity"] for e in processed.get("entities")] == ["past_sign"]


def test_an_over_and_done_story_with_no_clear_question_asks_instead(detector: UrgencyDetector) -> None:
    ranking = [{"name": "urgent", "confidence": 0.9}, {"name": "side_effects", "confidence": 0.05}]
    text = "a few months ago he had a fever, he's fine now."
    assert decided(detector, text, ranking) == "nlu_fallback"


def test_a_past_sign_in_a_general_question_is_answered_with_the_line_about_now(detector: UrgencyDetector) -> None:
    ranking = [{"name": "side_effects", "confidence": 0.9}, {"name": "urgent", "confidence": 0.05}]
    [processed] = detector.process([message("he had a fever last week, what are the side effects?", ranking)])
    assert processed.get("intent")["name"] == "side_effects"
    assert [e["entity"] for e in processed.get("entities")] == ["past_sign"]


def test_a_bare_cry_for_help_is_urgent_whatever_the_classifier_thinks(detector: UrgencyDetector) -> None:
    ranking = [{"name": "capabilities", "confidence": 0.95}, {"name": "urgent", "confidence": 0.01}]
    [processed] = detector.process([message("HELP!!", ranking)])
    assert processed.get("intent")["name"] == "urgent"
    [entity] = processed.get("entities")
    assert entity["value"] == "cry_for_help" and entity["followup"] == "capabilities"
