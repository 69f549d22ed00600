"""`make bench-cluster`: the cluster under load while parts of it fail, and what parents saw.

Two Rasa replicas and two action servers behind HAProxy (harness/cluster.py), on a throwaway
PostgreSQL database and a Redis server of the benchmark's own (so stopping it disturbs nothing else).
Each phase drives CONVERSATIONS parents at once, MESSAGES messages each, half over REST and half as
web widgets on socket.io (long-polling, so affinity matters), through the balancer; each parent
sends its next message when the last is answered. A few messages of each conversation describe a
red flag. While a phase runs, one fault is injected a few seconds in:

    none                   the baseline
    replica killed         kill -9 of rasa-1, started again at once (it takes ~20 s to load)
    action server stopped  one of the two, for the rest of the phase
    PostgreSQL restarted   pg_ctlcluster ... restart (needs root or the postgres user)
    Redis stopped          for REDIS_DOWN_SECONDS, then started again

and then, for throughput, the baseline again with one replica (rasa-2 stopped before it). Every reply is checked
against what the same message gets as the first of a fresh conversation (calibrated over REST
first), and every conversation against what PostgreSQL stored. A report, not a test: it prints
and writes results/bench/cluster.md and cluster.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import aiohttp
import socketio
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.length import questions
from content_library.content import load_content
from conversations.ids import conversation_id
from conversations.lock import why_unreachable
from harness.cluster import Cluster, start_cluster, stored_turns
from harness.rest_client import client_session, send
from harness.servers import Server, free_ports, wait_until_up
from harness.widget_client import WidgetSession
from nlu.examples import nlu_examples
from paths import HELD_OUT_NLU, RESULTS, ROOT

OUT = RESULTS / "bench"
FAULT_AFTER_SECONDS = 6.0  # into the phase: every parent is mid-conversation by then
REDIS_DOWN_SECONDS = 5.0
REPLY_TIMEOUT = 20.0  # a widget that gets nothing for this long counts the message as unanswered
# A parent still talking after this is cut off and counted: a fault must not hold the benchmark forever.
PHASE_DEADLINE = 150.0
URGENT_EVERY = 7  # one message in seven describes a red flag
APOLOGY = "unavailable"  # the guard's stand-in reply (connectors/guard.py)
# A REST client sends a request again once, under the same X-Request-ID, when its connection broke or the
# balancer answered 502/503 (what docs/channels.md asks of REST clients); the widget resends by itself.
REST_ATTEMPTS = 2


@dataclass
class Sent:
    """One message a parent sent, and what they saw."""

    conversation: str  # as stored: <channel>:<id>
    channel: str
    text: str
    urgent: bool
    at: float  # seconds into the phase
    seconds: float = 0.0
    replies: List[str] = field(default_factory=list)
    answer_ids: List[str] = field(default_factory=list)
    error: str = ""
    sent_again: bool = False  # a REST request sent again (same X-Request-ID), or a widget message resent


def parse_args(argv: List[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server's URL, of a user that may create databases",
    )
    parser.add_argument(
        "--faults", default="none,replica,actions,postgres,redis,one_replica", help="comma-separated phases to run"
    )
    return parser.parse_args(argv)


def message_pool(seed: int) -> Tuple[List[str], List[str]]:
    """Held-out questions, and held-out messages describing a red flag now."""
    urgent = [text for intent in ("urgent", "emergency") for text in nlu_examples(HELD_OUT_NLU).get(intent, [])]
    random.Random(seed).shuffle(urgent)
    return questions(200, seed), urgent


def conversations(count: int, length: int, seed: int) -> List[Tuple[str, List[Tuple[str, bool]]]]:
    """(channel, [(text, urgent)]) per parent: half REST, half widgets; no text twice in a conversation."""
    plain, urgent = message_pool(seed)
    chooser = random.Random(seed)
    drawn = []
    for index in range(count):
        texts = chooser.sample(plain, length)
        marked = [(text, False) for text in texts]
        for position in range(index % URGENT_EVERY, length, URGENT_EVERY):
            marked[position] = (chooser.choice(urgent), True)
        drawn.append(("rest" if index % 2 == 0 else "socketio", dedupe(marked)))
    return drawn


def dedupe(marked: List[Tuple[str, bool]]) -> List[Tuple[str, bool]]:
    seen, kept = set(), []
    for text, urgent in marked:
        if text not in seen:
            seen.add(text)
            kept.append((text, urgent))
    return kept


async def calibrate(url: str, texts: List[str]) -> Dict[str, List[str]]:
    """What each message gets as the first of a conversation of its own, on the healthy cluster."""
    expected = {}
    async with client_session(4) as session:
        for text in texts:
            turn = await send(session, url, f"calibrate-{uuid.uuid4().hex[:10]}", text)
            if turn.error or not turn.replies:
                raise RuntimeError(f"calibration: no reply to {text!r}: {turn.error or 'empty'}")
            expected[text] = [reply.get("text", "") for reply in turn.replies]
    return expected


async def rest_parent(
    session: aiohttp.ClientSession, url: str, texts: List[Tuple[str, bool]], start: float, log: List[Sent]
) -> None:
    sender = f"bench-rest-{uuid.uuid4().hex[:10]}"
    for text, urgent in texts:
        sent = Sent(conversation_id("rest", sender), "rest", text, urgent, time.perf_counter() - start)
        turn = await send(session, url, sender, text, attempts=REST_ATTEMPTS)
        sent.seconds, sent.error, sent.sent_again = turn.seconds, turn.error, turn.attempts > 1
        sent.replies = [reply.get("text", "") for reply in turn.replies]
        sent.answer_ids = [(reply.get("custom") or {}).get("answer_id", "") for reply in turn.replies]
        log.append(sent)


async def widget_parent(
    url: str,
    texts: List[Tuple[str, bool]],
    expected: Dict[str, List[str]],
    start: float,
    log: List[Sent],
    moved: List[bool],
) -> None:
    widget = WidgetSession(url)
    try:
        try:
            await widget.open(timeout=REPLY_TIMEOUT)
        except (socketio.exceptions.SocketIOError, asyncio.TimeoutError) as error:
            conversation = conversation_id("socketio", widget.session_id)
            log.extend(
                Sent(conversation, "socketio", text, urgent, 0.0, error=f"could not connect: {error}")
                for text, urgent in texts
            )
            return
        first_holder = widget.engine_session.split(".")[0]
        for text, urgent in texts:
            sent = Sent(
                conversation_id("socketio", widget.session_id), "socketio", text, urgent, time.perf_counter() - start
            )
            began, resent = time.perf_counter(), widget.resent
            try:
                replies = await widget.say(text, replies=1, timeout=REPLY_TIMEOUT)
                sent.sent_again = widget.resent > resent
                if [reply.get("text", "") for reply in replies] == expected[text][:1]:  # the rest of the answer
                    replies += await widget.more(len(expected[text]) - 1, REPLY_TIMEOUT)
                sent.replies = [reply.get("text", "") for reply in replies]
                sent.answer_ids = [(reply.get("custom") or {}).get("answer_id", "") for reply in replies]
            except asyncio.TimeoutError:
                sent.error = "no reply within the timeout"  # a later reply to it is told apart by its id
            except socketio.exceptions.SocketIOError as error:  # sent as the connection dropped
                sent.error = f"not sent: {error}"

            sent.seconds = time.perf_counter() - began
            log.append(sent)
        moved.append(widget.engine_session.split(".")[0] != first_holder)
    finally:
        with suppress(asyncio.TimeoutError, socketio.exceptions.SocketIOError):
            await asyncio.wait_for(widget.close(), 5)


async def phase(
    cluster: Cluster,
    drawn: List[Tuple[str, List[Tuple[str, bool]]]],
    expected: Dict[str, List[str]],
    fault: Callable[[], None] | None,
) -> Tuple[List[Sent], float, List[bool], float | None]:
    log: List[Sent] = []
    moved: List[bool] = []
    start = time.perf_counter()
    loop = asyncio.get_running_loop()
    fault_at: float | None = None

    async def inject() -> None:
        nonlocal fault_at
        await asyncio.sleep(FAULT_AFTER_SECONDS)
        fault_at = time.perf_counter() - start
        await loop.run_in_executor(None, fault)

    async with client_session(len(drawn)) as session:
        parents = [
            rest_parent(session, cluster.url, texts, start, log)
            if channel == "rest"
            else widget_parent(cluster.url, texts, expected, start, log, moved)
            for channel, texts in drawn
        ]
        tasks = [asyncio.ensure_future(asyncio.wait_for(parent, PHASE_DEADLINE)) for parent in parents]
        if fault:
            tasks.append(asyncio.ensure_future(inject()))
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    cut_off = sum(isinstance(outcome, asyncio.TimeoutError) for outcome in outcomes)
    return log, time.perf_counter() - start, moved, fault_at, cut_off


def judge(
    log: List[Sent],
    expected: Dict[str, List[str]],
    on_call: str,
    store_url: str,
    wall: float,
    moved: List[bool],
    fault_at: float | None,
) -> Dict[str, Any]:
    """Counts of what went wrong, from the parents' side and from what PostgreSQL kept."""
    errors = [sent for sent in log if sent.error]
    answered = [sent for sent in log if not sent.error]
    empty = [sent for sent in answered if not sent.replies]
    apologies = [sent for sent in answered if APOLOGY in sent.answer_ids]
    urgent = [sent for sent in log if sent.urgent]
    urgent_with_number = [sent for sent in urgent if sent.replies and on_call in sent.replies[0]]
    # An urgent message answered by the guard's own urgent reply (the turn failed) is safe, not wrong.
    wrong = [
        sent
        for sent in answered
        if sent.replies
        and APOLOGY not in sent.answer_ids
        and sent.replies != expected[sent.text]
        and sent not in urgent_with_number
    ]
    lost = duplicated = 0
    for conversation in {sent.conversation for sent in log}:
        stored = Counter(text for kind, text in stored_turns(store_url, conversation) if kind == "user")
        for sent in log:
            if sent.conversation != conversation:
                continue
            if sent.replies == expected[sent.text] and stored[sent.text] == 0:
                lost += 1  # a parent had the turn's own answer, and the conversation does not hold the message
            duplicated += max(0, stored[sent.text] - 1)
    abnormal = [sent for sent in log if sent.error or not sent.replies or sent in apologies or sent in wrong]
    recovered = None
    if fault_at is not None:
        last = max((sent.at + sent.seconds for sent in abnormal), default=fault_at)
        recovered = round(max(0.0, last - fault_at), 1)
    return {
        "messages": len(log),
        "errors": len(errors),
        "errors_by_channel": dict(Counter(sent.channel for sent in errors)),
        "sent_again": sum(sent.sent_again for sent in log),
        "replies_missing": len(empty),
        "apologies": len(apologies),
        "wrong_answers": len(wrong),
        "lost": lost,
        "duplicated": duplicated,
        "urgent": len(urgent),
        "urgent_with_number": len(urgent_with_number),
        "urgent_unanswered": sum(1 for sent in urgent if sent.error),
        # The turn failed and the guard sent the urgent reply itself: the number, without the turn stored.
        "urgent_by_the_guard": sum(1 for sent in urgent_with_number if sent.replies != expected[sent.text]),
        "fault_at_seconds": round(fault_at, 1) if fault_at is not None else None,
        "normal_again_after_seconds": recovered,
        "widgets_moved_replica": sum(moved),
        "widgets": len(moved),
        "wall_seconds": round(wall, 1),
        "messages_per_second": round(len(log) / wall, 1),
        "first_problems": [asdict(sent) for sent in abnormal[:5]],
    }


