"""The embedded default's runner: without Redis, `serve` runs the jobs itself, in one thread
of each web worker, one feed after the other, under the same leases and ticks as workers."""

import logging
import queue
import threading
import time

from atmp_graph.jobs.drain import JobContext, drain_feed
from atmp_graph.jobs.lease import new_holder
from atmp_graph.jobs.scheduler import tick

log = logging.getLogger("atmp_graph.jobs")


class InProcessRunner:
    def __init__(self, context: JobContext) -> None:
        self.context = context
        self._wanted: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self, feed: str) -> None:
        self.start()
        self._wanted.put(feed)

    def start(self) -> None:
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="ingest jobs", daemon=True)
                self._thread.start()

    def close(self, *, timeout: float) -> None:
        """Stop after the run in progress, waiting that long for it; one still running then
        dies with the process, and its lease (see jobs/lease.py) says so."""
        self._stop.set()
        self._wanted.put("")
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        holder, interval = new_holder(), self.context.config.worker.tick_seconds
        next_tick = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_tick:
                tick(self.context, wake=self._wanted.put, holder=holder)
                next_tick = time.monotonic() + interval
            try:
                feed = self._wanted.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                continue
            if feed and not self._stop.is_set():
                try:
                    drain_feed(self.context, feed, stopping=self._stop.is_set)
                except Exception:
                    log.exception("%s: the jobs runner failed; the next tick tries again", feed)
