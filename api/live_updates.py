"""Waking subscribers: "there are events up to sequence N", never the events themselves.

Subscribers read events from the outbox (model/outbox.py) after the last one they saw, so a
lost wake-up only delays them.  Three things wake this process's subscribers:

- a commit in this process (a curation mutation, an ingest run here): at once;
- Redis pub/sub, when ATMP_REDIS_URL is set: a commit in any process on any machine (a web
  worker, `atmp-graph ingest`, a job worker) publishes its sequence, every server hears it;
- a look at the outbox every ATMP_CHANGES_POLL_SECONDS, whatever else there is: what another
  process wrote without Redis (a CLI ingest into the SQLite file a `serve` reads), or while
  Redis was away, arrives within that.

This module also counts open subscriptions (the caps, and `open_subscriptions()` for metrics)
and prunes the history past its retention window.
"""

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable, Hashable

import redis
import redis.asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atmp_graph.api.settings import Settings
from atmp_graph.model import outbox
from atmp_graph.model.change_events import add_commit_listener, remove_commit_listener

__all__ = ["LiveUpdates", "SubscriptionRefused", "install_publisher", "open_subscriptions"]

logger = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 600
REDIS_RETRY_SECONDS = 1.0
_RUNNING: "weakref.WeakSet[LiveUpdates]" = weakref.WeakSet()


def channel_of(settings: Settings) -> str:
    return f"{settings.redis_prefix}changes"


def open_subscriptions() -> int:
    """Subscriptions open in this process now (a gauge for metrics)."""
    return sum(live.open_count for live in _RUNNING)


class SubscriptionRefused(Exception):
    """One subscription too many; the message names the setting."""


