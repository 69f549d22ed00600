"""Two Rasa replicas behind HAProxy, on PostgreSQL and Redis (harness/cluster.py), as real processes.

The small versions of what `make bench-cluster` measures under load: two replicas handed one
conversation at the same instant take turns (the atomic lock store, conversations/lock.py), and a
replica killed with `kill -9` leaves its parents, REST and socket.io, to the other, losing nothing.
A message in flight when its replica dies is the hard case: it is held mid-turn (the action server
paused with SIGSTOP) until the replica's name is on the conversation's lock in Redis, the replica is
killed, and the message must still be answered, by the other replica, and stored once. Each reply is
checked against what a fresh conversation gets, and each conversation against what PostgreSQL stored.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests
from sqlalchemy.engine import URL

from content_library.content import Content
from conversations.ids import conversation_id
from conversations.lock import KEY_PREFIX
from harness import rest_client
from harness.cluster import HAPROXY, Cluster, start_cluster, stored_turns
from harness.rest_client import Turn, client_session
from harness.widget_client import WidgetSession
from tests.support.channels import REFILL_QUESTION, on_call
from tests.support.outside import missing

pytestmark = pytest.mark.e2e

PUMP_SIZE = "how big is the pump?"
RACES = 20


@pytest.fixture(scope="module")
def database(postgres_url: URL) -> str:
    return postgres_url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def cluster(
    database: str, redis_url: str, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    if not HAPROXY.exists():
        missing(f"No HAProxy at {HAPROXY}", "run scripts/install-package.sh /usr/sbin/haproxy haproxy, or make cluster")
    running = start_cluster(
        database, redis_url, replicas=2, action_servers=1, workdir=tmp_path_factory.mktemp("cluster"), model=model_path
    )
    yield running
    running.stop()


def send(url: str, sender: str, text: str) -> List[str]:
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    return [reply.get("text", "") for reply in response.json()]


@pytest.fixture(scope="module")
def fresh(cluster: Cluster) -> Dict[str, List[str]]:
    """What each question gets as the first message of a conversation of its own."""
    return {text: send(cluster.url, f"fresh-{uuid.uuid4().hex}", text) for text in (REFILL_QUESTION, PUMP_SIZE)}


def as_turns(turns: List[Tuple[str, str]]) -> List[Tuple[str, List[str]]]:
    """Stored events grouped as (the parent's message, the bot's replies to it); a bot reply with no
    message before it is kept under an empty one, so that an interleaving can't hide."""
    grouped: List[Tuple[str, List[str]]] = []
    for kind, text in turns:
        if kind == "user":
            grouped.append((text, []))
        elif grouped:
            grouped[-1][1].append(text)
        else:
            grouped.append(("", [text]))
    return grouped


def at_once(start: threading.Barrier, url: str, sender: str, text: str) -> List[str]:
    """Sends when the other thread is ready too: both requests leave together."""
    start.wait()
    return send(url, sender, text)


def test_two_replicas_given_one_conversation_at_the_same_instant_take_turns(
    cluster: Cluster, database: str, fresh: Dict[str, List[str]]
) -> None:
    """Rasa 3.6's own RedisLockStore lets both replicas in at once (RasaHQ/rasa#9213); the atomic one doesn't."""
    replicas = [cluster.replica_url(name) for name in cluster.rasa_ports]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for race in range(RACES):
            sender = f"race-{race}-{uuid.uuid4().hex[:8]}"
            start = threading.Barrier(2)
            first = pool.submit(at_once, start, replicas[0], sender, REFILL_QUESTION)
            second = pool.submit(at_once, start, replicas[1], sender, PUMP_SIZE)
            assert first.result() == fresh[REFILL_QUESTION], f"race {race}: a reply to another message"
            assert second.result() == fresh[PUMP_SIZE], f"race {race}: a reply to another message"
            stored = as_turns(stored_turns(database, conversation_id("rest", sender)))
            assert sorted(message for message, _ in stored) == sorted([REFILL_QUESTION, PUMP_SIZE])
            for message, replies in stored:  # each message directly followed by its own replies
                assert replies == fresh[message], f"race {race}: turns interleaved: {stored}"


def test_rest_parents_of_a_replica_killed_mid_conversation_carry_on_through_the_other(
    cluster: Cluster, database: str, fresh: Dict[str, List[str]], content: Content
) -> None:
    parents = [f"parent-{index}-{uuid.uuid4().hex[:8]}" for index in range(4)]
    for parent in parents:  # round robin: two on each replica
        assert send(cluster.url, parent, REFILL_QUESTION) == fresh[REFILL_QUESTION]
    cluster.kill("rasa-1")
    try:
        for parent in parents:
            assert send(cluster.url, parent, PUMP_SIZE) == fresh[PUMP_SIZE]
        urgent = send(cluster.url, parents[0], "he is very drowsy and his breathing is slow")
        assert on_call(content) in urgent[0]
    finally:
        cluster.start_replica("rasa-1")
    for parent in parents:
        assert send(cluster.url, parent, REFILL_QUESTION) == fresh[REFILL_QUESTION]
        messages = [message for message, _ in as_turns(stored_turns(database, conversation_id("rest", parent)))]
        expected = [REFILL_QUESTION, PUMP_SIZE, REFILL_QUESTION]
        assert [m for m in messages if m in (REFILL_QUESTION, PUMP_SIZE)] == expected  # nothing lost, nothing twice


