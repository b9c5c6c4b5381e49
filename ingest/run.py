"""The ingest pipeline: read → validate → write → quarantine → retire → report.

Every record read is either stored (created, updated or unchanged), quarantined with its
field and reason, or a deletion the feed sent: read = stored + quarantined + deleted, always.
Records are written in batches, each its own transaction (ingest/batches.py), and a record that
fails half-way leaves nothing behind, so a crash leaves whole batches only and a rerun completes
the feed.  A run that may retire records (a complete read of a feed that has records) is one
transaction instead, so that a run retiring too much can stop having written nothing.
"""

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from atmp_graph.enums import IngestRunStatus
from atmp_graph.identity.matching import max_ids, suggest_matches
from atmp_graph.identity.precedence import Precedence, load_precedence
from atmp_graph.ingest import retirement
from atmp_graph.ingest.batches import IngestRunner
from atmp_graph.ingest.feed_state import advance_feed_state, feed_state
from atmp_graph.model import IngestRun, change_tracking, quarantine
from atmp_graph.model.database import PlannerStatistics
from atmp_graph.plugins.feeds import FeedAdapter, feed_config
from atmp_graph.plugins.records import SourceRow
from atmp_graph.plugins.report import IngestReport

if TYPE_CHECKING:
    from atmp_graph.plugins.manager import PluginHost

BATCH_SIZE = 1000
# A complete read that would retire more of a feed's records than this stops: more likely a
# truncated export than a source that dropped a fifth of what it had.
MAX_RETIRED_SHARE = 0.2


class IngestError(RuntimeError):
    """The run stopped part-way (the feed could not be read, or the database failed)."""


@dataclass(frozen=True)
class RunOptions:
    """How one run goes, as `ingest` was asked."""

    dry_run: bool
    full: bool
    batch_size: int
    precedence: Precedence
    max_retired_share: float
    on_record: Callable[[IngestReport], None] | None


@dataclass(frozen=True)
class RunPlan:
    """What the run found out before reading: the state it reads from, the streams whose
    whole read retires what it leaves out, and whether it must hold its writes until the end."""

    state: Mapping[str, str]
    retiring: tuple[str, ...]
    hold_commits: bool
    ids_before: Any  # the highest id of each node kind: nodes above it are the run's own
    statistics: PlannerStatistics


