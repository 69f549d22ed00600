"""When the action server is down, failing or slow, every parent still gets a reply, in time.

The real action server is stopped; in its place on the same port a stub that
fails or never answers, then nothing at all. Urgent messages still get the
numbers first (their reply is a domain response); any other message gets the
vetted apology with the on-call and emergency numbers.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest
import requests

from connectors.guard import REPLY_DEADLINE_ENV
from content_library.content import Content
from harness.servers import Stack, start_stack
from tests.support.socketio_client import socketio_replies

pytestmark = pytest.mark.e2e

DEADLINE = 3.0  # seconds; the default is 8, shortened so the test is quick


@pytest.fixture(scope="module")
def stack(model_path: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("faults"), model_path, extra_env={REPLY_DEADLINE_ENV: str(DEADLINE)}
    )
    running.stop_action_server()
    yield running
    running.stop()


class StubActionServer(ThreadingHTTPServer):
    """An action server that answers every action with a 500, or never answers until stopped."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, mode: str) -> None:
        self.mode = mode
        self.released = threading.Event()
        self.calls = 0
        super().__init__(("127.0.0.1", port), StubHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()


class StubHandler(BaseHTTPRequestHandler):
    server: StubActionServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.server.calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.mode == "hang":
            self.server.released.wait()
        body = json.dumps({"error": "stub failure"}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(params=["stopped", "error", "hang"])
def fault(request: pytest.FixtureRequest, stack: Stack) -> Iterator[StubActionServer | None]:
    if request.param == "stopped":
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{stack.actions_port}/health", timeout=5)
        yield None
        return
    stub = StubActionServer(stack.actions_port, request.param)
    yield stub
    stub.stop()


def new_parent() -> str:
    return f"parent-{uuid.uuid4().hex[:8]}"


def timed_send(stack: Stack, text: str) -> tuple[List[Dict[str, Any]], float]:
    started = time.perf_counter()
    replies = stack.send(text, new_parent())
    return replies, time.perf_counter() - started


def test_a_question_gets_the_apology_with_the_numbers(
    stack: Stack, fault: StubActionServer | None, content: Content
) -> None:
    replies, seconds = timed_send(stack, "how often does the pump get refilled?")
    assert [reply["text"] for reply in replies] == [content.replies["unavailable"].text]
    assert replies[0]["custom"]["kind"] == "unavailable"
    assert replies[0]["custom"]["call"] == content.calls("unavailable")
    # Not Rasa's five-minute wait for the action server: the deadline, plus the time to answer.
    assert seconds < DEADLINE + 10
    if fault is not None:
        assert fault.calls >= 1, "the stub was asked, so this is its failure the parent was spared"


def test_urgent_and_emergency_messages_still_get_the_numbers_first(
    stack: Stack, fault: StubActionServer | None, content: Content
) -> None:
    urgent, _ = timed_send(stack, "the pump is alarming and she is really floppy")
    assert urgent[0]["custom"]["kind"] == "urgent"
    assert content.contacts["hospital_phone"] in urgent[0]["text"]

    emergency, _ = timed_send(stack, "he is having a seizure")
    assert emergency[0]["text"].startswith("Call 000")
    assert content.contacts["hospital_phone"] in emergency[0]["text"]


def test_the_rasa_log_says_what_failed_without_a_traceback(stack: Stack) -> None:
    assert stack.send("what is baclofen?", new_parent())  # the action server is stopped
    log = stack.servers["rasa"].log.read_text(errors="replace")
    assert "Failed to run custom action" in log or "Failed to execute custom action" in log
    assert "Traceback" not in log


def test_the_web_chat_gets_the_apology_too(stack: Stack, content: Content) -> None:
    [reply] = asyncio.run(socketio_replies(stack.url, "what are the side effects?", count=1))
    assert reply["text"] == content.replies["unavailable"].text
    assert reply["custom"]["call"] == content.calls("unavailable")
