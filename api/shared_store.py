"""What the workers of one deployment share: persisted query documents and rate counters.

One interface, two stores: Redis when ATMP_REDIS_URL names one (every worker, on every host,
sees the same keys), otherwise a dictionary in this process (enough for one worker, and for
tests).  Every key expires, so neither store grows without bound.
"""

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from typing import Protocol

import redis
import redis.asyncio

from atmp_graph.api.settings import Settings

__all__ = ["MemoryStore", "RedisStore", "SharedStore", "open_store"]

logger = logging.getLogger(__name__)
# A readiness probe's patience with Redis: a load balancer polls every few seconds.
PING_SECONDS = 2.0


class SharedStore(Protocol):
    async def get(self, key: str) -> str | None:
        """The value stored under `key`, if it has not expired."""

    async def put(self, key: str, value: str, *, ttl_seconds: int) -> None:
        """Store `value` under `key` for `ttl_seconds`."""

    async def increment(self, key: str, *, ttl_seconds: int) -> int:
        """Add one to the counter `key` and return it; a new counter lives `ttl_seconds`."""

    async def close(self) -> None:
        """Let go of connections; the app calls it at shutdown."""

    async def reachable(self) -> bool | None:
        """Whether the store answers (None: there is nothing to reach, it is this process)."""


class MemoryStore:
    """The store of a single process.  Its operations do not await, so on one event loop each
    runs whole; past `max_entries` the least recently used key goes first."""

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def _live(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def _store(self, key: str, value: str, ttl_seconds: int) -> None:
        self._entries[key] = (value, time.monotonic() + ttl_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def put(self, key: str, value: str, *, ttl_seconds: int) -> None:
        self._store(key, value, ttl_seconds)

    async def increment(self, key: str, *, ttl_seconds: int) -> int:
        current = self._live(key)
        if current is None:
            self._store(key, "1", ttl_seconds)
            return 1
        count = int(current) + 1
        # A counter keeps the expiry it was created with, as Redis's INCR does.
        self._entries[key] = (str(count), self._entries[key][1])
        return count

    async def close(self) -> None:
        self._entries.clear()

    async def reachable(self) -> bool | None:
        return None


class RedisStore:
    """The store every worker shares, under one key prefix (tests give each their own).

    Redis going away does not take the API with it: while it cannot be reached, nothing is
    remembered and nothing is counted (persisted queries are asked for again, no limit
    applies), and the log says so.
    """

    def __init__(self, url: str, *, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        # A connection belongs to the event loop that opened it; an app served from more than
        # one loop (a test client each, say) gets a client per loop.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = redis.asyncio.Redis.from_url(self.url, decode_responses=True)
        return self._clients[loop]

    async def get(self, key: str) -> str | None:
        try:
            value = await self.client.get(self.prefix + key)
        except redis.RedisError as error:
            logger.warning("Redis: cannot read %s: %s", key, error)
            return None
        return None if value is None else str(value)

    async def put(self, key: str, value: str, *, ttl_seconds: int) -> None:
        try:
            await self.client.set(self.prefix + key, value, ex=ttl_seconds)
        except redis.RedisError as error:
            logger.warning("Redis: cannot store %s: %s", key, error)

    async def increment(self, key: str, *, ttl_seconds: int) -> int:
        try:
            # One round trip, atomically: the first INCR creates the counter, NX sets its
            # expiry only then, so a window's counter dies with its window.
            async with self.client.pipeline(transaction=True) as pipeline:
                pipeline.incr(self.prefix + key)
                pipeline.expire(self.prefix + key, ttl_seconds, nx=True)
                count, _ = await pipeline.execute()
        except redis.RedisError as error:
            logger.warning("Redis: cannot count %s, so it is not limited: %s", key, error)
            return 0
        return int(count)

    async def reachable(self) -> bool | None:
        try:
            async with asyncio.timeout(PING_SECONDS):
                return bool(await self.client.ping())
        except (redis.RedisError, OSError, TimeoutError) as error:
            logger.warning("Redis: does not answer a ping: %s", error)
            return False

    async def close(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def open_store(settings: Settings) -> SharedStore:
    """Redis if the settings name one, otherwise this process's own store."""
    if settings.redis_url:
        return RedisStore(settings.redis_url, prefix=settings.redis_prefix)
    return MemoryStore()