def _save_counts(run: IngestRun, report: IngestReport) -> None:
    run.read, run.created, run.updated = report.read, report.created, report.updated
    run.unchanged, run.quarantined = report.unchanged, report.quarantined
    run.deleted, run.retired = report.deleted, report.retired


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often while records stream through.

    An ingest allocates millions of short-lived objects; with the default thresholds the
    collector rescans everything alive again and again, about a quarter of the run's time.
    """
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def _mark_interrupted_runs(session: Session, feed: str, current: int) -> None:
    """A run of this feed still marked running was killed before it could say so."""
    session.execute(
        update(IngestRun)
        .where(
            IngestRun.feed == feed,
            IngestRun.status == IngestRunStatus.RUNNING,
            IngestRun.id != current,
        )
        .values(status=IngestRunStatus.FAILED, error="interrupted before it finished")
    )


def ingest(
    engine: Engine,
    adapter: FeedAdapter,
    source: str | Path,
    *,
    config: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    full: bool = False,
    host: "PluginHost | None" = None,
    on_record: Callable[[IngestReport], None] | None = None,
    batch_size: int = BATCH_SIZE,
    precedence: Precedence | None = None,
    max_retired_share: float = MAX_RETIRED_SHARE,
    run_id: int | None = None,
    worker: str | None = None,
) -> IngestReport:
    """Ingest the export at `source` (a path or URL) through `adapter`.

    Reads only what is new since the feed's last complete run, unless `full`; the feed's new
    state is committed with the run's last batch, so a run that stops part-way is read again.
    Nodes several feeds describe take each field from the feed `precedence` ranks first (the
    default rule is identity/precedence.toml); similar nodes the run made become suggestions.
    Records a complete read leaves out, and records the feed sends as deletions, are retired;
    a run that would retire more than `max_retired_share` (0 to 1) of the feed's records
    stops and writes nothing (1 lets it go on whatever it retires).

    `run_id` starts a run already asked for (a QUEUED one, jobs/) instead of a new one, and
    `worker` says who runs it; the caller holds the feed's lease (jobs/lease.py).
    """
    if not 0 <= max_retired_share <= 1:
        raise ValueError(f"max_retired_share {max_retired_share} is not between 0 and 1")
    options = RunOptions(
        dry_run=dry_run,
        full=full,
        batch_size=batch_size,
        precedence=precedence or load_precedence(),
        max_retired_share=max_retired_share,
        on_record=on_record,
    )
    start = RunStart(run_id=run_id, worker=worker)
    with _fewer_collections():
        return _ingest(
            engine, adapter, str(source), config=config, host=host, options=options, start=start
        )


def _ingest(
    engine: Engine,
    adapter: FeedAdapter,
    source: str,
    *,
    config: Mapping[str, Any] | None,
    host: "PluginHost | None",
    options: RunOptions,
    start: "RunStart",
) -> IngestReport:
    settings = feed_config(adapter, config)
    report = IngestReport(feed=adapter.name, source=source, dry_run=options.dry_run)
    # Writers flush when they need ids; autoflush would flush rows they are still filling in.
    with Session(engine, autoflush=False) as session:
        run = _start_run(session, adapter, source, report, dry_run=options.dry_run, start=start)
        plan: RunPlan | None = None
        try:
            plan = _plan_run(session, adapter, settings, run, full=options.full)
            runner = _runner(
                session,
                adapter=adapter,
                report=report,
                host=host,
                run=run,
                plan=plan,
                options=options,
            )
            _read_and_process(runner, source, plan, settings, options.on_record)
            _finish_run(session, runner, run, plan, options)
        except Exception as error:
            session.rollback()
            kept = not (plan and plan.hold_commits)
            _record_failure(engine, report, error, dry_run=options.dry_run, kept=kept)
            raise IngestError(f"{adapter.name}: ingest of {source} stopped: {error}") from error
    if host is not None:
        host.after_ingest(report)
    return report


@dataclass(frozen=True)
class RunStart:
    """The run asked for earlier that this one is (None: a new run), and who runs it."""

    run_id: int | None = None
    worker: str | None = None


def _start_run(
    session: Session,
    adapter: FeedAdapter,
    source: str,
    report: IngestReport,
    *,
    dry_run: bool,
    start: RunStart,
) -> IngestRun:
    """The run's row, committed first, so a run that dies is seen to have started."""
    if start.run_id is None:
        run = IngestRun(feed=adapter.name, source_uri=source)
        session.add(run)
    else:
        run = session.get_one(IngestRun, start.run_id)
        run.source_uri, run.started_at = source, dt.datetime.now(dt.UTC)
    run.status, run.worker = IngestRunStatus.RUNNING, start.worker
    session.flush()
    report.run_id = run.id
    change_tracking.set_origin(session, run_id=run.id, feed=adapter.name)
    if not dry_run:
        session.commit()
    return run


def _plan_run(
    session: Session, adapter: FeedAdapter, settings: BaseModel, run: IngestRun, *, full: bool
) -> RunPlan:
    _mark_interrupted_runs(session, adapter.name, run.id)
    streams = {stream.entity: stream for stream in adapter.streams}
    state = {} if full else feed_state(session, adapter.name, streams)
    # A record a curator asked to be read again may lie before the stream's cursor.
    for entity in quarantine.reingest_streams(session, adapter.name):
        state.pop(entity, None)
    source = run.source_uri or ""
    retiring = retirement.retiring_streams(adapter, source=source, state=state, config=settings)
    plan = RunPlan(
        state=state,
        retiring=retiring,
        hold_commits=retirement.has_live_records(session, adapter.name, retiring),
        ids_before=max_ids(session),
        statistics=PlannerStatistics(session),
    )
    plan.statistics.refresh()
    return plan


