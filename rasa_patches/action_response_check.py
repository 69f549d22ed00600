"""Rasa checks every action server response against its schema, with the schema compiled once.

Rasa 3.6 calls `jsonschema.validate(response, schema)` for each custom action. That call
first checks the schema itself against JSON Schema's 2020-12 meta-schema, and with
jsonschema 4.17 (the newest Rasa 3.6 allows) that check is the slow part: profiling the
Rasa server under load (docs/performance.md) put three quarters of its time there, more
than the NLU model, the dialogue policy and the tracker store together.

`validate_once` swaps in a method that checks the same response against the same schema
and raises the same `ValidationError` (the best match, as `jsonschema.validate` chooses
it), with a validator built once. The schema is still checked, once, when it is built.
Applied by connectors/guard.py, which every channel's handler passes through, so it is
in place before the first message. It replaces a private method of the exact Rasa
version pinned in pyproject.toml; tests/test_action_response_check.py fails if that method
changes shape.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Dict

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

# Rasa's own, kept so the tests can check that the replacement agrees with it.
RASA_VALIDATE = RemoteAction._validate_action_result


@cache
def response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's `_validate_action_result`, with the validator from `response_validator`."""
    error = best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action endpoint is "
        f"valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def validate_once() -> None:
    response_validator()
    RemoteAction._validate_action_result = validate_action_result

