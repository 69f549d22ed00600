"""Does a turn cost more the longer the conversation? One parent, many messages, timed per window.

One conversation of `messages` held-out questions (drawn with a fixed seed, repeated as needed) is
sent over REST one message at a time, each waiting for its reply, on freshly started servers. The
round trips are grouped in windows of `window` messages; each window's p50 is reported, beside a
fresh conversation's p50 (the same questions, each from a new sender). A store that replays the
whole session every turn shows as a rising line; a constant cost per turn, as a flat one.
`make bench --sections length` draws the curve for the shipped bot and the peer (bench/peer.py).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any, Dict, List

from bench.load import percentile
from harness.rest_client import client_session, send
from harness.servers import Stack
from nlu.examples import nlu_examples
from paths import HELD_OUT_NLU

URGENT = ("urgent", "emergency")


def questions(count: int, seed: int) -> List[str]:
    """`count` held-out questions, none urgent (an urgent reply has more messages to time), in a fixed order."""
    pool = [text for intent, texts in nlu_examples(HELD_OUT_NLU).items() if intent not in URGENT for text in texts]
    random.Random(seed).shuffle(pool)
    return [pool[index % len(pool)] for index in range(count)]


async def timed(url: str, texts: List[str], one_sender: bool) -> List[float]:
    """Milliseconds for each message: all from one sender, or each from a new one."""
    sender = f"bench-length-{uuid.uuid4().hex[:8]}"
    times = []
    async with client_session(1) as session:
        for text in texts:
            turn = await send(session, url, sender if one_sender else f"bench-fresh-{uuid.uuid4().hex[:8]}", text)
            if turn.error or not turn.replies:
                raise RuntimeError(f"no reply to {text!r}: {turn.error or 'empty'}")
            times.append(turn.seconds * 1000)
    return times


def measure(stack: Stack, messages: int, window: int, seed: int) -> Dict[str, Any]:
    texts = questions(messages, seed)
    asyncio.run(timed(stack.url, texts[:5], one_sender=False))  # warm up, uncounted
    conversation = asyncio.run(timed(stack.url, texts, one_sender=True))
    fresh = asyncio.run(timed(stack.url, texts[:window], one_sender=False))
    windows = [conversation[start : start + window] for start in range(0, messages, window)]
    p50s = [round(percentile(times, 50), 1) for times in windows]
    return {
        "messages": messages,
        "window": window,
        "window_p50_ms": p50s,
        "fresh_p50_ms": round(percentile(fresh, 50), 1),
        "last_over_first": round(p50s[-1] / p50s[0], 2) if p50s and p50s[0] else None,
    }


def draw(curves: Dict[str, Dict[str, Any]], out: Any) -> None:
    """The per-window p50 of each system against the messages sent so far, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5))
    for name, curve in curves.items():
        window = curve["window"]
        xs = [window * (index + 1) for index in range(len(curve["window_p50_ms"]))]
        line = axes.plot(xs, curve["window_p50_ms"], marker="o", label=name)[0]
        axes.axhline(curve["fresh_p50_ms"], color=line.get_color(), linestyle=":", linewidth=1)
    axes.set_xlabel("messages sent in the conversation so far (end of each window)")
    axes.set_ylabel(f"p50 round trip per window of {window} (ms)")
    axes.set_ylim(bottom=0)
    axes.set_title("One conversation, one message at a time (dotted: fresh conversations)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)
