"""The atomic Redis lock (conversations/lock.py): one turn at a time per conversation, whoever asks.

Against a real Redis server. Many holders of the same conversation's lock, started at the same
instant, never overlap; a holder frees only its own lock; a long turn keeps its lock; a dead
replica's lock frees itself; and with Redis unreachable a turn still goes ahead. Two Rasa replicas
racing on one conversation over HTTP are in tests/test_cluster.py.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import List

import pytest

from conversations.lock import KEY_PREFIX, AtomicRedisLockStore


def store(url: str, **settings: float) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(url=url, **settings)


def test_holders_of_one_conversations_lock_never_overlap(redis_url: str) -> None:
    conversation = f"race-{uuid.uuid4().hex[:8]}"
    inside: List[int] = []
    timeline: List[str] = []

    async def turn(number: int, lock_store: AtomicRedisLockStore) -> None:
        async with lock_store.lock(conversation):
            inside.append(number)
            assert len(inside) == 1, f"{inside} hold the lock at once"
            timeline.append(f"in {number}")
            await asyncio.sleep(0.005)
            timeline.append(f"out {number}")
            inside.remove(number)

    async def race() -> None:
        stores = [store(redis_url), store(redis_url)]  # two "replicas", each with its own connection
        await asyncio.gather(*(turn(number, stores[number % 2]) for number in range(40)))

    asyncio.run(race())
    assert len(timeline) == 80
    assert all(timeline[i].startswith("in") and timeline[i + 1] == "out" + timeline[i][2:] for i in range(0, 80, 2))


def test_a_long_turn_keeps_its_lock_and_frees_it_at_the_end(redis_url: str) -> None:
    import redis

    conversation = f"long-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)

    async def main() -> None:
        async with store(redis_url, expiry=0.2).lock(conversation):
            await asyncio.sleep(0.3)  # outlives its lock's expiry: the renewal keeps it, so it is still ours
            assert client.get(KEY_PREFIX + conversation) is not None
        assert client.get(KEY_PREFIX + conversation) is None  # freed at the end

    asyncio.run(main())


def test_a_renewal_that_loses_its_cancellation_still_stops_and_the_lock_stays_free(redis_url: str) -> None:
    """A cancellation that meets a Redis read's timeout can be lost: the renewal must stop anyway.

    Under load after a replica was killed, renewals that never stopped held conversations for good.
    """
    import redis

    conversation = f"lost-cancel-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    lock_store = store(redis_url, expiry=0.1)
    real_eval = lock_store.redis.eval

    async def eval_losing_cancellation(*args: object) -> object:
        try:
            await asyncio.sleep(0.05)  # a slow reply, during which the cancellation arrives
        except asyncio.CancelledError:
            pass  # and is lost
        return await real_eval(*args)

    lock_store.redis.eval = eval_losing_cancellation  # type: ignore[method-assign]

    async def main() -> int:
        for _ in range(10):
            async with lock_store.lock(conversation):
                await asyncio.sleep(0.1)  # long enough for renewals to be under way
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        _, still_renewing = await asyncio.wait(others, timeout=5) if others else (set(), set())
        return len(still_renewing)

    # In a thread of its own: a lock whose end waits for such a renewal would wait for ever.
    outcome: List[int] = []
    runner = threading.Thread(target=lambda: outcome.append(asyncio.run(main())), daemon=True)
    runner.start()
    runner.join(30)
    assert outcome == [0], "a turn's lock never ended, or a renewal went on after it"
    assert client.get(KEY_PREFIX + conversation) is None


def test_a_holder_frees_only_its_own_lock(redis_url: str) -> None:
    """A turn whose lock was lost (it expired, another replica took it) must not free the other's lock."""
    import redis

    conversation = f"own-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)

    async def main() -> None:
        async with store(redis_url).lock(conversation):
            client.set(KEY_PREFIX + conversation, "another-replica", px=5000)  # as if ours had expired

    asyncio.run(main())
    assert client.get(KEY_PREFIX + conversation) == b"another-replica"
    client.delete(KEY_PREFIX + conversation)


def test_a_turn_waits_no_longer_than_its_wait_for_a_held_lock(redis_url: str) -> None:
    import redis

    conversation = f"held-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    client.set(KEY_PREFIX + conversation, "someone-else", px=5000)

    async def other() -> None:
        with pytest.raises(Exception, match="Could not acquire"):
            async with store(redis_url, wait=0.05).lock(conversation):
                pass

    asyncio.run(other())
    assert client.get(KEY_PREFIX + conversation) == b"someone-else"
    client.delete(KEY_PREFIX + conversation)


def test_the_lock_of_a_replica_that_died_frees_itself_after_its_expiry(redis_url: str) -> None:
    import redis

    conversation = f"dead-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    client.set(KEY_PREFIX + conversation, "a-dead-replica", px=150)  # taken, never renewed, never released

    async def main() -> bytes | None:
        async with store(redis_url).lock(conversation):
            return client.get(KEY_PREFIX + conversation)

    holder = asyncio.run(main())
    assert holder is not None and holder != b"a-dead-replica"  # it waited for the dead lock to expire, then took it


def test_with_redis_unreachable_a_turn_still_goes_ahead(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> bool:
        async with store("redis://127.0.0.1:9/0").lock("anyone"):  # port 9: nothing listens
            return True

    assert asyncio.run(main())
    assert "the turn goes ahead without its lock" in caplog.text