class Faults:
    """The four faults, each a callable the phase runs a few seconds in; and how to undo each after."""

    def __init__(self, cluster: Cluster, redis: "PrivateRedis") -> None:
        self.cluster, self.redis = cluster, redis

    def replica(self) -> None:
        self.cluster.kill("rasa-1")
        self.cluster.start_replica("rasa-1", wait=False)  # back in HAProxy once its health check passes

    def actions(self) -> None:
        self.cluster.servers["actions-1"].stop()

    def postgres(self) -> None:
        subprocess.run(postgres_restart(), check=True, capture_output=True)

    def redis_down(self) -> None:
        self.redis.stop()
        time.sleep(REDIS_DOWN_SECONDS)  # the outage itself, in the fault's own thread
        self.redis.start()

    def one_replica(self) -> None:
        self.cluster.servers["rasa-2"].stop()

    def undo(self, name: str) -> None:
        """Back to the healthy cluster before the next phase."""
        if name == "replica":
            wait_until_up(self.cluster.servers["rasa-1"], f"{self.cluster.replica_url('rasa-1')}/")
        elif name == "actions":
            self.cluster.start_action_server("actions-1")
        elif name == "one_replica":
            self.cluster.start_replica("rasa-2")


def postgres_restart() -> List[str]:
    """Debian's command to restart this machine's PostgreSQL cluster (the first one pg_lsclusters lists)."""
    if not shutil.which("pg_lsclusters"):
        raise RuntimeError("no pg_lsclusters: restart PostgreSQL by hand, or leave the postgres fault out")
    version, name = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout.split()[
        :2
    ]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"]


