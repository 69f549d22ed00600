"""One turn at a time per conversation, across every Rasa replica: an atomic lock in Redis.

Rasa 3.6's RedisLockStore reads a conversation's ticket lock, changes it and writes it back in
separate commands, so two replicas handling the same conversation at the same instant can both take
it (RasaHQ/rasa#9213; the fix went to Rasa Pro only). Here a conversation's lock is one Redis key,
taken with `SET key token NX PX lifetime` (only one caller can create it) and given back by a
script that deletes it only if it still holds that caller's token (so a turn that outlived its lock
never frees someone else's). While a turn runs, its lock is renewed, by the same compare-and-set,
every third of its lifetime: a long turn keeps it, and a replica that dies stops renewing, so after
one lifetime the conversation is free again.

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
import secrets
import time
from contextlib import asynccontextmanager, suppress
from typing import Any, AsyncIterator

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

URL_VARIABLE = "REDIS_URL"
# Longer than the reply deadline (connectors/guard.py, 8 s) and than a normal turn; renewed while a turn runs.
LIFETIME_SECONDS = 30.0
# How long a message waits for the turn before it in the same conversation before giving up.
WAIT_SECONDS = 60.0
POLL_SECONDS = 0.01
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
        lifetime: float = LIFETIME_SECONDS,
        wait: float = WAIT_SECONDS,
    ) -> None:
        import redis.asyncio

        url = url or (endpoint_config.url if endpoint_config else None) or os.environ.get(URL_VARIABLE)
        if not url:
            raise LockError(f"AtomicRedisLockStore needs a Redis URL: `url:` in endpoints.yml, or {URL_VARIABLE}")
        self.url = url
        self.lifetime = float((endpoint_config.kwargs.get("lifetime") if endpoint_config else None) or lifetime)
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

        key, token = KEY_PREFIX + conversation_id, secrets.token_hex(16)
        lifetime_ms = int(self.lifetime * 1000)
        try:
            await self._acquire(key, token, lifetime_ms)
        except (redis.RedisError, OSError) as error:
            reason = type(error).__name__
            logger.warning("The lock store is unreachable (%s): the turn goes ahead without its lock.", reason)
            yield self.create_lock(conversation_id)
            return
        renewing = asyncio.ensure_future(self._renew(key, token, lifetime_ms))
        try:
            yield self.create_lock(conversation_id)
        finally:
            renewing.cancel()
            with suppress(asyncio.CancelledError):
                await renewing
            with suppress(redis.RedisError, OSError):
                await self.redis.eval(RELEASE, 1, key, token)

    async def _acquire(self, key: str, token: str, lifetime_ms: int) -> None:
        deadline = time.monotonic() + self.wait
        while not await self.redis.set(key, token, nx=True, px=lifetime_ms):
            if time.monotonic() > deadline:
                raise LockError(f"Could not acquire the lock for a conversation within {self.wait} s.")
            await asyncio.sleep(POLL_SECONDS)  # another turn of this conversation is running

    async def _renew(self, key: str, token: str, lifetime_ms: int) -> None:
        import redis

        while True:
            await asyncio.sleep(lifetime_ms / 3000)
            with suppress(redis.RedisError, OSError):
                if not await self.redis.eval(RENEW, 1, key, token, lifetime_ms):
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
