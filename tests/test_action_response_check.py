"""The Rasa server checks action server responses exactly as Rasa does, with the schema compiled once."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from connectors.guard import guarded
from rasa_patches.action_response_check import RASA_VALIDATE, validate_action_result, validate_once

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "topic", "value": "pump_refill"}], "responses": [{"text": "hi"}]},
    {},
]
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [], "responses": "not a list"},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [], "responses": ["a string, not an object"]},
    {"events": [{"event": "slot"}], "responses": []},  # a slot event without its name
]


def outcome(validate: Any, result: Dict[str, Any]) -> str:
    action = RemoteAction("action_respond", None)
    try:
        return f"valid: {validate(action, result)}"
    except ValidationError as error:
        return f"invalid: {error.message} at {list(error.absolute_path)}"


@pytest.mark.parametrize("result", VALID + INVALID)
def test_the_replacement_agrees_with_rasa_on_every_response(result: Dict[str, Any]) -> None:
    assert outcome(validate_action_result, result) == outcome(RASA_VALIDATE, result)


@pytest.mark.parametrize("result", INVALID)
def test_a_malformed_response_is_still_refused(result: Dict[str, Any]) -> None:
    assert outcome(validate_action_result, result).startswith("invalid: ")


def test_rasa_still_has_the_method_that_is_replaced() -> None:
    """Replacing a private method is safe only while Rasa's is the one this was written against."""
    assert RASA_VALIDATE.__qualname__ == "RemoteAction._validate_action_result"
    assert list(RemoteAction.action_response_format_spec()["properties"]) == ["events", "responses"]


def test_every_channel_handler_puts_it_in_place() -> None:
    async def handler(message: Any) -> None:
        return None

    RemoteAction._validate_action_result = RASA_VALIDATE
    try:
        guarded(handler, "rest")
        assert RemoteAction._validate_action_result is validate_action_result
    finally:
        validate_once()
