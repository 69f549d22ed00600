"""One turn at a time per conversation, across every Rasa replica: an atomic lock in Redis.

Rasa 3.6's RedisLockStore reads a conversation's ticket lock, changes it and writes it back in
separate commands, so two replicas handling the same conversation at the same instant can both take
it (RasaHQ/rasa#9213; the fix went to Rasa Pro only). Here a conversation's lock is one Redis key,
taken with `SET key token NX PX expiry` (only one caller can create it) and given back by a
script that deletes it only if it still holds that caller's token (so a turn that outlived its lock
never frees someone else's). The key expires after a few seconds, and while a turn runs it is
renewed, by the same compare-and-set, every fifth of that: a turn holds its lock for as long as it
runs (past the reply deadline if need be), and a replica that dies (kill -9, a lost machine) stops
renewing, so its conversations are free again within EXPIRY_SECONDS. A long fixed lifetime would
instead make the next message of every parent that replica was answering wait, and time out.

Configured in an endpoints file (deploy/endpoints.cluster.yml):

    lock_store:
      type: conversations.lock.AtomicRedisLockStore
      url: redis://host:6379/0      # or REDIS_URL in the environment

If Redis cannot be reached, the turn goes ahead without the lock and the log says so: a parent gets
their answer during a Redis restart, and the only risk, two messages of the same conversation at the
same instant on two replicas during those seconds, is far smaller than every parent getting no reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import time
from contextlib import asynccontextmanager, suppress
from typing import Any, AsyncIterator

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from conversations.ids import replica_name

logger = logging.getLogger(__name__)

URL_VARIABLE = "REDIS_URL"
# How long a lock outlives the replica holding it. A running turn renews it every fifth of this, so it
# is not a limit on the turn; what lets a running turn's lock go is renewals failing for this long (Redis
# unreachable or stalled for about 4 s, each call timing out after 2 s, or an event loop stalled as long),
# and then, as when Redis is down, two turns of one conversation can overlap for those seconds.
EXPIRY_SECONDS = 5.0
# How long a message waits for the turn before it in the same conversation before giving up.
WAIT_SECONDS = 60.0
# A waiting message asks again after 10 ms, then twice as long each time, up to 200 ms. Asking every 10 ms
# throughout made each waiter a hundred Redis calls a second: when a replica died, the messages waiting
# for its parents' locks took the survivor's event loop, and its replies slowed until they timed out
# (`make bench-cluster`). The first asks stay quick, for the usual short wait behind a turn of ~30 ms.
FIRST_POLL_SECONDS = 0.01
LAST_POLL_SECONDS = 0.2
KEY_PREFIX = "itb:lock:"

# Delete, or extend, the key only if it still holds our token: atomic in Redis.
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"


class AtomicRedisLockStore(LockStore):
    """Rasa's LockStore interface over one atomic Redis key per conversation."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        url: str | None = None,
        expiry: float = EXPIRY_SECONDS,
        wait: float = WAIT_SECONDS,
    ) -> None:
        import redis.asyncio

        url = url or (endpoint_config.url if endpoint_config else None) or os.environ.get(URL_VARIABLE)
        if not url:
            raise LockError(f"AtomicRedisLockStore needs a Redis URL: `url:` in endpoints.yml, or {URL_VARIABLE}")
        self.url = url
        self.expiry = float((endpoint_config.kwargs.get("expiry") if endpoint_config else None) or expiry)
        self.wait = float((endpoint_config.kwargs.get("wait") if endpoint_config else None) or wait)
        self.redis = redis.asyncio.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        super().__init__()

    # Rasa's ticket-lock methods: never used by this store, which hands out its own lock.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return None

    def delete_lock(self, conversation_id: str) -> None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        return None

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = 0, wait_time_in_seconds: float = 0
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the length of the `async with`."""
        import redis

        key, token = KEY_PREFIX + conversation_id, f"{replica_name()}:{secrets.token_hex(16)}"
        expiry_ms = int(self.expiry * 1000)
        try:
            await self._acquire(key, token, expiry_ms)
        except (redis.RedisError, OSError) as error:
            reason = type(error).__name__
            logger.warning("The lock store is unreachable (%s): the turn goes ahead without its lock.", reason)
            yield self.create_lock(conversation_id)
            return
        turn_over = asyncio.Event()
        renewing = asyncio.ensure_future(self._renew(key, token, expiry_ms, turn_over))
        try:
            yield self.create_lock(conversation_id)
        finally:
            # Told to stop, not only cancelled, and not waited for: a cancellation that meets a Redis reply's
            # read timeout can be lost, and a renewal that never stopped kept its conversation locked for
            # good (`make bench-cluster`, after a replica was killed). A renewal after the release finds no
            # key of ours, so it can't bring the lock back.
            turn_over.set()
            renewing.cancel()
            with suppress(redis.RedisError, OSError):
                await self.redis.eval(RELEASE, 1, key, token)

    async def _acquire(self, key: str, token: str, expiry_ms: int) -> None:
        deadline, pause = time.monotonic() + self.wait, FIRST_POLL_SECONDS
        while not await self.redis.set(key, token, nx=True, px=expiry_ms):
            if time.monotonic() > deadline:
                raise LockError(f"Could not acquire the lock for a conversation within {self.wait} s.")
            await asyncio.sleep(pause * random.uniform(0.8, 1.2))  # another turn of this conversation is running
            pause = min(pause * 2, LAST_POLL_SECONDS)

    async def _renew(self, key: str, token: str, expiry_ms: int, turn_over: asyncio.Event) -> None:
        import redis

        while True:
            await asyncio.sleep(expiry_ms / 5000)
            if turn_over.is_set():
                return
            with suppress(redis.RedisError, OSError):
                if not await self.redis.eval(RENEW, 1, key, token, expiry_ms) and not turn_over.is_set():
                    logger.warning("A turn outlived its conversation's lock.")
                    return

    async def ping(self) -> Any:
        """For start-up checks and tests: is Redis there?"""
        return await self.redis.ping()


def why_unreachable(url: str, timeout: float = 2.0) -> str:
    """Why the Redis server at `url` does not answer a PING, or "" when it does.

    The one check `make cluster`, the fault benchmark and the Redis tests make before they start.
    """
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout)
    try:
        client.ping()
        return ""
    except (redis.RedisError, OSError) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        client.close()