class PrivateRedis:
    """A Redis server of the benchmark's own, on a free port: stopping it disturbs nothing else."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_ports(1)[0]
        self.server: Server | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = self.workdir / "redis.log"
        with open(log, "a") as handle:
            process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        self.server = Server("redis", process, log)
        deadline = time.monotonic() + 10
        while why_unreachable(self.url, timeout=0.5):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"redis-server did not start: {log.read_text()[-500:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.server:
            self.server.stop()


PHASES = {
    "none": ("no fault", None),
    "replica": ("rasa-1 killed (kill -9), started again", "replica"),
    "actions": ("one of two action servers stopped", "actions"),
    "postgres": ("PostgreSQL restarted", "postgres"),
    "redis": (f"Redis stopped for {REDIS_DOWN_SECONDS:.0f} s", "redis_down"),
    "one_replica": ("no fault, one replica (rasa-2 stopped before)", None),
}


def run(args: argparse.Namespace) -> Dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    # pre-ping: the PostgreSQL fault restarts the server under this pool's connection too.
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    database = f"itb_bench_cluster_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    store_url = make_url(args.postgres).set(database=database).render_as_string(hide_password=False)
    own_redis = PrivateRedis(workdir)
    own_redis.start()
    results: Dict[str, Any] = {}
    cluster = None
    try:
        print("Starting 2 replicas and 2 action servers behind HAProxy ...", file=sys.stderr, flush=True)
        cluster = start_cluster(store_url, own_redis.url, replicas=2, action_servers=2, workdir=workdir)
        drawn = conversations(args.conversations, args.messages, args.seed)
        texts = sorted({text for _, messages in drawn for text, _ in messages})
        print(f"Calibrating {len(texts)} messages ...", file=sys.stderr, flush=True)
        expected = asyncio.run(calibrate(cluster.url, texts))
        faults = Faults(cluster, own_redis)
        on_call = load_content().contacts["hospital_phone"]
        for name in [part for part in args.faults.split(",") if part]:
            title, method = PHASES[name]
            print(f"Phase: {title} ...", file=sys.stderr, flush=True)
            fresh = conversations(args.conversations, args.messages, args.seed)  # same texts, new parents
            if name == "one_replica":  # throughput of one replica: stopped before, not during, the phase
                faults.one_replica()
            log, wall, moved, fault_at, cut_off = asyncio.run(
                phase(cluster, fresh, expected, getattr(faults, method) if method else None)
            )
            judged = judge(log, expected, on_call, store_url, wall, moved, fault_at)
            results[name] = {"title": title, **judged, "parents_cut_off": cut_off}
            faults.undo(name)
        results["writes"] = store_writes(store_url)
    finally:
        if cluster:
            cluster.stop()
        own_redis.stop()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    return results


def store_writes(store_url: str) -> Dict[str, float]:
    """Rows written per parent message, from what the run stored: for the on-paper capacity figures."""
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as connection:
            events = connection.execute(sa.text("SELECT count(*) FROM events")).scalar()
            messages = connection.execute(sa.text("SELECT count(*) FROM events WHERE type_name = 'user'")).scalar()
    finally:
        engine.dispose()
    return {"events": events, "user_messages": messages, "events_per_message": round(events / max(messages, 1), 1)}


def markdown(result: Dict[str, Any], command: str, date: str, commit: str) -> str:
    phases = [name for name in PHASES if name in result]
    rows = [
        ("messages sent", "messages"),
        (f"parents still waiting after {PHASE_DEADLINE:.0f} s (cut off)", "parents_cut_off"),
        ("messages their client sent again (REST: same X-Request-ID; widget: after reconnecting)", "sent_again"),
        ("errors seen by clients", "errors"),
        ("replies missing (an empty reply list)", "replies_missing"),
        ("apologies (the guard's reply with the numbers)", "apologies"),
        ("wrong answers (not what a fresh conversation gets)", "wrong_answers"),
        ("lost (the turn's own answer given, not in PostgreSQL)", "lost"),
        ("duplicated turns", "duplicated"),
        ("urgent messages", "urgent"),
        ("urgent with the on-call number first", "urgent_with_number"),
        ("  of them sent by the guard (the turn failed)", "urgent_by_the_guard"),
        ("urgent with an error instead (in flight, or not sent)", "urgent_unanswered"),
        ("fault injected at (s)", "fault_at_seconds"),
        ("replies normal again after (s)", "normal_again_after_seconds"),
        ("widgets that moved replica / widgets", None),
        ("messages per second", "messages_per_second"),
        ("wall clock (s)", "wall_seconds"),
    ]
    lines = [
        "| | " + " | ".join(result[name]["title"] for name in phases) + " |",
        "|---|" + "---|" * len(phases),
    ]
    for label, key in rows:
        if key is None:
            cells = [f"{result[name]['widgets_moved_replica']} / {result[name]['widgets']}" for name in phases]
        else:
            cells = ["–" if result[name][key] is None else str(result[name][key]) for name in phases]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    writes = result.get("writes", {})
    lines += [
        "",
        f"PostgreSQL rows per parent message: {writes.get('events_per_message', '–')} (events), one commit a turn. "
        f"Command: `{command}` (commit {commit}, {date} UTC; {platform.machine()}, "
        f"{os.cpu_count()} cores shared by the client, HAProxy, the servers, PostgreSQL and Redis).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: List[str] | None = None) -> int:
    args = parse_args(argv)
    # python-engineio's client leaves an aiohttp session behind at each reconnection: noise, not a finding.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    command = shlex.join([".venv/bin/python", "-m", "bench.cluster", *(argv if argv is not None else sys.argv[1:])])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    result = run(args)
    table = markdown(result, command, date, commit.strip())
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cluster.md").write_text(table)
    (OUT / "cluster.json").write_text(json.dumps({**result, "command": command, "date": date}, indent=2) + "\n")
    print(table)
    print(f"Written to {(OUT / 'cluster.md').relative_to(ROOT)} and cluster.json.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
