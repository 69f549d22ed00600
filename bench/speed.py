"""How fast the running assistant answers, and what it costs: one fresh pair of servers per repeat.

Each repeat starts the action server and the Rasa server from nothing (the cold start is timed to
the first answered message), then, over REST with the production reply deadline:
  - sends the same workload one conversation at a time, then 10 and 50 at a time: 50 conversations
    of 10 messages drawn from the held-out test set (new sender ids at each level);
  - sends each of those messages to `/model/parse`, the NLU alone (the HTTP API is on, behind a
    random token, only for the benchmark);
  - reads each server's peak resident memory.
The client shares the machine's cores with both servers, as a load balancer on the same host would.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List
from urllib.parse import urlsplit

import aiohttp

from bench.load import draw_conversations, percentile
from bench.peak_memory import peak_rss
from connectors.guard import DEFAULT_REPLY_DEADLINE, REPLY_DEADLINE_ENV
from harness.rest_client import Turn, client_session, run_conversations, send
from harness.servers import Stack, http_api_args, start_stack

COLD_START_LIMIT = 300  # seconds; a stack that has not answered by then has failed
APOLOGY = "unavailable"  # the guard's reply when no answer came within the deadline


def latency_summary(milliseconds: List[float]) -> Dict[str, float]:
    return {f"p{p}": round(percentile(milliseconds, p), 1) for p in (50, 95, 99)}


async def first_answer(url: str) -> None:
    """Send one message until a real answer comes back: the server may not listen yet, or the
    action server may not (then the guard apologises, which isn't an answer)."""
    deadline = time.monotonic() + COLD_START_LIMIT
    async with client_session(1) as session:
        while time.monotonic() < deadline:
            turn = await send(session, url, f"bench-cold-{uuid.uuid4().hex[:8]}", "hello")
            kinds = {reply.get("custom", {}).get("kind") for reply in turn.replies}
            if not turn.error and turn.replies and APOLOGY not in kinds:
                return
            await asyncio.sleep(0.05)  # polling a server that is still starting, not synchronising a test
    raise RuntimeError(f"no answer within {COLD_START_LIMIT} s of starting the servers")


def failed(turn: Turn) -> bool:
    """An HTTP error, a 200 with nothing in it, or the guard's apology: the parent got no answer."""
    return bool(turn.error) or not turn.replies or any(
        reply.get("custom", {}).get("kind") == APOLOGY for reply in turn.replies
    )


def level(url: str, conversations: Dict[str, List[str]], at_once: int) -> Dict[str, Any]:
    started = time.perf_counter()
    turns = asyncio.run(run_conversations(url, conversations, at_once))
    wall = time.perf_counter() - started
    every = [turn for conversation in turns.values() for turn in conversation]
    errors = [turn for turn in every if failed(turn)]
    return {
        "messages": len(every),
        "errors": len(errors),
        "first_errors": sorted({turn.error or repr(turn.replies)[:200] for turn in errors})[:3],
        "latency_ms": latency_summary([turn.seconds * 1000 for turn in every if not failed(turn)]),
        "messages_per_second": round(len(every) / wall, 1),
    }


async def parse_times(url: str, token: str, texts: List[str]) -> List[float]:
    """Milliseconds for each `/model/parse`, one at a time."""
    times = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for text in texts:
            started = time.perf_counter()
            async with session.post(f"{url}/model/parse", params={"token": token}, json={"text": text}) as response:
                await response.read()
                response.raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


def redis_lock_store(url: str) -> Dict[str, Any]:
    """endpoints.yml's lock_store for `redis://host:port/db`: Rasa runs several Sanic workers only with one."""
    parsed = urlsplit(url)
    return {
        "type": "redis",
        "url": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 6379,
        "db": int(parsed.path.strip("/") or 0),
        "key_prefix": f"bench{secrets.token_hex(4)}",
    }


def one_repeat(
    model: Path,
    levels: List[int],
    conversations: int,
    length: int,
    seed: int,
    workers: int = 1,
    redis_url: str = "",
    start: Callable[..., Stack] | None = None,
) -> Dict[str, Any]:
    """One fresh pair of servers, measured; `workers` > 1 runs that many Sanic workers on a Redis lock store.

    `start` starts another bot instead of this one (bench/peer.py), with the same arguments.
    """
    token = secrets.token_urlsafe(24)
    extra_env = {REPLY_DEADLINE_ENV: str(DEFAULT_REPLY_DEADLINE)}
    endpoints_extra = {}
    if workers > 1:
        extra_env["SANIC_WORKERS"] = str(workers)
        endpoints_extra["lock_store"] = redis_lock_store(redis_url)
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as workdir:
        started = time.perf_counter()
        stack: Stack = (start or (lambda workdir, **kwargs: start_stack(workdir, model, **kwargs)))(
            Path(workdir),
            extra_env=extra_env,
            rasa_args=http_api_args(token),
            wait=False,
            endpoints_extra=endpoints_extra,
        )
        try:
            asyncio.run(first_answer(stack.url))
            cold_start = time.perf_counter() - started
            result: Dict[str, Any] = {"cold_start_seconds": round(cold_start, 2), "levels": {}}
            for at_once in levels:
                print(f"    {at_once} at a time ...", file=sys.stderr, flush=True)
                workload = draw_conversations(conversations, length, seed)
                result["levels"][str(at_once)] = level(stack.url, workload, at_once)
            texts = [text for messages in draw_conversations(conversations, length, seed).values() for text in messages]
            result["parse_ms"] = latency_summary(asyncio.run(parse_times(stack.url, token, texts)))
            result["peak_rss_mib"] = {name: peak_rss(server.process.pid).mib for name, server in stack.servers.items()}
        except Exception as error:
            raise RuntimeError(f"{error}\n{stack.servers['rasa'].log_tail()}") from error
        finally:
            stack.stop()
    return result
