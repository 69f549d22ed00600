"""The vetted content is complete, cites real sections, and agrees with the domain."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Set

import pytest

from content_library.content import KINDS, Content, ContentError, parse_content, read_yaml
from nlu.examples import nlu_examples
from paths import CONTENT_DIR, RULES, SOURCES_DIR_VARIABLE, all_nlu_data, sources_dir
from tests.support.outside import missing

# Intents answered by something other than a fact-sheet answer.
URGENT_INTENTS = {"urgent", "emergency"}
REPLY_INTENTS = {
    "other_language",
    "not_covered",
    "dosing_advice",
    "out_of_scope",
    "greet",
    "thank",
    "goodbye",
    "bot_challenge",
    "capabilities",
    "deny",
    "feedback_helpful",
    "feedback_unhelpful",
}
# About 100 words: one screen of a phone at 360 px. The longest answers are the complete lists from the
# sheets (when to call the doctor, what can go wrong): a clinical list is never cut short to fit.
MAX_ANSWER_CHARS = 650
COPIED_RUN = 8  # this many words in a row, word for word from a sheet, counts as pasted


def words(text: str) -> List[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def rule_intents(action: str) -> Set[str]:
    intents: Set[str] = set()
    for rule in read_yaml(RULES)["rules"]:
        steps = rule["steps"]
        if not any(step.get("action") == action for step in steps):
            continue
        for step in steps:
            intents.update(option["intent"] for option in step.get("or", []))
            if "intent" in step:
                intents.add(step["intent"])
    return intents


def trained_intents() -> Set[str]:
    return set(nlu_examples(*all_nlu_data()))


def source_text(file_name: str) -> str:
    path = sources_dir() / file_name
    if not path.exists():
        missing(f"Fact sheet {path} is missing", f"put the sheets in ../shared/sources or set {SOURCES_DIR_VARIABLE}")
    return path.read_text(encoding="utf-8")


def test_every_answer_intent_has_exactly_one_answer(content: Content, domain: Dict[str, Any]) -> None:
    answer_intents = set(domain["intents"]) - URGENT_INTENTS - REPLY_INTENTS
    assert answer_intents == set(content.answers)
    assert REPLY_INTENTS <= set(content.replies)


def test_every_answer_and_reply_is_reachable_from_a_trained_intent(content: Content) -> None:
    reachable = rule_intents("action_respond")
    trained = trained_intents()
    for intent in [*content.answers, *REPLY_INTENTS]:
        assert intent in reachable, f"{intent}: no rule sends it to action_respond"
        assert intent in trained, f"{intent}: no training examples in data/nlu/"


def test_every_answer_cites_a_listed_section_that_is_in_the_sheet(content: Content) -> None:
    for answer in content.answers.values():
        assert answer.citations, answer.id
        for citation in answer.citations:
            assert citation.section in citation.source.sections
            if not citation.section.startswith("("):
                assert citation.section in source_text(citation.source.file), (answer.id, citation.section)


def test_an_unknown_section_is_refused() -> None:
    answers = read_yaml(CONTENT_DIR / "answers.yml")
    answers["answers"]["pump_refill"]["sources"] = [{"source": "rch_itb_intro", "section": "Pump maintenance"}]
    with pytest.raises(ContentError, match="pump_refill.*Pump maintenance"):
        parse_content(
            answers,
            read_yaml(CONTENT_DIR / "sources.yml"),
            read_yaml(CONTENT_DIR / "contacts.yml"),
            read_yaml(CONTENT_DIR / "red_flags.yml"),
        )


def test_a_duplicated_answer_id_is_refused(tmp_path: Any) -> None:
    duplicated = tmp_path / "answers.yml"
    duplicated.write_text("answers:\n  pump_refill: {}\n  pump_refill: {}\n")
    with pytest.raises(ContentError, match="pump_refill defined more than once"):
        read_yaml(duplicated)


def test_every_number_in_an_answer_comes_from_its_sheets_or_the_contacts(content: Content) -> None:
    contact_numbers = set(words(" ".join(content.contacts.values())))
    for answer in content.answers.values():
        sheets = " ".join(source_text(citation.source.file) for citation in answer.citations)
        sheet_numbers = set(words(sheets)) | contact_numbers
        for number in re.findall(r"\d+", answer.text):
            assert number in sheet_numbers, f"{answer.id}: {number} is not in its sources"


def test_answers_are_in_our_own_words(content: Content) -> None:
    templates = read_yaml(CONTENT_DIR / "answers.yml")["answers"]
    for answer in content.answers.values():
        # Titles in quotes and contact details ({placeholders}) are carried over exactly on purpose.
        own_words = words(re.sub(r'"[^"]*"|\{[a-z_]+\}', " | ", templates[answer.id]["text"]))
        for citation in answer.citations:
            sheet = " ".join(words(source_text(citation.source.file)))
            for start in range(len(own_words) - COPIED_RUN + 1):
                run = " ".join(own_words[start : start + COPIED_RUN])
                assert run not in sheet, f"{answer.id} copies the sheet: {run!r}"


def test_answers_fit_a_phone_screen_and_relate_to_at_most_three_topics(content: Content) -> None:
    for answer in content.answers.values():
        assert len(answer.text) <= MAX_ANSWER_CHARS, f"{answer.id}: {len(answer.text)} characters"
        assert 1 <= len(answer.related) <= 3, answer.id


def test_replies_have_known_kinds(content: Content) -> None:
    assert {reply.kind for reply in content.replies.values()} <= set(KINDS)


def test_domain_urgent_replies_match_the_content_word_for_word(content: Content, domain: Dict[str, Any]) -> None:
    for response, reply_id in (("utter_urgent", "urgent"), ("utter_emergency", "emergency")):
        [variant] = domain["responses"][response]
        assert variant["text"] == content.replies[reply_id].text, (
            f"domain.yml {response} differs from content/answers.yml replies.{reply_id}; "
            f"set its text to:\n{content.replies[reply_id].text}"
        )
        assert variant["custom"]["kind"] == reply_id


def test_domain_urgent_numbers_match_the_contacts(content: Content, domain: Dict[str, Any]) -> None:
    for response, kind in (("utter_urgent", "urgent"), ("utter_emergency", "emergency")):
        assert domain["responses"][response][0]["custom"]["call"] == content.calls(kind), (
            f"domain.yml {response} numbers differ from content/contacts.yml; set `call` to:\n{content.calls(kind)}"
        )


def test_urgent_reply_gives_the_on_call_number_first_and_emergency_gives_000_first(content: Content) -> None:
    phone, emergency = content.contacts["hospital_phone"], content.contacts["emergency_number"]
    urgent, life_threatening = content.replies["urgent"].text, content.replies["emergency"].text
    assert urgent.index(phone) < urgent.index(emergency)
    assert content.contacts["on_call_ask_for"] in urgent
    assert life_threatening.index(emergency) < life_threatening.index(phone)


def test_contacts_match_the_fact_sheet() -> None:
    sheet = source_text("rch-kids-health-info-itb-1-introduction.txt")
    contacts = read_yaml(CONTENT_DIR / "contacts.yml")["contacts"]
    assert contacts["hospital_phone"] in sheet
    assert re.sub(r"\D", "", contacts["hospital_phone_tel"]).endswith(re.sub(r"\D", "", contacts["hospital_phone"])[1:])
    for consultant in ("on-call developmental medicine consultant", "on-call rehabilitation consultant"):
        assert consultant in contacts["on_call_ask_for"] and consultant in sheet
