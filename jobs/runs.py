"""Runs asked for and not yet run: queueing one (with its audit entry), the next one of a
feed, the feeds with runs waiting, and how many wait."""

import datetime as dt

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from atmp_graph.enums import IngestRunStatus
from atmp_graph.model.audit import Actor, record
from atmp_graph.model.jobs import IngestLease
from atmp_graph.model.provenance import IngestRun

SCHEDULE = "schedule"
_UNFINISHED = (IngestRunStatus.QUEUED, IngestRunStatus.RUNNING)


def queue_run(session: Session, *, feed: str, source: str, requested_by: str) -> IngestRun:
    """A QUEUED run of `feed`, behind the latest run of the feed that has not ended."""
    ahead = session.scalar(
        select(IngestRun.id)
        .where(IngestRun.feed == feed, IngestRun.status.in_(_UNFINISHED))
        .order_by(IngestRun.id.desc())
        .limit(1)
    )
    moment = dt.datetime.now(dt.UTC)
    run = IngestRun(
        feed=feed,
        source_uri=source,
        status=IngestRunStatus.QUEUED,
        queued_at=moment,
        started_at=moment,
        requested_by=requested_by,
        waiting_for_id=ahead,
    )
    session.add(run)
    session.flush()
    return run


def queue_audited_run(session: Session, actor: Actor, *, feed: str, source: str) -> IngestRun:
    """runIngest: a queued run, and the audit entry that says who asked for it."""
    run = queue_run(session, feed=feed, source=source, requested_by=actor.who)
    after = {"id": run.id, "feed": feed, "source": source, "waitingFor": run.waiting_for_id}
    record(
        session, actor, "runIngest", arguments={"feed": feed},
        target=("ingest_run", run.id), before=None, after={**after, "status": "QUEUED"},
    )  # fmt: skip
    return run


def has_queued_run(session: Session, feed: str) -> bool:
    return (
        session.scalar(
            select(IngestRun.id)
            .where(IngestRun.feed == feed, IngestRun.status == IngestRunStatus.QUEUED)
            .limit(1)
        )
        is not None
    )


def next_queued(engine: Engine, feed: str) -> int | None:
    """The feed's oldest queued run: runs of one feed go in the order they were asked for."""
    with Session(engine) as session:
        return session.scalar(
            select(IngestRun.id)
            .where(IngestRun.feed == feed, IngestRun.status == IngestRunStatus.QUEUED)
            .order_by(IngestRun.id)
            .limit(1)
        )


def fail_unstarted(engine: Engine, run_id: int, reason: str) -> None:
    """A queued run that cannot start (its feed is not configured, its settings are wrong)."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(IngestRun)
            .where(IngestRun.id == run_id, IngestRun.status.in_(_UNFINISHED))
            .values(
                status=IngestRunStatus.FAILED,
                error=reason,
                finished_at=dt.datetime.now(dt.UTC),
            )
        )


def feeds_waiting(engine: Engine) -> list[str]:
    """Feeds with queued runs and no lease: nobody is draining them (their wake-up was lost,
    or came while the database was busy)."""
    with Session(engine) as session:
        leased = select(IngestLease.feed)
        return list(
            session.scalars(
                select(IngestRun.feed)
                .where(IngestRun.status == IngestRunStatus.QUEUED, IngestRun.feed.not_in(leased))
                .distinct()
                .order_by(IngestRun.feed)
            )
        )


def queue_depth(session: Session) -> int:
    """How many runs wait for a worker, across every worker: the job queue depth a metrics
    gauge shows (the database's count, so every web worker reports the same number)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(IngestRun)
            .where(IngestRun.status == IngestRunStatus.QUEUED)
        )
        or 0
    )
