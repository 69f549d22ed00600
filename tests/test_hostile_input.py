"""Bad and hostile input over HTTP, against the real servers: a clear 4xx or a kind reply, never a 5xx."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterator, List

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_library.content import Content
from harness.servers import Stack, start_stack

pytestmark = pytest.mark.e2e

DEMO_ORIGIN = "http://localhost:8080"


@pytest.fixture(scope="module")
def stack(model_path: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # ALLOWED_ORIGINS unset: the demo page's origin is the only one allowed.
    running = start_stack(tmp_path_factory.mktemp("hostile"), model_path, extra_env={"ALLOWED_ORIGINS": ""})
    yield running
    running.stop()


def post(stack: Stack, body: bytes, headers: Dict[str, str] | None = None) -> requests.Response:
    return requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        timeout=60,
    )


def a_sender() -> str:
    return f"parent-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b'["a list"]',
        b'"just a string"',
        b'{"message": "no sender"}',
        b'{"sender": 7, "message": "a number for a sender"}',
        b'{"sender": "parent-x"}',
        b'{"sender": "parent-x", "message": 12}',
        b'{"sender": "parent-x", "message": {"text": "nested"}}',
        b'{"sender": "parent-x", "message": "bad bytes \xc3\x28"}',
    ],
    ids=[
        "malformed JSON",
        "empty body",
        "a list",
        "a string",
        "no sender",
        "number sender",
        "no message",
        "number message",
        "object message",
        "invalid UTF-8",
    ],
)
def test_malformed_requests_get_a_clear_400(stack: Stack, body: bytes) -> None:
    response = post(stack, body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]


def replies_to(stack: Stack, message: str) -> List[Dict[str, Any]]:
    response = post(stack, json.dumps({"sender": a_sender(), "message": message}).encode())
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    "message",
    ["", "   \n\t  ", "😀😀😀", "\x00\x07\x1b[2J", "\ud83d"],  # the last is half an emoji: JSON allows it, UTF-8 can't
    ids=["empty", "white space", "emoji only", "control characters", "lone surrogate"],
)
def test_text_without_words_gets_the_fallback_with_the_hospital_number(
    stack: Stack, message: str, content: Content
) -> None:
    replies = replies_to(stack, message)
    assert [reply["text"] for reply in replies] == [content.replies["fallback"].text]
    assert content.contacts["hospital_phone"] in replies[0]["text"]


@pytest.mark.parametrize(
    "message",
    ["<script>alert('hi')</script><img src=x onerror=alert(1)>", "'; DROP TABLE events; --", "{{7*7}} ${7*7}"],
    ids=["HTML and script", "SQL", "template"],
)
def test_hostile_text_gets_only_vetted_words_back(stack: Stack, message: str, content: Content) -> None:
    """Whatever the model makes of it (HTML with "alert" reads as urgent: a false alarm is the safe side)."""
    vetted = {
        *(answer.text for answer in content.answers.values()),
        *(reply.text for reply in content.replies.values()),
    }
    replies = replies_to(stack, message)
    assert replies
    for reply in replies:
        assert reply["text"] in vetted or reply["custom"]["kind"] in ("urgent", "emergency")
        assert "<" not in reply["text"] and "7*7" not in reply["text"] and "49" not in reply["text"]


@pytest.mark.parametrize(
    "message", ["我儿子的泵多久加一次药？", "ابني لديه مضخة", "con tôi bị sốt cao", "mi hijo tiene fiebre y vomita"]
)
def test_other_languages_hear_it_speaks_english_only_and_get_the_number(
    stack: Stack, message: str, content: Content
) -> None:
    (reply,) = replies_to(stack, message)
    assert reply["text"] == content.replies["other_language"].text
    assert "English" in reply["text"] and content.contacts["hospital_phone"] in reply["text"]


def test_100_kb_is_answered_from_its_start_and_the_parent_is_told(stack: Stack, content: Content) -> None:
    replies = replies_to(stack, "how often does the pump need refilling? " + "x" * 100_000)
    assert [reply["custom"].get("answer_id") for reply in replies] == ["pump_refill", "shortened"]
    assert replies[-1]["text"] == content.replies["shortened"].text


def test_an_urgent_sign_at_the_end_of_a_long_message_still_gets_the_on_call_number_first(
    stack: Stack, content: Content
) -> None:
    story = "We had the pump put in last year and things have been going well with school and sleep. " * 30
    replies = replies_to(stack, story + "But tonight she is very drowsy and floppy and her breathing is slow.")
    assert replies[0]["custom"]["kind"] in ("urgent", "emergency")
    assert content.contacts["hospital_phone"] in replies[0]["text"]
    assert replies[-1]["custom"]["answer_id"] == "shortened"


def reply_seconds(stack: Stack, message: str, sender: str) -> float:
    started = time.perf_counter()
    assert stack.send(message, sender)
    return time.perf_counter() - started


def test_a_huge_message_does_not_hold_up_another_parent(stack: Stack) -> None:
    """Before the cap, one 100 KB message kept the server busy for about 30 s while others waited."""
    other = a_sender()
    normal = statistics.median(reply_seconds(stack, "what is baclofen?", other) for _ in range(5))
    with ThreadPoolExecutor(max_workers=2) as pool:
        huge = pool.submit(stack.send, "my son's pump " * 8_000, a_sender())
        meanwhile = pool.submit(reply_seconds, stack, "what is baclofen?", other)
        waited = meanwhile.result()
        assert huge.result()
    # Before the cap the other parent waited minutes; a shared 2-core machine can make a reply a few times slower.
    bound = 10 * normal + 1.0
    assert waited <= bound, f"waited {waited:.2f} s beside a huge message; normal reply {normal:.3f} s"


def test_pages_from_other_origins_are_refused_on_rest_and_socketio(stack: Stack) -> None:
    body = json.dumps({"sender": a_sender(), "message": "hi"}).encode()
    refused = post(stack, body, {"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "ALLOWED_ORIGINS" in refused.json()["error"]
    assert post(stack, body, {"Origin": DEMO_ORIGIN}).status_code == 200

    handshake = f"{stack.url}/socket.io/?EIO=4&transport=polling"
    assert requests.get(handshake, headers={"Origin": "https://evil.example"}, timeout=10).status_code == 403
    allowed = requests.get(handshake, headers={"Origin": DEMO_ORIGIN}, timeout=10)
    assert allowed.status_code == 200 and '"sid"' in allowed.text


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
REQUESTS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {"sender": st.text(max_size=40) | JSON_VALUES, "message": st.text(max_size=600) | JSON_VALUES},
        optional={"metadata": JSON_VALUES, "input_channel": JSON_VALUES},
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=REQUESTS)
def test_fuzzed_requests_never_get_a_5xx(stack: Stack, payload: Any) -> None:
    response = post(stack, json.dumps(payload).encode())
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert isinstance(response.json(), list) and response.json(), "a 200 is a non-empty list of replies"
    else:
        assert response.status_code == 400 and response.json()["error"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300))
def test_fuzzed_bytes_never_get_a_5xx(stack: Stack, body: bytes) -> None:
    assert post(stack, body).status_code < 500


def test_what_parents_type_never_reaches_the_logs(stack: Stack) -> None:
    """Messages are health information: no text at INFO or above (the servers' default level)."""
    marker = f"zebra{uuid.uuid4().hex[:10]}"
    for message in [
        f"my son {marker} has a pump, how often is it refilled?",
        f"{marker} is not breathing properly",
        f"{marker} " * 2_000,
        f"mi hijo {marker} tiene fiebre",
        f"/{marker}",
    ]:
        replies_to(stack, message)
    post(stack, json.dumps({"sender": a_sender(), "message": [marker]}).encode())
    for server in stack.servers.values():
        assert marker not in server.log.read_text(errors="replace"), f"{server.name} logged a parent's words"
