"""Each custom action, run hermetically: a Tracker in, the parent's messages out."""

from __future__ import annotations

from actions.actions import ActionClarify, ActionRespond, ActionUrgentFollowup
from content_library.content import Content
from tests.support.actions import run, tracker_for


def test_a_fact_question_gets_its_answer_source_and_related_topics(content: Content) -> None:
    [message] = run(ActionRespond(), tracker_for("pump_refill"))
    assert "every 4 to 12 weeks" in message["text"]
    assert message["custom"]["kind"] == "answer"
    assert message["custom"]["answer_id"] == "pump_refill"
    assert message["custom"]["source_line"].startswith("Source: Derbyshire Healthcare NHS (Mar 2019)")
    assert message["custom"]["source"] == [
        {
            "publisher": "Derbyshire Healthcare NHS Foundation Trust",
            "title": "Information on Specific Medical Treatments",
            "date": "26 March 2019",
            "section": "How does it work?",
        },
        {
            "publisher": "The Royal Children's Hospital Melbourne",
            "title": "Kids Health Info: Intrathecal baclofen 3 the ITB pump",
            "date": "unknown (opening of the page only)",
            "section": "How does the baclofen get in the pump?",
        },
        {
            "publisher": "The Royal Children's Hospital Melbourne",
            "title": "Kids Health Info: Intrathecal baclofen 1 Introduction",
            "date": "November 2010",
            "section": "Contact",
        },
    ]
    topics = ["/refill_procedure", "/withdrawal", "/contact_team"]
    assert [b["payload"] for b in message["buttons"]] == [*topics, "/feedback_helpful", "/feedback_unhelpful"]
    assert message["buttons"][0]["title"] == content.answers["refill_procedure"].title


def test_every_answer_asks_whether_it_helped_with_two_buttons_after_the_topics(content: Content) -> None:
    for answer in content.answers.values():
        [message] = run(ActionRespond(), tracker_for(answer.id))
        rating = message["custom"]["feedback"]
        assert rating == ["/feedback_helpful", "/feedback_unhelpful"]
        assert [b["payload"] for b in message["buttons"][-2:]] == rating
        assert [b["title"] for b in message["buttons"][-2:]] == ["This helped", "This didn't help"]


def test_a_rating_is_thanked_and_an_unhelpful_one_gets_who_to_ask() -> None:
    [helped] = run(ActionRespond(), tracker_for("feedback_helpful"))
    [did_not] = run(ActionRespond(), tracker_for("feedback_unhelpful"))
    assert helped["custom"]["kind"] == did_not["custom"]["kind"] == "feedback"
    assert "Thank you" in helped["text"]
    assert "Sorry that didn't help" in did_not["text"] and "(03) 9345 5522" in did_not["text"]
    assert helped["buttons"] == []  # a thank-you is not asked about in turn
    assert did_not["buttons"] == [{"title": "What can I ask?", "payload": "/capabilities"}]


def test_every_answer_is_sent_as_written(content: Content) -> None:
    for answer in content.answers.values():
        [message] = run(ActionRespond(), tracker_for(answer.id))
        assert message["text"] == answer.text
        assert message["custom"]["answer_id"] == answer.id


def test_the_greeting_says_it_is_automated_and_not_for_emergencies() -> None:
    [message] = run(ActionRespond(), tracker_for("greet"))
    assert message["custom"]["kind"] == "smalltalk"
    assert "automated assistant" in message["text"]
    assert "not for emergencies" in message["text"]
    assert "call 000" in message["text"]


def test_a_question_the_sheets_do_not_answer_gets_an_honest_no_and_who_to_ask() -> None:
    [message] = run(ActionRespond(), tracker_for("not_covered"))
    assert message["custom"]["kind"] == "not_covered"
    assert "don't have approved information" in message["text"]
    assert "(03) 9345 5522" in message["text"]


def test_a_dosing_question_gets_no_advice_and_warns_of_withdrawal() -> None:
    [message] = run(ActionRespond(), tracker_for("dosing_advice"))
    assert message["custom"]["kind"] == "advice"
    assert "can't give advice" in message["text"]
    assert "withdrawal symptoms" in message["text"]
    assert "(03) 9345 5522" in message["text"]


def test_off_topic_says_what_the_assistant_can_help_with() -> None:
    [message] = run(ActionRespond(), tracker_for("out_of_scope"))
    assert message["custom"]["kind"] == "out_of_scope"
    assert "intrathecal baclofen" in message["text"]
    assert message["buttons"] == [{"title": "What can I ask?", "payload": "/capabilities"}]


