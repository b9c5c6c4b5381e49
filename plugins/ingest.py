"""The ingest pipeline: read → validate → write → quarantine → report.

Every record read is either stored (created, updated or unchanged) or quarantined with its
field and reason: read = stored + quarantined, always.  Records are written in batches, each
its own transaction, and each record inside its own savepoint, so a record that fails half-way
leaves nothing behind and a crash leaves whole batches only.
"""

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from model import IngestRun, QuarantinedRecord, SourceRecord, store
from model.enums import IngestRunStatus
from plugins.feeds import FeedAdapter

if TYPE_CHECKING:
    from plugins.manager import PluginHost
from plugins.records import RECORD_TYPES, FieldProblem, Record, SourceRow
from plugins.writers import WRITERS, UnknownReference, WriteContext

BATCH_SIZE = 500


@dataclass(frozen=True)
class Problem:
    """Why one record was quarantined: the field (in the feed's words), its value, the reason."""

    field: str | None
    value: str | None
    reason: str

    def sentence(self) -> str:
        return f"{self.field} {self.reason}" if self.field else self.reason


@dataclass(frozen=True)
class Quarantined:
    feed: str
    entity: str
    file: str | None
    row: int | None
    source_id: str | None
    problems: tuple[Problem, ...]

    def message(self) -> str:
        """`lund_skane: projects.csv row 7 (LU-P-0006): Start '2024-13-01' is not a date ...`."""
        where = " ".join(str(part) for part in (self.file, self.row and f"row {self.row}") if part)
        who = f" ({self.source_id})" if self.source_id else ""
        reasons = "; ".join(problem.sentence() for problem in self.problems)
        return f"{self.feed}: {where or self.entity}{who}: {reasons}"


