"""`atmp-graph worker`: take ingest jobs from Redis and keep the feeds' schedules.

Dramatiq's worker threads (the jobs file's `worker.threads`) run the jobs; the main thread
ticks (jobs/scheduler.py) until SIGTERM or SIGINT, then lets the runs in progress finish.
"""

import logging
import signal
import threading
from types import FrameType

import dramatiq

from atmp_graph.jobs.drain import JobContext, drain_feed
from atmp_graph.jobs.lease import new_holder
from atmp_graph.jobs.queue import RedisQueue
from atmp_graph.jobs.scheduler import tick

log = logging.getLogger("atmp_graph.jobs")


def run_worker(context: JobContext, queue: RedisQueue) -> None:
    stop = threading.Event()

    def drain(feed: str) -> None:
        drain_feed(context, feed, stopping=stop.is_set)

    def on_signal(number: int, _frame: FrameType | None) -> None:
        log.info("%s: finishing the runs in progress, then stopping", signal.Signals(number).name)
        stop.set()

    queue.serve(drain)
    worker = dramatiq.Worker(queue.broker, worker_threads=context.config.worker.threads)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    worker.start()
    holder = new_holder()
    try:
        while not stop.is_set():
            tick(context, wake=queue.wake, holder=holder)
            stop.wait(context.config.worker.tick_seconds)
    finally:
        worker.stop()
        queue.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