class LiveUpdates:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.redis_url, self.channel = settings.redis_url, channel_of(settings)
        self.poll_seconds = settings.changes_poll_seconds
        self.retention = dt.timedelta(days=settings.changes_retention_days)
        self.per_connection = settings.max_subscriptions_per_connection
        self.per_key = settings.max_subscriptions_per_key
        self.polled = 0  # the newest sequence the last look at the outbox saw
        # How many wake-ups there were: a subscriber that read after wake-up N waits for N + 1.
        self.wake_ups = 0
        self._woken: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []  # what is cancelled at the end (Redis)
        self._reading: list[asyncio.Task[None]] = []  # what ends by itself when told to stop
        # Set to end the poller and the pruner between two reads: cancelled in the middle of
        # one, a SQLite connection could be left holding its lock.
        self._stopping: asyncio.Event | None = None
        self._redis: redis.asyncio.Redis | None = None
        self._by_connection: Counter[Hashable] = Counter()
        self._by_key: Counter[Hashable] = Counter()

    @property
    def open_count(self) -> int:
        return sum(self._by_connection.values())

    async def start(self) -> None:
        if self in _RUNNING:
            # Its events and tasks belong to the loop it started on; a second lifespan of the
            # same app (two test clients each running one) would strand them there.
            raise RuntimeError("this app's live updates are already running on another loop")
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        self._stopping = asyncio.Event()
        add_commit_listener(self._committed)
        _RUNNING.add(self)
        if self.redis_url:
            self._redis = redis.asyncio.Redis.from_url(self.redis_url)
            self._tasks.append(asyncio.create_task(self._listen()))
        self._reading = [asyncio.create_task(self._poll()), asyncio.create_task(self._prune())]

    async def stop(self) -> None:
        remove_commit_listener(self._committed)
        _RUNNING.discard(self)
        if self._stopping is not None:
            self._stopping.set()
        for task in self._reading:
            with contextlib.suppress(Exception):
                await task
        self._reading = []
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def wait(self, after_wake_up: int) -> None:
        """Return at the first wake-up after wake-up number `after_wake_up` (at once if there
        was one since), or after a poll interval: a subscriber reads the outbox either way."""
        if self._woken is None:
            await asyncio.sleep(self.poll_seconds)
        elif self.wake_ups == after_wake_up:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.poll_seconds)

    @contextlib.asynccontextmanager
    async def admitted(self, *, connection: Hashable, key: Hashable) -> AsyncIterator[None]:
        """Hold one subscription of this connection and key for as long as it is open."""
        if self._by_connection[connection] >= self.per_connection:
            raise SubscriptionRefused(
                f"this connection already holds {self.per_connection} subscriptions, the most "
                "one may (ATMP_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first"
            )
        if self._by_key[key] >= self.per_key:
            raise SubscriptionRefused(
                f"this key (or, without one, this address) already holds {self.per_key} "
                "subscriptions, the most it may (ATMP_MAX_SUBSCRIPTIONS_PER_KEY); complete "
                "one first"
            )
        self._by_connection[connection] += 1
        self._by_key[key] += 1
        try:
            yield
        finally:
            for counter, held in ((self._by_connection, connection), (self._by_key, key)):
                counter[held] -= 1
                if counter[held] <= 0:
                    del counter[held]

    def _committed(self, sequence: int) -> None:
        """A commit of this process appended events: from whichever thread committed."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._heard, sequence, True)

    def _heard(self, sequence: int, publish: bool = False) -> None:
        # Every word of a commit wakes (the process may serve several databases, each with its
        # own numbers); subscribers with nothing new to read just wait again.
        self.wake_ups += 1
        if self._woken is not None:
            self._woken.set()
            self._woken = asyncio.Event()
        if publish and self._redis is not None:
            task = asyncio.create_task(self._publish(sequence))
            self._tasks.append(task)
            task.add_done_callback(self._tasks.remove)

    async def _publish(self, sequence: int) -> None:
        assert self._redis is not None
        try:
            await self._redis.publish(self.channel, str(sequence))
        except redis.RedisError as error:
            # Other processes find the events by polling; nothing is lost.
            logger.warning("Redis: cannot publish change %s: %s", sequence, error)

    async def _listen(self) -> None:
        assert self._redis is not None
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    # Back (or new): read what came while away, not only what comes next.
                    await self._look(always=True)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._heard(int(message["data"]))
            except (redis.RedisError, OSError, ValueError) as error:
                logger.warning("Redis: not hearing of changes (polling meanwhile): %s", error)
                await asyncio.sleep(REDIS_RETRY_SECONDS)

    async def _look(self, *, always: bool = False) -> None:
        async with self.sessions() as session:
            newest = await session.run_sync(outbox.newest_sequence)
        if always or newest != self.polled:
            self.polled = newest
            self._heard(newest)

    async def _poll(self) -> None:
        failing = False
        while True:
            try:
                await self._look()
                failing = False
            except Exception as error:  # the database away: subscribers wait, the log says why
                if not failing:
                    logger.warning("cannot read the change history: %s", error)
                failing = True
            if await self._stopped_within(self.poll_seconds):
                return

    async def _prune(self) -> None:
        while True:
            try:
                async with self.sessions() as session, session.begin():
                    cutoff = dt.datetime.now(dt.UTC) - self.retention
                    await session.run_sync(functools.partial(outbox.prune, older_than=cutoff))
            except Exception as error:
                logger.warning("cannot prune the change history: %s", error)
            if await self._stopped_within(PRUNE_EVERY_SECONDS):
                return

    async def _stopped_within(self, seconds: float) -> bool:
        """Whether `stop` was called before `seconds` are over."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()


def install_publisher(settings: Settings) -> Callable[[], None] | None:
    """In a process that serves nobody (`atmp-graph ingest`, a job worker): publish each
    commit's sequence to Redis, so the servers wake at once.  Returns the undo, or None
    without Redis (the servers' polling finds the events)."""
    if not settings.redis_url:
        return None
    client = redis.Redis.from_url(settings.redis_url)
    channel = channel_of(settings)

    def publish(sequence: int) -> None:
        try:
            client.publish(channel, str(sequence))
        except redis.RedisError as error:
            logger.warning("Redis: cannot publish change %s: %s", sequence, error)

    add_commit_listener(publish)

    def uninstall() -> None:
        remove_commit_listener(publish)
        client.close()

    return uninstall
