"""Load benchmark: N parents at once, M messages each, against the real servers over REST.

Run from the project root: `make bench-load` (N=50 M=20), or `make bench-load N=10 M=5`, which runs
`.venv/bin/python -m bench.load --conversations N --messages M`. It starts its own action server and
Rasa server (as the end-to-end tests do, with the HTTP API on behind a random token so it can read
trackers), sends every conversation's messages, then checks that every tracker holds every message.
The report goes to stdout and to results/bench/load.md and load.json.

It reports; it doesn't judge speed. It exits non-zero only if something was lost: a failed request,
a reply with no message, or a message missing from its tracker. The messages are the held-out NLU
test set's (tests/nlu/), drawn with a fixed seed, so replies are the realistic mix of answers,
urgent replies and "Did you mean ...?".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import shlex
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import yaml

from bench.peak_memory import peak_rss
from connectors.guard import DEFAULT_REPLY_DEADLINE, REPLY_DEADLINE_ENV
from harness.rest_client import Turn, client_session, fetch_user_texts, lost, run_conversations, send
from harness.servers import Stack, http_api_args, start_stack
from nlu.examples import nlu_examples
from paths import HELD_OUT_NLU, MODEL, RESULTS, ROOT

OUT = RESULTS / "bench"
SERVER_NAMES = {"rasa": "Rasa server", "actions": "action server"}


def parse_args(argv: List[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", "-n", type=int, default=50, help="conversations at once (N)")
    parser.add_argument("--messages", "-m", type=int, default=20, help="messages in each conversation (M)")
    parser.add_argument("--seed", type=int, default=0, help="seed for drawing the messages")
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.messages < 1:
        parser.error("--conversations and --messages must be at least 1")
    return args


def draw_conversations(count: int, length: int, seed: int) -> Dict[str, List[str]]:
    """Distinct sender ids (new each run, so no tracker from an earlier run is reused), test-set messages."""
    pool = [text for texts in nlu_examples(HELD_OUT_NLU).values() for text in texts]
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    return {f"bench-{run}-{i:03d}": [rng.choice(pool) for _ in range(length)] for i in range(count)}


def percentile(values: List[float], p: float) -> float:
    """Nearest-rank percentile: a latency some request really had."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def run(args: argparse.Namespace) -> Dict[str, Any]:
    conversations = draw_conversations(args.conversations, args.messages, args.seed)
    token = secrets.token_urlsafe(24)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as workdir:
        print("Starting the action server and the Rasa server ...", file=sys.stderr, flush=True)
        stack = start_stack(
            Path(workdir),
            args.model,
            # The production reply deadline (not the tests' generous one): an apology under load is a failure.
            extra_env={REPLY_DEADLINE_ENV: str(DEFAULT_REPLY_DEADLINE)},
            rasa_args=http_api_args(token),
        )
        try:
            result = measure(stack, token, conversations)
        finally:
            stack.stop()
        tracker_store = tracker_store_in(Path(workdir) / "endpoints.yml")
    return result | {"tracker_store": tracker_store, "load_average_before": round(load_before, 2)}


def tracker_store_in(endpoints: Path) -> str:
    """Which tracker store the servers were started with, as the report's context (it changes the numbers)."""
    try:
        store = (yaml.safe_load(endpoints.read_text()) or {}).get("tracker_store")
    except (OSError, yaml.YAMLError):
        return "unknown"
    if not store:
        return "in-memory (Rasa's default)"
    db = f" (db: {Path(str(store['db'])).name})" if store.get("db") else ""
    return f"{store.get('type', 'sql')}{db}"