def _runner(
    session: Session,
    *,
    adapter: FeedAdapter,
    report: IngestReport,
    host: "PluginHost | None",
    run: IngestRun,
    plan: RunPlan,
    options: RunOptions,
) -> IngestRunner:
    def commit_batch() -> None:
        # A run that holds its writes leaves its row alone until the end: the row stays
        # unlocked, so a job's heartbeat can write the counts so far (jobs/lease.py).
        if not (options.dry_run or plan.hold_commits):
            _save_counts(run, report)
            session.commit()
        plan.statistics.after_batch()

    return IngestRunner(
        session,
        adapter,
        report,
        host,
        precedence=options.precedence,
        batch_size=options.batch_size,
        after_batch=commit_batch,
    )


def _read_and_process(
    runner: IngestRunner,
    source: str,
    plan: RunPlan,
    settings: BaseModel,
    on_record: Callable[[IngestReport], None] | None,
) -> None:
    for row in _rows(runner.adapter, source, state=plan.state, config=settings):
        runner.process(row)
        if on_record:
            on_record(runner.report)


def _finish_run(
    session: Session, runner: IngestRunner, run: IngestRun, plan: RunPlan, options: RunOptions
) -> None:
    """The last batch, the feed's new state, what the read left out, the suggestions: all
    committed together, or (a dry run) none of it."""
    report, feed = runner.report, runner.adapter.name
    runner.finish()
    advance_feed_state(session, feed, runner.cursors, runner.streams)
    _retire_absent(session, runner, plan, options)
    quarantine.mark_reingested(session, feed=feed, run_id=report.run_id)
    report.still_open = quarantine.open_before(session, feed=feed, run_id=report.run_id)
    report.suggested = suggest_matches(session, since=plan.ids_before)
    _save_counts(run, report)
    run.status, run.finished_at = IngestRunStatus.SUCCEEDED, dt.datetime.now(dt.UTC)
    _commit_or_roll_back(session, report, dry_run=options.dry_run)


def _retire_absent(
    session: Session, runner: IngestRunner, plan: RunPlan, options: RunOptions
) -> None:
    """Retire the records a complete read left out, unless that is too many of them.  A
    stream the run read no record of retires nothing: a source that holds only some of the
    feed's files (one CSV of the four) has not said the others are empty."""
    report = runner.report
    streams = [entity for entity in plan.retiring if entity in runner.streams_read]
    absent = retirement.absent_records(
        session, feed=report.feed, streams=streams, run_id=report.run_id
    )
    retirement.check_share(
        session, feed=report.feed, absent=absent, max_share=options.max_retired_share
    )
    if absent:
        retirement.retire_records(
            session, absent, run_id=report.run_id, precedence=options.precedence
        )
        report.retired = len(absent)


def _commit_or_roll_back(session: Session, report: IngestReport, *, dry_run: bool) -> None:
    if dry_run:
        session.rollback()
        report.run_id = None
    else:
        session.commit()


def _rows(
    adapter: FeedAdapter, source: str, *, state: Mapping[str, str], config: BaseModel
) -> Iterable[SourceRow]:
    if "://" not in source and not Path(source).exists():
        raise FileNotFoundError(f"{source} does not exist")
    return adapter.read(source, state=state, config=config)


def _record_failure(
    engine: Engine, report: IngestReport, error: Exception, *, dry_run: bool, kept: bool
) -> None:
    """Mark the run failed, with the counts of what it kept (only what it read, when it held
    every write back and so kept nothing)."""
    if dry_run or report.run_id is None:
        return
    with Session(engine) as session, session.begin():
        run = session.get(IngestRun, report.run_id)
        if run is not None:
            if kept:
                _save_counts(run, report)
            else:
                # What a job's heartbeat wrote of the writes held back went with them.
                _save_counts(run, IngestReport(feed=report.feed, source=report.source))
                run.read = report.read
            run.status, run.error = IngestRunStatus.FAILED, str(error)
            run.finished_at = dt.datetime.now(dt.UTC)
