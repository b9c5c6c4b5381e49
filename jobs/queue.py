"""The job queue: Dramatiq over Redis.  A message names a feed; the worker that gets it drains
the feed's queued runs (jobs/drain.py).  The runs themselves are rows of the database, so the
queue only carries wake-ups: a message lost with Redis is made up for by the next tick."""

import logging
from collections.abc import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker

log = logging.getLogger("atmp_graph.jobs")
QUEUE = "ingest"
ACTOR = "drain_feed"


class RedisQueue:
    """The broker, under the deployment's Redis prefix (`<prefix>jobs:ingest`, ...)."""

    def __init__(self, url: str, *, prefix: str) -> None:
        # No middleware: no retries (a failed run is a FAILED row, rerun by the next request
        # or schedule), no time limit (a registry's nightly sync may take hours).
        self.broker = RedisBroker(url=url, namespace=f"{prefix}jobs", middleware=[])  # type: ignore[no-untyped-call]

    def wake(self, feed: str) -> None:
        """Ask a worker to drain `feed`; if Redis cannot be reached, a tick will."""
        message: dramatiq.Message[None] = dramatiq.Message(
            queue_name=QUEUE, actor_name=ACTOR, args=(feed,), kwargs={}, options={}
        )
        try:
            self.broker.enqueue(message)
        except Exception as error:  # redis' errors, whichever the client raises
            log.warning("%s: could not wake a worker through Redis (%s); a tick will", feed, error)

    def serve(self, drain: Callable[[str], None]) -> dramatiq.Actor[[str], None]:
        """Declare the actor that runs `drain` for each message (in the worker)."""
        return dramatiq.Actor(
            drain, broker=self.broker, actor_name=ACTOR, queue_name=QUEUE, priority=0, options={}
        )

    def close(self) -> None:
        self.broker.close()
