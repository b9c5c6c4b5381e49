"""A scheduler tick, which every worker runs every few seconds: end the leases whose holders
stopped (their runs are marked failed), queue the runs whose schedules are due, and wake a
worker for each feed whose queued runs nobody is running.

Each worker ticks on its own; the database decides.  A due time is moved on with a
compare-and-set, so of several workers ticking at once one queues the run; a feed that
already has a run waiting gets no second one for the same reason.
"""

import datetime as dt
import logging
from collections.abc import Callable
from typing import cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from atmp_graph.jobs.config import FeedJob
from atmp_graph.jobs.drain import JobContext
from atmp_graph.jobs.lease import now, reap, utc
from atmp_graph.jobs.runs import SCHEDULE, feeds_waiting, has_queued_run, queue_run
from atmp_graph.model.jobs import IngestSchedule

log = logging.getLogger("atmp_graph.jobs")


def tick(
    context: JobContext,
    *,
    wake: Callable[[str], None],
    holder: str,
    moment: dt.datetime | None = None,
) -> None:
    """One look at the leases, the schedules and the queue; what fails is tried next tick."""
    moment = moment or now()
    try:
        reap(context.engine, holder=holder)
        for job in context.config.scheduled:
            if _queue_if_due(context, job, moment):
                log.info("%s: a scheduled run is queued", job.feed)
        for feed in feeds_waiting(context.engine):
            wake(feed)
    except OperationalError as error:
        # SQLite: a run holding its writes keeps others from writing until it ends.
        log.info("scheduler tick put off: %s", error.orig or error)


def _queue_if_due(context: JobContext, job: FeedJob, moment: dt.datetime) -> bool:
    schedule = job.schedule
    assert schedule is not None
    try:
        with Session(context.engine) as session, session.begin():
            row = session.get(IngestSchedule, job.feed)
            if row is None:
                next_at = schedule.next_after(moment)
                session.add(IngestSchedule(feed=job.feed, schedule=schedule.text, next_at=next_at))
                return False
            if row.schedule != schedule.text:
                row.schedule, row.next_at = schedule.text, schedule.next_after(moment)
                return False
            if utc(row.next_at) > moment:
                return False
            moved = cast(
                CursorResult[tuple[()]],
                session.execute(
                    update(IngestSchedule)
                    .where(IngestSchedule.feed == job.feed, IngestSchedule.next_at == row.next_at)
                    .values(next_at=schedule.next_after(moment))
                    .execution_options(synchronize_session=False),
                ),
            )
            if moved.rowcount != 1 or has_queued_run(session, job.feed):
                return False
            queue_run(session, feed=job.feed, source=job.source, requested_by=SCHEDULE)
            return True
    except IntegrityError:
        return False  # another worker wrote the feed's first due time at the same moment