@dataclass
class IngestReport:
    feed: str
    source: str
    dry_run: bool = False
    run_id: int | None = None
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantine: list[Quarantined] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def stored(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        mode = " (dry run: nothing written)" if self.dry_run else ""
        return (
            f"{self.feed}: read {self.read}, created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, quarantined {self.quarantined}{mode}"
        )


class IngestError(RuntimeError):
    """The run stopped part-way (the feed could not be read, or the database failed)."""


def _problems(error: ValidationError, labels: dict[str, str]) -> tuple[Problem, ...]:
    problems = []
    for detail in error.errors():
        cause = (detail.get("ctx") or {}).get("error")
        location = ".".join(str(part) for part in detail["loc"])
        if isinstance(cause, FieldProblem):
            location = cause.field
        reason = str(cause) if cause is not None else detail["msg"].lower()
        if detail["type"] == "missing":
            reason = "is required"
        label = labels.get(location) or labels.get(location.split(".")[0]) or location or None
        value = detail.get("input") if detail["loc"] and detail["type"] != "missing" else None
        problems.append(Problem(label, None if value is None else str(value), reason))
    return tuple(problems)


def validate_row(
    row: SourceRow, *, feed: str, host: "PluginHost | None" = None
) -> Record | tuple[Problem, ...]:
    """The validated record, or the problems that send the row to quarantine.

    Checks, in order: what the adapter itself reported, the record type's own rules, then any
    rules that plugins add through `atmp_graph_validate_record`.
    """
    if row.problem:
        return (Problem(None, None, row.problem),)
    record_type = RECORD_TYPES.get(row.entity)
    if record_type is None:
        return (Problem(None, row.entity, "is not a known entity type"),)
    try:
        record = record_type.model_validate({**row.data, "source_id": row.source_id})
    except ValidationError as error:
        return _problems(error, dict(row.labels))
    extra = host.extra_problems(feed, record) if host is not None else []
    if extra:
        return tuple(Problem(row.labels.get(f, f), None, reason) for f, reason in extra)
    return record


def _content_hash(record: Record) -> str:
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


class _Run:
    """The state of one ingest run; `process` handles one record."""

    def __init__(
        self,
        session: Session,
        adapter: FeedAdapter,
        report: IngestReport,
        host: "PluginHost | None",
    ) -> None:
        self.session, self.adapter, self.report, self.host = session, adapter, report, host
        self.context = WriteContext(session=session, feed=adapter.name)
        self.seen: dict[tuple[str, str], tuple[str, int | None]] = {}
        self.cursors: dict[str, str] = {}
        self.started_at = dt.datetime.now(dt.UTC)

    def process(self, row: SourceRow) -> None:
        self.report.read += 1
        if row.cursor is not None and row.cursor > self.cursors.get(row.entity, ""):
            self.cursors[row.entity] = row.cursor
        outcome = validate_row(row, feed=self.adapter.name, host=self.host)
        if not isinstance(outcome, Record):
            return self._quarantine(row, *outcome)
        record = outcome
        content_hash = _content_hash(record)
        key = (row.entity, record.source_id)
        if key in self.seen:
            return self._repeat(row, record, content_hash)
        self.seen[key] = (content_hash, row.row)
        try:
            with self.session.begin_nested():
                self._store(row, record, content_hash)
        except UnknownReference as error:
            label = row.labels.get(error.field, error.field)
            self._quarantine(row, Problem(label, error.value, error.reason))
        except SQLAlchemyError as error:
            reason = f"could not be stored: {getattr(error, 'orig', error)}"
            self._quarantine(row, Problem(None, None, reason))

    def _repeat(self, row: SourceRow, record: Record, content_hash: str) -> None:
        first_hash, first_row = self.seen[(row.entity, record.source_id)]
        if first_hash == content_hash:
            self.report.unchanged += 1
            return
        label = row.labels.get("source_id", "source id")
        where = f" on row {first_row}" if first_row else ""
        reason = f"repeats {record.source_id!r}{where} with different content"
        self._quarantine(row, Problem(label, record.source_id, reason))

    def _store(self, row: SourceRow, record: Record, content_hash: str) -> None:
        model, write = WRITERS[type(record)]
        source = store.source_record(
            self.session, feed=self.adapter.name, entity_type=row.entity, source_id=record.source_id
        )
        existing = store.built_entity(self.session, model, source) if source else None
        if source is not None and existing is not None and source.content_hash == content_hash:
            self.report.unchanged += 1
            return
        built = write(self.context, record, existing)
        if source is None:
            source = SourceRecord(
                feed=self.adapter.name, entity_type=row.entity, source_id=record.source_id
            )
            self.session.add(source)
        source.content_hash = content_hash
        source.fetched_at = row.extracted_at or self.started_at
        source.source_uri = row.source_uri or self.report.source
        source.plugin_version = self.adapter.version
        source.identifiers = [
            [ident.scheme, self._normalized(ident.scheme, ident.value)] for ident in row.identifiers
        ] or None
        for entity in built:
            store.link_source(self.session, source, entity)
        self._resolve_waiting_links(row.entity, record.source_id, built[0])
        if existing is None:
            self.report.created += 1
        else:
            self.report.updated += 1

    def _normalized(self, scheme: str, value: str) -> str:
        return self.host.normalize_identifier(scheme, value) if self.host else value

    def _resolve_waiting_links(self, entity: str, source_id: str, target: Any) -> None:
        waiting = store.waiting_links(
            self.session,
            feed=self.adapter.name,
            target_entity_type=entity,
            target_source_id=source_id,
        )
        for link in waiting:
            owner = _model_for(link.entity_type)
            store.add_link(self.session, owner, link.entity_id, link.relation, target.id)
            self.session.delete(link)

    def _quarantine(self, row: SourceRow, *problems: Problem) -> None:
        entry = Quarantined(
            feed=self.adapter.name,
            entity=row.entity,
            file=row.file,
            row=row.row,
            source_id=row.source_id,
            problems=problems,
        )
        self.report.quarantine.append(entry)
        if row.source_id:
            self.context.quarantined.add((row.entity, row.source_id))
        first = problems[0]
        self.session.add(
            QuarantinedRecord(
                run_id=self.report.run_id,
                feed=entry.feed,
                entity_type=row.entity,
                file=row.file,
                row=row.row,
                source_id=row.source_id,
                field=first.field,
                value=first.value,
                reason=entry.message(),
                raw=dict(row.raw),
            )
        )


def _model_for(entity_type: str) -> Any:
    return next(model for model, _ in WRITERS.values() if model.__tablename__ == entity_type)


def _save_counts(run: IngestRun, report: IngestReport) -> None:
    run.read, run.created, run.updated = report.read, report.created, report.updated
    run.unchanged, run.quarantined = report.unchanged, report.quarantined


class ConfigError(ValueError):
    """A feed's configuration does not fit its `config_model`."""


def feed_config(adapter: FeedAdapter, config: Mapping[str, Any] | None) -> BaseModel:
    """Validate `config` against the feed's own model; the error names the feed and key."""
    try:
        return adapter.config_model.model_validate(dict(config or {}))
    except ValidationError as error:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg'].lower()}"
            for detail in error.errors()
        )
        raise ConfigError(f"{adapter.name}: configuration: {reasons}") from None


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
) -> IngestReport:
    """Ingest the export at `source` (a path or URL) through `adapter`.

    Reads only what is new since the feed's last complete run, unless `full`; the feed's new
    state is committed with the run's last batch, so a run that stops part-way is read again.
    """
    source = str(source)
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
        state = _Run(session, adapter, report, host)
        try:
            previous = {} if full else store.feed_state(session, adapter.name)
            rows = _rows(adapter, source, state=previous, config=settings)
            for count, row in enumerate(rows, start=1):
                state.process(row)
                if on_record:
                    on_record(report)
                if not dry_run and count % batch_size == 0:
                    _save_counts(run, report)
                    session.commit()
            _save_counts(run, report)
            store.advance_feed_state(session, adapter.name, state.cursors)
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


__all__: Sequence[str] = [
    "ConfigError",
    "IngestError",
    "IngestReport",
    "Problem",
    "Quarantined",
    "feed_config",
    "ingest",
    "validate_row",
]
