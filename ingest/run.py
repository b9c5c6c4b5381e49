"""The ingest pipeline: read → validate → write → quarantine → report.

Every record read is either stored (created, updated or unchanged) or quarantined with its
field and reason: read = stored + quarantined, always.  Records are written in batches, each
its own transaction (ingest/batches.py), and a record that fails half-way leaves nothing
behind, so a crash leaves whole batches only and a rerun completes the feed.
"""

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from atmp_graph.enums import IngestRunStatus
from atmp_graph.identity.matching import max_ids, suggest_matches
from atmp_graph.identity.precedence import Precedence, load_precedence
from atmp_graph.ingest.batches import IngestRunner
from atmp_graph.ingest.feed_state import advance_feed_state, feed_state
from atmp_graph.model import IngestRun
from atmp_graph.model.database import PlannerStatistics
from atmp_graph.plugins.feeds import FeedAdapter, feed_config
from atmp_graph.plugins.records import SourceRow
from atmp_graph.plugins.report import IngestReport

if TYPE_CHECKING:
    from atmp_graph.plugins.manager import PluginHost

BATCH_SIZE = 1000


class IngestError(RuntimeError):
    """The run stopped part-way (the feed could not be read, or the database failed)."""


def _save_counts(run: IngestRun, report: IngestReport) -> None:
    run.read, run.created, run.updated = report.read, report.created, report.updated
    run.unchanged, run.quarantined = report.unchanged, report.quarantined


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
) -> IngestReport:
    """Ingest the export at `source` (a path or URL) through `adapter`.

    Reads only what is new since the feed's last complete run, unless `full`; the feed's new
    state is committed with the run's last batch, so a run that stops part-way is read again.
    Nodes several feeds describe take each field from the feed `precedence` ranks first (the
    default rule is identity/precedence.toml); similar nodes the run made become suggestions.
    """
    with _fewer_collections():
        return _ingest(
            engine,
            adapter,
            str(source),
            config=config,
            dry_run=dry_run,
            full=full,
            host=host,
            on_record=on_record,
            batch_size=batch_size,
            precedence=precedence or load_precedence(),
        )


def _ingest(
    engine: Engine,
    adapter: FeedAdapter,
    source: str,
    *,
    config: Mapping[str, Any] | None,
    dry_run: bool,
    full: bool,
    host: "PluginHost | None",
    on_record: Callable[[IngestReport], None] | None,
    batch_size: int,
    precedence: Precedence,
) -> IngestReport:
    settings = feed_config(adapter, config)
    report = IngestReport(feed=adapter.name, source=source, dry_run=dry_run)
    # Writers flush when they need ids; autoflush would flush rows they are still filling in.
    with Session(engine, autoflush=False) as session:
        run = IngestRun(feed=adapter.name, source_uri=source, status=IngestRunStatus.RUNNING)
        session.add(run)
        session.flush()
        report.run_id = run.id
        if not dry_run:
            session.commit()

        statistics = PlannerStatistics(session)

        def commit_batch() -> None:
            _save_counts(run, report)
            if not dry_run:
                session.commit()
            statistics.after_batch()

        runner = IngestRunner(
            session,
            adapter,
            report,
            host,
            precedence=precedence,
            batch_size=batch_size,
            after_batch=commit_batch,
        )
        try:
            _mark_interrupted_runs(session, adapter.name, run.id)
            previous = {} if full else feed_state(session, adapter.name)
            before = max_ids(session)
            statistics.refresh()
            for row in _rows(adapter, source, state=previous, config=settings):
                runner.process(row)
                if on_record:
                    on_record(report)
            # The feed's new state goes in with the last batch: all of it, or none.
            advance_feed_state(session, adapter.name, runner.cursors)
            runner.flush()
            report.suggested = suggest_matches(session, since=before)
            run.status, run.finished_at = IngestRunStatus.SUCCEEDED, dt.datetime.now(dt.UTC)
            if dry_run:
                session.rollback()
                report.run_id = None
            else:
                session.commit()
        except Exception as error:
            session.rollback()
            _record_failure(engine, report, error, dry_run=dry_run)
            raise IngestError(f"{adapter.name}: ingest of {source} stopped: {error}") from error
    if host is not None:
        host.after_ingest(report)
    return report


def _rows(
    adapter: FeedAdapter, source: str, *, state: Mapping[str, str], config: BaseModel
) -> Iterable[SourceRow]:
    if "://" not in source and not Path(source).exists():
        raise FileNotFoundError(f"{source} does not exist")
    return adapter.read(source, state=state, config=config)


def _record_failure(
    engine: Engine, report: IngestReport, error: Exception, *, dry_run: bool
) -> None:
    if dry_run or report.run_id is None:
        return
    with Session(engine) as session, session.begin():
        run = session.get(IngestRun, report.run_id)
        if run is not None:
            _save_counts(run, report)
            run.status, run.error = IngestRunStatus.FAILED, str(error)
            run.finished_at = dt.datetime.now(dt.UTC)
