"""Many parents talking to a running Rasa server at once over REST, and what its trackers kept.

Shared by the load benchmark (bench/load.py) and tests/test_concurrency.py, so the two send and
check in the same way: every conversation runs at the same time, and each one sends its next
message only after the reply to its last, as a parent in a chat window does.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List
from urllib.parse import quote

import aiohttp

from connectors.message_ids import HEADER
from conversations.ids import conversation_id

# A reply slower than this counts as an error, so a run always ends.
REQUEST_TIMEOUT = 120  # seconds


@dataclass
class Turn:
    """One message sent and what came back: `error` is empty unless the request failed."""

    sender: str
    message: str
    seconds: float
    status: int | None = None
    replies: List[Dict[str, Any]] = field(default_factory=list)
    error: str = ""
    attempts: int = 1

    @property
    def missing_reply(self) -> bool:
        """A 2xx with no message in it: the parent would see nothing."""
        return not self.error and not self.replies


async def send(
    session: aiohttp.ClientSession, url: str, sender: str, message: str, attempts: int = 1
) -> Turn:
    """POST one message; with `attempts` > 1, sent again, under the same X-Request-ID, while the
    connection breaks or the balancer has no replica for it (502, 503): what a client does to be
    answered when a replica dies under its request, and the conversation stores the message once
    (connectors/message_ids.py)."""
    headers, started = {HEADER: uuid.uuid4().hex}, time.perf_counter()
    for attempt in range(1, attempts + 1):
        turn = await _post(session, url, sender, message, headers)
        turn.attempts, turn.seconds = attempt, time.perf_counter() - started
        if not turn.error or not _worth_sending_again(turn):
            return turn
    return turn


def _worth_sending_again(turn: Turn) -> bool:
    return turn.status in (502, 503) or (turn.status is None and "Timeout" not in turn.error)


async def _post(
    session: aiohttp.ClientSession, url: str, sender: str, message: str, headers: Dict[str, str]
) -> Turn:
    started = time.perf_counter()
    try:
        async with session.post(
            f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, headers=headers
        ) as response:
            body = await response.text()
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return Turn(sender, message, time.perf_counter() - started, error=repr(error))
    turn = Turn(sender, message, time.perf_counter() - started, response.status)
    if not 200 <= response.status < 300:
        turn.error = f"HTTP {response.status}: {body[:200]}"
        return turn
    try:
        replies = json.loads(body)
    except ValueError:
        replies = None
    if not isinstance(replies, list):
        turn.error = f"not a list of replies: {body[:200]}"
    else:
        turn.replies = replies
    return turn


async def converse(session: aiohttp.ClientSession, url: str, sender: str, messages: List[str]) -> List[Turn]:
    """One parent: each message waits for the reply to the one before."""
    return [await send(session, url, sender, message) for message in messages]


def client_session(connections: int) -> aiohttp.ClientSession:
    """One connection per conversation, so no conversation waits for another's socket."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max(connections, 1)),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
    )


async def run_conversations(
    url: str, conversations: Dict[str, List[str]], at_once: int | None = None
) -> Dict[str, List[Turn]]:
    """The conversations (sender id -> its messages), `at_once` at a time (default: all); each one's turns.

    With a limit, a new conversation starts as soon as one ends, so the server always has
    `at_once` parents talking to it until the last ones.
    """
    limit = asyncio.Semaphore(at_once or len(conversations))

    async def one(session: aiohttp.ClientSession, sender: str, messages: List[str]) -> List[Turn]:
        async with limit:
            return await converse(session, url, sender, messages)

    async with client_session(at_once or len(conversations)) as session:
        turns = await asyncio.gather(*(one(session, sender, messages) for sender, messages in conversations.items()))
    return dict(zip(conversations, turns, strict=True))


async def tracker_user_texts(session: aiohttp.ClientSession, url: str, token: str, sender: str) -> List[str]:
    """The text of every `user` event the server kept for REST `sender`, across all its sessions."""
    async with session.get(
        f"{url}/conversations/{quote(conversation_id('rest', sender), safe='')}/tracker",
        params={"token": token, "include_events": "ALL"},
    ) as response:
        response.raise_for_status()
        tracker = await response.json()
    return [event.get("text") or "" for event in tracker["events"] if event["event"] == "user"]


async def fetch_user_texts(url: str, token: str, senders: List[str]) -> Dict[str, List[str] | Exception]:
    """Every sender's user texts; a tracker that could not be read is given as its exception."""
    async with client_session(len(senders)) as session:
        results = await asyncio.gather(
            *(tracker_user_texts(session, url, token, sender) for sender in senders), return_exceptions=True
        )
    return dict(zip(senders, results, strict=True))


def lost(sent: List[str], kept: List[str]) -> int:
    """How many sent messages the tracker does not hold (each sent copy of a text counts)."""
    return sum((Counter(sent) - Counter(kept)).values())