def test_what_can_you_do_offers_topics_as_buttons() -> None:
    [message] = run(ActionRespond(), tracker_for("capabilities"))
    payloads = [b["payload"] for b in message["buttons"]]
    assert "/pump_refill" in payloads and "/contact_team" in payloads


def test_an_intent_without_content_gets_the_fallback_reply_not_silence() -> None:
    [message] = run(ActionRespond(), tracker_for("intent_nobody_wrote"))
    assert message["custom"]["kind"] == "fallback"
    assert "(03) 9345 5522" in message["text"]


def test_clarify_offers_the_close_candidates_and_something_else(content: Content) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "pump_location", "confidence": 0.41},
        {"name": "pump_how_it_works", "confidence": 0.38},
        {"name": "greet", "confidence": 0.12},
        {"name": "side_effects", "confidence": 0.02},
    ]
    [message] = run(ActionClarify(), tracker_for("nlu_fallback", ranking))
    assert message["custom"]["kind"] == "clarify"
    assert message["custom"]["candidates"] == ["pump_location", "pump_how_it_works"]
    assert message["buttons"] == [
        {"title": content.answers["pump_location"].title, "payload": "/pump_location"},
        {"title": content.answers["pump_how_it_works"].title, "payload": "/pump_how_it_works"},
        {"title": "Something else", "payload": "/deny"},
    ]


def test_clarify_without_candidates_asks_to_rephrase_with_the_contact() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "greet", "confidence": 0.3}]
    [message] = run(ActionClarify(), tracker_for("nlu_fallback", ranking))
    assert message["custom"]["kind"] == "fallback"
    assert "(03) 9345 5522" in message["text"]


def test_urgent_followup_adds_the_fact_that_helps() -> None:
    entities = [
        {"entity": "red_flag", "value": "baclofen_stopped", "followup": "withdrawal"},
        {"entity": "red_flag", "value": "baclofen_stopped", "followup": "withdrawal"},
        {"entity": "red_flag", "value": "pump_alarm", "followup": None},
    ]
    [message] = run(ActionUrgentFollowup(), tracker_for("urgent", entities=entities))
    assert message["custom"]["answer_id"] == "withdrawal"
    assert "withdrawal" in message["text"]


def test_urgent_followup_adds_nothing_when_no_fact_helps() -> None:
    entities = [{"entity": "red_flag", "value": "pump_alarm", "followup": None}]
    assert run(ActionUrgentFollowup(), tracker_for("urgent", entities=entities)) == []


def test_an_answer_to_a_story_of_a_sign_that_is_over_ends_with_what_to_do_if_it_is_happening_now(
    content: Content,
) -> None:
    entities = [{"entity": "past_sign", "value": "fever"}]
    answer, line = run(ActionRespond(), tracker_for("side_effects", entities=entities))
    assert answer["custom"]["kind"] == "answer" and answer["custom"]["answer_id"] == "side_effects"
    assert line["custom"]["kind"] == "safety" and line["custom"]["answer_id"] == "if_happening_now"
    assert line["text"] == content.replies["if_happening_now"].text
    assert content.contacts["hospital_phone"] in line["text"] and "000" in line["text"]
    assert [call["number"] for call in line["custom"]["call"]] == [content.contacts["hospital_phone"]]


def test_the_other_question_of_a_message_is_offered_first_as_a_button(content: Content) -> None:
    entities = [{"entity": "second_question", "value": "withdrawal"}]
    [message] = run(ActionRespond(), tracker_for("pump_refill", entities=entities))
    assert message["custom"]["answer_id"] == "pump_refill" and message["custom"]["also_asked"] == "withdrawal"
    payloads = [button["payload"] for button in message["buttons"]]
    assert payloads[0] == "/withdrawal" and payloads.count("/withdrawal") == 1  # it was a related topic too
    assert payloads[-2:] == ["/feedback_helpful", "/feedback_unhelpful"]


def test_after_the_urgent_reply_to_a_bare_cry_for_help_comes_what_the_assistant_can_do(content: Content) -> None:
    entities = [{"entity": "red_flag", "value": "cry_for_help", "followup": "capabilities"}]
    [message] = run(ActionUrgentFollowup(), tracker_for("urgent", entities=entities))
    assert message["custom"]["kind"] == "smalltalk" and message["custom"]["answer_id"] == "capabilities"
    assert message["text"] == content.replies["capabilities"].text
