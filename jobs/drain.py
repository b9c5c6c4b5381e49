"""The job itself: run a feed's queued runs, oldest first, holding the feed's lease.

A wake-up names a feed, not a run: whoever gets the lease runs every run queued for the feed,
in the order they were asked for, and a worker that finds the lease held does nothing, since
the holder looks again before and after it lets go.  So a run is never run twice, a second
request waits behind the first, and a lost wake-up costs only the time to the next tick.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from atmp_graph.identity.precedence import Precedence
from atmp_graph.ingest import IngestError, ingest
from atmp_graph.jobs.config import JobsConfig
from atmp_graph.jobs.lease import Heartbeat, Lease, new_holder, try_acquire
from atmp_graph.jobs.runs import fail_unstarted, next_queued
from atmp_graph.plugins.feeds import ConfigError
from atmp_graph.plugins.manager import PluginHost
from atmp_graph.plugins.report import IngestReport

log = logging.getLogger("atmp_graph.jobs")


@dataclass(frozen=True)
class JobContext:
    """What running a feed's jobs takes: the database, the jobs file and the plugins."""

    engine: Engine
    config: JobsConfig
    host: PluginHost
    precedence: Precedence

    @property
    def ttl(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.config.worker.lease_seconds)


def drain_feed(
    context: JobContext, feed: str, *, stopping: Callable[[], bool] = lambda: False
) -> None:
    """Run `feed`'s queued runs one after the other, unless another worker holds the feed."""
    while True:
        lease = try_acquire(context.engine, feed, holder=new_holder(), ttl=context.ttl)
        if lease is None:
            return
        try:
            while not stopping() and (run_id := next_queued(context.engine, feed)) is not None:
                _run(context, lease, run_id)
        finally:
            lease.release()
        # A run queued while we held the lease, whose wake-up found it held, is ours.
        if stopping() or next_queued(context.engine, feed) is None:
            return


class _Progress:
    """The live report of the run, for the heartbeat to write its counts."""

    def __init__(self) -> None:
        self.report: IngestReport | None = None

    def see(self, report: IngestReport) -> None:
        self.report = report

    def counts(self) -> dict[str, int]:
        report = self.report
        if report is None:
            return {}
        return {
            "read": report.read,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "quarantined": report.quarantined,
            "deleted": report.deleted,
        }


def _run(context: JobContext, lease: Lease, run_id: int) -> None:
    feed, engine = lease.feed, context.engine
    job = context.config.feeds.get(feed)
    adapter = context.host.feeds().get(feed)
    if job is None:
        reason = f"the worker's jobs file {context.config.path} has no feed {feed!r}"
        fail_unstarted(engine, run_id, reason)
        return
    if adapter is None:
        fail_unstarted(engine, run_id, f"no plugin installed in the worker serves {feed!r}")
        return
    lease.attach(run_id)
    progress = _Progress()
    log.info("%s: run %s started by %s", feed, run_id, lease.holder)
    with Heartbeat(lease, progress.counts):
        try:
            report = ingest(
                engine,
                adapter,
                job.source,
                config=job.settings,
                full=job.full,
                host=context.host,
                on_record=progress.see,
                precedence=context.precedence,
                max_retired_share=job.max_retired_share,
                run_id=run_id,
                worker=lease.holder,
            )
        except IngestError as error:
            log.warning("%s: run %s failed: %s", feed, run_id, error)  # the run says why
            return
        except ConfigError as error:
            fail_unstarted(engine, run_id, str(error))
            return
        except Exception:
            log.exception("%s: run %s met an unexpected error", feed, run_id)
            fail_unstarted(engine, run_id, "the worker met an unexpected error (see its log)")
            return
    log.info("%s: run %s: %s", feed, run_id, report.summary())