def test_a_widget_on_a_killed_replica_reconnects_to_the_other_and_continues_its_conversation(
    cluster: Cluster, database: str, fresh: Dict[str, List[str]]
) -> None:
    widget = WidgetSession(cluster.url)

    async def chat() -> Tuple[str, str, List[Dict[str, Any]], List[Dict[str, Any]]]:
        await widget.open()
        try:
            before = await widget.say(REFILL_QUESTION)
            holder = widget.engine_session.split(".")[0]
            await asyncio.get_running_loop().run_in_executor(None, cluster.kill, holder)
            await asyncio.wait_for(widget.dropped.wait(), 60)  # socket.io has noticed
            after = await widget.say(PUMP_SIZE, timeout=60)  # sent once the session has rejoined elsewhere
            return holder, widget.engine_session.split(".")[0], before, after
        finally:
            await widget.close()

    widget_holder, new_holder, before, after = asyncio.run(chat())
    try:
        assert widget_holder in cluster.rasa_ports and new_holder in cluster.rasa_ports
        assert new_holder != widget_holder
        assert [reply.get("text") for reply in before] == fresh[REFILL_QUESTION]
        assert [reply.get("text") for reply in after] == fresh[PUMP_SIZE]
        stored = as_turns(stored_turns(database, conversation_id("socketio", widget.session_id)))
        assert stored == [(REFILL_QUESTION, fresh[REFILL_QUESTION]), (PUMP_SIZE, fresh[PUMP_SIZE])]
    finally:
        cluster.start_replica(widget_holder)


@contextmanager
def action_server_paused(cluster: Cluster) -> Iterator[None]:
    """Turns that reach their action call wait there, until the end of the `with`."""
    process = cluster.servers["actions-1"].process
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


def replica_holding(redis_url: str, conversation: str, timeout: float = 30) -> str:
    """The replica whose turn holds the conversation's lock (its token begins with the replica's name)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        token = client.get(KEY_PREFIX + conversation)
        if token:
            return token.decode().split(":")[0]
        time.sleep(0.005)  # polling for the turn to begin
    raise AssertionError(f"no turn of {conversation} began within {timeout} s")


def send_as_rest_clients_should(url: str, sender: str, text: str) -> Turn:
    """One message, sent once more under the same X-Request-ID on a 502/503 or a broken connection."""

    async def once() -> Turn:
        async with client_session(1) as session:
            return await rest_client.send(session, url, sender, text, attempts=2)

    return asyncio.run(once())


def test_a_rest_message_whose_replica_dies_mid_turn_is_answered_by_the_other_and_stored_once(
    cluster: Cluster, database: str, redis_url: str, fresh: Dict[str, List[str]]
) -> None:
    """Sent on by HAProxy, or sent again by the client under the same id: answered, and stored once.

    HAProxy sends the request to the other replica when the dying one's connection closes without a
    reply (`retry-on empty-response`). When the kill resets the connection instead, HAProxy 2.6 reads
    that as a read error, which no `retry-on` keyword covers, and answers 502; the client then sends
    the message again under the same X-Request-ID, as docs/channels.md asks of REST clients.
    """
    parent = f"in-flight-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=1) as pool:
        with action_server_paused(cluster):
            asked = pool.submit(send_as_rest_clients_should, cluster.url, parent, REFILL_QUESTION)
            holder = replica_holding(redis_url, conversation_id("rest", parent))
            cluster.kill(holder)
        try:
            turn = asked.result()
            assert not turn.error, turn.error
            assert [reply.get("text", "") for reply in turn.replies] == fresh[REFILL_QUESTION]
            stored = as_turns(stored_turns(database, conversation_id("rest", parent)))
            assert stored == [(REFILL_QUESTION, fresh[REFILL_QUESTION])]
        finally:
            cluster.start_replica(holder)


def test_a_widget_message_whose_replica_dies_mid_turn_is_sent_again_answered_and_stored_once(
    cluster: Cluster, database: str, redis_url: str, fresh: Dict[str, List[str]]
) -> None:
    """The widget sends again, under the same id, a message its dropped connection never answered."""
    widget = WidgetSession(cluster.url)
    conversation = conversation_id("socketio", widget.session_id)

    async def chat() -> Tuple[str, str, List[Dict[str, Any]]]:
        await widget.open()
        loop = asyncio.get_running_loop()
        try:
            with action_server_paused(cluster):
                answer = widget.say(REFILL_QUESTION, replies=len(fresh[REFILL_QUESTION]), timeout=60)
                asked = asyncio.ensure_future(answer)
                holder = await loop.run_in_executor(None, replica_holding, redis_url, conversation)
                await loop.run_in_executor(None, cluster.kill, holder)
            replies = await asked
            return holder, widget.engine_session.split(".")[0], replies
        finally:
            await widget.close()

    holder, new_holder, replies = asyncio.run(chat())
    try:
        assert new_holder != holder and widget.resent == 1
        assert [reply.get("text") for reply in replies] == fresh[REFILL_QUESTION]
        assert as_turns(stored_turns(database, conversation)) == [(REFILL_QUESTION, fresh[REFILL_QUESTION])]
    finally:
        cluster.start_replica(holder)
