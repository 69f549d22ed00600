"""Turning content into the messages the actions send.

Kept apart from the Action classes so the same shapes (text, buttons, and the
`custom` metadata every widget and analytics job relies on) are built in one
place and can be checked without a dispatcher.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

from actions.content import Answer, Content, Reply

SOMETHING_ELSE = {"title": "Something else", "payload": "/deny"}


def topic_buttons(content: Content, topic_ids: Iterable[str]) -> List[Dict[str, str]]:
    """Buttons whose payload triggers the topic's intent directly."""
    return [{"title": content.button_title(topic_id), "payload": f"/{topic_id}"} for topic_id in topic_ids]


def answer_message(content: Content, answer: Answer) -> Dict[str, Any]:
    return {
        "text": answer.text,
        "buttons": topic_buttons(content, answer.related),
        "json_message": {
            "kind": "answer",
            "answer_id": answer.id,
            "source": [citation.as_payload() for citation in answer.citations],
            "source_line": answer.source_line,
        },
    }


def reply_message(content: Content, reply: Reply, buttons: List[Dict[str, str]] | None = None) -> Dict[str, Any]:
    return {
        "text": reply.text,
        "buttons": topic_buttons(content, reply.buttons) if buttons is None else buttons,
        "json_message": {"kind": reply.kind, "answer_id": reply.id},
    }