def measure(stack: Stack, token: str, conversations: Dict[str, List[str]]) -> Dict[str, Any]:
    # One message first, not counted: the first prediction after start-up builds TensorFlow's graphs.
    warm_up = asyncio.run(one_message(stack.url, f"bench-warm-up-{uuid.uuid4().hex[:8]}", "hello"))
    if warm_up.error:
        raise RuntimeError(f"The warm-up message failed: {warm_up.error}\n{stack.servers['rasa'].log_tail()}")

    total = sum(len(messages) for messages in conversations.values())
    print(f"Sending {total} messages in {len(conversations)} conversations ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    turns = asyncio.run(run_conversations(stack.url, conversations))
    wall = time.perf_counter() - started

    kept = asyncio.run(fetch_user_texts(stack.url, token, list(conversations)))
    memory = {name: peak_rss(server.process.pid) for name, server in stack.servers.items()}

    every_turn: List[Turn] = [turn for conversation in turns.values() for turn in conversation]
    errors = [turn for turn in every_turn if turn.error]
    unreadable = {sender: repr(texts) for sender, texts in kept.items() if isinstance(texts, BaseException)}
    latencies = [turn.seconds * 1000 for turn in every_turn if not turn.error]
    return {
        "conversations": len(conversations),
        "messages_each": len(next(iter(conversations.values()))),
        "messages_sent": len(every_turn),
        "errors": len(errors),
        "replies_missing": sum(turn.missing_reply for turn in every_turn),
        # The guard's apology: no answer within the reply deadline (or the action server failed).
        "apologies": sum(
            reply.get("custom", {}).get("kind") == "unavailable" for turn in every_turn for reply in turn.replies
        ),
        "lost": sum(
            len(sent) if sender in unreadable else lost(sent, kept[sender]) for sender, sent in conversations.items()
        ),
        "trackers_unreadable": len(unreadable),
        "reply_kinds": dict(
            Counter(
                reply.get("custom", {}).get("kind", "none") for turn in every_turn for reply in turn.replies
            ).most_common()
        ),
        "latency_ms": {f"p{p}": round(percentile(latencies, p), 1) for p in (50, 95, 99)},
        "messages_per_second": round(len(every_turn) / wall, 2),
        "wall_seconds": round(wall, 2),
        "peak_rss": {name: asdict(peak) for name, peak in memory.items()},
        "cpu_cores": os.cpu_count(),
        "first_errors": sorted({turn.error for turn in errors})[:5] + list(unreadable.values())[:5],
    }


async def one_message(url: str, sender: str, message: str) -> Turn:
    async with client_session(1) as session:
        return await send(session, url, sender, message)


def markdown(result: Dict[str, Any]) -> str:
    latency = result["latency_ms"]
    rows = [
        ("conversations at once (N)", result["conversations"]),
        ("messages per conversation (M)", result["messages_each"]),
        ("messages sent", result["messages_sent"]),
        ("errors (non-2xx or exception)", result["errors"]),
        ("replies missing (200 with no message)", result["replies_missing"]),
        ("apologies instead of an answer (no reply within the deadline)", result["apologies"]),
        ("lost (sent but not in the tracker)", result["lost"]),
        ("replies by kind", ", ".join(f"{kind} {count}" for kind, count in result["reply_kinds"].items())),
        ("latency p50 / p95 / p99 (ms)", f"{latency['p50']:.0f} / {latency['p95']:.0f} / {latency['p99']:.0f}"),
        ("messages per second (wall clock)", f"{result['messages_per_second']:.1f}"),
        ("wall clock (s)", f"{result['wall_seconds']:.1f}"),
    ]
    for name, peak in result["peak_rss"].items():
        label = SERVER_NAMES.get(name, name)
        processes = "" if peak["processes"] == 1 else f" ({peak['processes']} processes, summed)"
        rows.append((f"{label} peak RSS (MiB)", f"{peak['mib']:.0f}{processes}"))
    rows += [
        ("tracker store", result["tracker_store"]),
        (
            "machine",
            f"{result['cpu_cores']} cores shared by the client and both servers; "
            f"1-min load average {result['load_average_before']} before the run",
        ),
        ("date (UTC)", result["date"]),
        ("command", f"`{result['command']}`"),
    ]
    lines = ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
    return "\n".join(lines) + "\n"


def command(args: argparse.Namespace) -> str:
    """The command that reproduces this run, every default written out."""
    words = [".venv/bin/python", "-m", "bench.load", "--conversations", str(args.conversations)]
    words += ["--messages", str(args.messages), "--seed", str(args.seed)]
    if args.model.resolve() != MODEL:
        words += ["--model", str(args.model)]
    return shlex.join(words)


def main(argv: List[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    result["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    result["command"] = command(args)
    table = markdown(result)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.md").write_text(table)
    (OUT / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table)
    print(f"Written to {(OUT / 'load.md').relative_to(ROOT)} and load.json.", file=sys.stderr)
    failures = result["errors"] + result["replies_missing"] + result["apologies"] + result["lost"]
    if failures:
        for error in result["first_errors"]:
            print(f"  {error}", file=sys.stderr)
        print(
            f"FAILED: {result['errors']} errors, {result['replies_missing']} replies missing, "
            f"{result['apologies']} apologies, {result['lost']} messages lost.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
