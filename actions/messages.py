"""Turning content into the messages the actions send.

Kept apart from the Action classes so the same shapes (text, buttons, and the
`custom` metadata every widget and analytics job relies on) are built in one
place and can be checked without a dispatcher.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

from content_library.content import Answer, Content, Reply

SOMETHING_ELSE = {"title": "Something else", "payload": "/deny"}
# "Did this help?" after every answer: the two replies' titles (content/answers.yml) as buttons, signed
# off with them. They come last, after the related topics, so a channel without buttons (SMS) numbers
# them like any option; the web widget shows them apart, as a small row. A rating is stored in the
# conversation as the parent's turn (intent feedback_helpful or feedback_unhelpful) straight after the
# answer it rates; `make insights` reads it from there.
FEEDBACK = ("feedback_helpful", "feedback_unhelpful")


def topic_buttons(content: Content, topic_ids: Iterable[str]) -> List[Dict[str, str]]:
    """Buttons whose payload triggers the topic's intent directly; none for a topic `content` lacks (withheld)."""
    return [
        {"title": content.button_title(topic_id), "payload": f"/{topic_id}"}
        for topic_id in topic_ids
        if content.has_topic(topic_id)
    ]


def answer_message(content: Content, answer: Answer, also_asked: str | None = None) -> Dict[str, Any]:
    """The answer, its related topics and "did this help?"; `also_asked`, the message's other question, first."""
    rating = topic_buttons(content, FEEDBACK)
    asked = [also_asked] if also_asked and also_asked != answer.id else []
    topics = list(dict.fromkeys([*asked, *answer.related]))
    message = {
        "text": answer.text,
        "buttons": [*topic_buttons(content, topics), *rating],
        "json_message": {
            "kind": "answer",
            "answer_id": answer.id,
            "source": [citation.as_payload() for citation in answer.citations],
            "source_line": answer.source_line,
            "feedback": [button["payload"] for button in rating],
        },
    }
    if also_asked and also_asked != answer.id and content.has_topic(also_asked):
        message["json_message"]["also_asked"] = also_asked
    return message


def reply_message(content: Content, reply: Reply, buttons: List[Dict[str, str]] | None = None) -> Dict[str, Any]:
    custom: Dict[str, Any] = {"kind": reply.kind, "answer_id": reply.id}
    calls = content.calls(reply.kind)
    if calls:  # the numbers to show as tel: links, as the urgent replies carry them
        custom["call"] = calls
    return {
        "text": reply.text,
        "buttons": topic_buttons(content, reply.buttons) if buttons is None else buttons,
        "json_message": custom,
    }
