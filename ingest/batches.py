"""The ingest runner: validated records go out in batches, new trials in bulk.

Within a batch, records the feed already stored unchanged are counted and left alone (one
query for the whole batch), new trials are written together (ingest/bulk.py), and everything
else is written one by one, each in its own savepoint, so a record that fails half-way leaves
nothing behind and is quarantined with the reason.  A record read twice in one run is found
through its source record's run id, so memory stays flat however long the feed is.

A record moves its stream's cursor only once it is stored: a quarantined one never does, so
the next incremental run reads it again instead of skipping what came before it.  A stored
record resolves what earlier runs quarantined of it; a deletion retires what it built.
A row that names a parent (a registry study's products name its trial) waits until the parent
is read and goes into the batches just before it; if the parent is quarantined, the row is
quarantined too ("held back"), so nothing only a bad record would make is stored.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from atmp_graph.identity import lookup
from atmp_graph.identity.lookup_cache import LookupCache
from atmp_graph.identity.precedence import Precedence
from atmp_graph.identity.resolution import resolve
from atmp_graph.ingest import named, retirement, source_records
from atmp_graph.ingest.bulk import Valid, write_matched_trials, write_new_trials
from atmp_graph.ingest.bulk_products import write_new_products
from atmp_graph.ingest.claims import claims_of
from atmp_graph.ingest.context import UnknownReference, WriteContext
from atmp_graph.ingest.writers import WRITERS
from atmp_graph.model import QuarantinedRecord, SourceRecord, kinds, links, quarantine
from atmp_graph.plugins.cursors import CursorValue, is_after
from atmp_graph.plugins.feeds import FeedAdapter, Stream
from atmp_graph.plugins.limits import MAX_SOURCE_ID_LENGTH
from atmp_graph.plugins.records import (
    CONFIDENTIAL_FIELDS,
    ProductRecord,
    Record,
    SourceRow,
    TrialRecord,
)
from atmp_graph.plugins.report import IngestReport, Problem, Quarantined
from atmp_graph.plugins.validation import content_hash, cursor_problem, validate_row

if TYPE_CHECKING:
    from atmp_graph.plugins.manager import PluginHost

Key = tuple[str, str]  # a record's stream and source id


def _key(valid: Valid) -> Key:
    return (valid.row.entity, valid.record.source_id)


def _parent(valid: Valid) -> Key | None:
    parent = valid.row.parent
    return None if parent is None else (parent[0], parent[1])


class _Orphaned(Exception):
    """Records failed to be stored after rows held for them were: roll the batch back."""

    def __init__(self, parents: dict[Key, tuple[Problem, ...]]) -> None:
        super().__init__(sorted(parents))
        self.parents = parents


@dataclass(frozen=True)
class _Checkpoint:
    """What writing a batch changes outside the database, to undo with its savepoint."""

    counts: tuple[int, int, int]
    quarantined: int
    quarantined_keys: frozenset[Key]
    cursors: dict[str, CursorValue]

    @classmethod
    def take(cls, runner: "IngestRunner") -> "_Checkpoint":
        report = runner.report
        return cls(
            (report.created, report.updated, report.unchanged),
            len(report.quarantine),
            frozenset(runner.context.quarantined),
            dict(runner.cursors),
        )

    def restore(self, runner: "IngestRunner") -> None:
        report = runner.report
        report.created, report.updated, report.unchanged = self.counts
        del report.quarantine[self.quarantined :]
        runner.context.quarantined = set(self.quarantined_keys)
        runner.cursors = dict(self.cursors)
        runner.cache.clear()


class IngestRunner:
    """The state of one ingest run: `process` takes each row and writes full batches, `flush`
    writes what is left at the end."""

    def __init__(
        self,
        session: Session,
        adapter: FeedAdapter,
        report: IngestReport,
        host: "PluginHost | None",
        *,
        precedence: Precedence,
        batch_size: int,
        after_batch: Callable[[], None],
    ) -> None:
        self.session, self.adapter, self.report, self.host = session, adapter, report, host
        self.precedence = precedence
        self.batch_size, self.after_batch = batch_size, after_batch
        self.context = WriteContext(session=session, feed=adapter.name, precedence=precedence)
        self.cache = LookupCache(session)
        self.streams = {stream.entity: stream for stream in adapter.streams}
        self.pending: list[Valid] = []
        self.batch_stream: str | None = None  # of the records pending, their dependants aside
        # Deletions applied since the last batch went out: they count towards its size.
        self.deletions_pending = 0
        # The newest cursor of each stream among the records stored, and the streams of which
        # the run read at least one record (a stream it read nothing of retires nothing).
        self.cursors: dict[str, CursorValue] = {}
        self.streams_read: set[str] = set()
        self.stored_ids: dict[str, list[str]] = {}  # of the batch being written, by stream
        # Whether earlier runs left anything open that a record stored now would resolve.
        self.open_earlier = bool(
            quarantine.open_before(session, feed=adapter.name, run_id=report.run_id)
        )
        # Rows waiting for their parent (SourceRow.parent): a study's products for its trial.
        self.held: dict[tuple[str, str], list[Valid]] = {}
        self.started_at = dt.datetime.now(dt.UTC)

    def stream(self, entity: str) -> Stream:
        """The stream `entity` records belong to (an undeclared one: text cursors)."""
        return self.streams.get(entity) or Stream(entity, primary_key="source_id")

    def process(self, row: SourceRow) -> None:
        self.report.read += 1
        self.streams_read.add(row.entity)
        stream = self.stream(row.entity)
        if row.deleted:
            self._delete(row, stream)
            if len(self.pending) + self.deletions_pending >= self.batch_size:
                self._flush()
            return
        outcome = validate_row(row, feed=self.adapter.name, host=self.host, stream=stream)
        key = (row.entity, row.source_id or "")
        dependants = self.held.pop(key, [])
        if not isinstance(outcome, Record):
            self._quarantine(row, *outcome)
            for dependant in dependants:
                self._hold_back(dependant, key)
            return
        valid = Valid(row, outcome, content_hash(outcome), _cursor_value(row, stream))
        if row.parent is not None:
            # Written only with its parent, so it waits until the parent is read.
            entity, source_id = row.parent  # a plugin may give a list
            self.held.setdefault((entity, source_id), []).append(valid)
        else:
            self._pend(valid, dependants)

    def _pend(self, valid: Valid, dependants: list[Valid]) -> None:
        # A batch holds one stream, so that references to earlier streams are written, and
        # the rows held for its records (a study's products go in with their trial).
        if self.pending and self.batch_stream != valid.row.entity:
            self._flush()
        self.batch_stream = valid.row.entity
        self.pending += [*dependants, valid]
        if len(self.pending) + self.deletions_pending >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        """Write the pending batch, then let the caller commit."""
        self.write_pending()
        self.deletions_pending = 0
        self.after_batch()

    def write_pending(self) -> None:
        """Write the pending batch, leaving the commit to whoever asked."""
        batch, self.pending = self.pending, []
        if batch:
            self._write(batch)

    def _stored(self, valid: Valid) -> None:
        """`valid` is in the graph: it moves its stream's cursor and fixes its quarantine."""
        self._advance(valid.row.entity, valid.cursor)
        self.stored_ids.setdefault(valid.row.entity, []).append(valid.record.source_id)

    def _advance(self, entity: str, cursor: CursorValue | None) -> None:
        current = self.cursors.get(entity)
        if cursor is not None and (current is None or is_after(cursor, current)):
            self.cursors[entity] = cursor

    def finish(self) -> None:
        """At the end of the run: write the pending batch, then the rows whose parent came
        after them or never (written if the parent is stored, else held back); the caller
        commits."""
        self.write_pending()
        waiting, self.held = self.held, {}
        for parent, dependants in waiting.items():
            entity, source_id = parent
            stored = lookup.built_entity_id(
                self.session, feed=self.adapter.name, entity_type=entity, source_id=source_id
            )
            if stored is None:
                for dependant in dependants:
                    self._hold_back(dependant, parent)
                continue
            for stream in dict.fromkeys(d.row.entity for d in dependants):
                self._write([d for d in dependants if d.row.entity == stream])

    def _hold_back(self, dependant: Valid, parent: tuple[str, str]) -> None:
        """Quarantine a row whose parent is not stored: read = stored + quarantined still."""
        entity, source_id = parent
        what = f"its {entity.replace('_', ' ')} {source_id}"
        if (entity, source_id) in self.context.quarantined:
            reason = f"held back with {what}, which is quarantined"
        else:
            reason = f"held back: {what} is neither in this read nor stored"
        self._quarantine(dependant.row, Problem(None, None, reason))

    def _write(self, batch: list[Valid]) -> None:
        """Write a batch; a parent that cannot be stored takes the rows held for it along.

        Rare enough to pay for twice: when a record fails at the database after the rows held
        for it were written (a study's products before its trial), the whole batch is rolled
        back and written again with that record quarantined and its rows held back.
        """
        apart: dict[Key, tuple[Problem, ...]] = {}
        while True:
            checkpoint = _Checkpoint.take(self)
            try:
                with self.session.begin_nested():
                    self._write_batch(batch, apart)
                return
            except _Orphaned as orphaned:
                checkpoint.restore(self)
                apart.update(orphaned.parents)

    def _write_batch(self, batch: list[Valid], apart: dict[Key, tuple[Problem, ...]]) -> None:
        self.stored_ids = {}
        batch = self._set_apart(batch, apart)
        known = {
            entity: source_records.known_source_records(
                self.session,
                feed=self.adapter.name,
                entity_type=entity,
                source_ids=list({v.record.source_id for v in batch if v.row.entity == entity}),
            )
            for entity in dict.fromkeys(valid.row.entity for valid in batch)
        }
        firsts: dict[Key, Valid] = {}
        unchanged: list[SourceRecord] = []
        todo: list[tuple[Valid, SourceRecord | None]] = []
        for valid in batch:
            key = _key(valid)
            stored = known[valid.row.entity].get(valid.record.source_id)
            if key in firsts:
                first = firsts[key]
                self._repeat(valid, first.content_hash, first.row.row)
            elif stored is not None and stored.run_id == self.report.run_id:
                self._repeat(valid, stored.content_hash, stored.row)
            elif (
                stored is not None
                and stored.content_hash == valid.content_hash
                # A retired record sent again is written again: it brings its node back.
                and stored.retired_at is None
            ):
                firsts[key] = valid
                self.report.unchanged += 1
                self._stored(valid)
                unchanged.append(stored)
            else:
                firsts[key] = valid
                todo.append((valid, stored))
        source_records.mark_read(
            self.session, [stored.id for stored in unchanged], self.report.run_id
        )
        for stored in unchanged:
            # The UPDATE went around the ORM; keep the loaded objects telling the truth.
            set_committed_value(stored, "run_id", self.report.run_id)
        written = self._write_new_in_bulk([valid for valid, stored in todo if stored is None])
        failed_from = len(self.report.quarantine)
        for valid, stored in todo:
            if id(valid) in written:
                self._stored(valid)
            else:
                self._write_one(valid, stored)
        self._check_orphans(batch, self.report.quarantine[failed_from:])
        for entity, source_ids in self.stored_ids.items():
            self._resolve_quarantine(entity, source_ids)

    def _set_apart(self, batch: list[Valid], apart: dict[Key, tuple[Problem, ...]]) -> list[Valid]:
        """Quarantine the records set apart and hold back their rows; the rest of `batch`."""
        for valid in batch:
            if _key(valid) in apart:
                self._quarantine(valid.row, *apart[_key(valid)])
        for valid in batch:
            if _parent(valid) in apart:
                self._hold_back(valid, _parent(valid))  # type: ignore[arg-type]
        return [v for v in batch if _key(v) not in apart and _parent(v) not in apart]

    def _check_orphans(self, batch: list[Valid], failed: list[Quarantined]) -> None:
        """Raise if a record that failed to be stored leaves rows held for it stored."""
        problems = {(q.entity, q.source_id): q.problems for q in failed if q.source_id}
        stored = {(entity, i) for entity, ids in self.stored_ids.items() for i in ids}
        orphaned = {
            parent
            for valid in batch
            if (parent := _parent(valid)) in problems and _key(valid) in stored
        }
        if orphaned:
            raise _Orphaned({parent: problems[parent] for parent in orphaned})

    def _resolve_quarantine(self, entity: str, source_ids: list[str]) -> None:
        if self.open_earlier:
            quarantine.resolve_stored(
                self.session,
                feed=self.adapter.name,
                entity_type=entity,
                source_ids=source_ids,
                run_id=self.report.run_id,
            )

    def _write_new_in_bulk(self, new: list[Valid]) -> set[int]:
        """New products, then new trials and new records of trials other feeds gave, a batch
        at a time (products first: trials name them)."""
        if not any(isinstance(valid.record, ProductRecord | TrialRecord) for valid in new):
            return set()
        values = self._source_values
        try:
            with self.session.begin_nested():
                written = write_new_products(self.context, self.cache, new, values)
                written += self._write_trials_in_bulk(new)
        except SQLAlchemyError:
            # Something in the batch does not fit: the one-by-one path finds out what.
            self.cache.clear()
            return set()
        self.report.created += len(written)
        return {id(valid) for valid in written}

    def _write_trials_in_bulk(self, new: list[Valid]) -> list[Valid]:
        written = write_new_trials(self.context, self.cache, new, self._source_values)
        done = {id(valid) for valid in written}
        rest = [valid for valid in new if id(valid) not in done]
        written += write_matched_trials(self.context, self.cache, rest, self._source_values)
        names = {
            v.record.source_id: named.trial_names(v.record, self.cache, self.context.conditions)
            for v in written
            if isinstance(v.record, TrialRecord)
        }
        named.link_in_bulk(
            self.session, feed=self.adapter.name, entity_type="clinical_trial", names=names
        )
        return written

    def _repeat(self, valid: Valid, first_hash: str, first_row: int | None) -> None:
        if first_hash == valid.content_hash:
            self.report.unchanged += 1
            self._stored(valid)
            return
        row, source_id = valid.row, valid.record.source_id
        label = row.labels.get("source_id", "source id")
        where = f" on row {first_row}" if first_row else ""
        reason = f"repeats {source_id!r}{where} with different content"
        self._quarantine(row, Problem(label, source_id, reason))

    def _write_one(self, valid: Valid, source: SourceRecord | None) -> None:
        row = valid.row
        try:
            with self.session.begin_nested():
                self._store(valid, source)
            self._stored(valid)
        except UnknownReference as error:
            self.cache.clear()
            label = row.labels.get(error.field, error.field)
            self._quarantine(row, Problem(label, error.value, error.reason))
        except SQLAlchemyError as error:
            self.cache.clear()
            reason = f"could not be stored: {getattr(error, 'orig', error)}"
            self._quarantine(row, Problem(None, None, reason))

    def _store(self, valid: Valid, source: SourceRecord | None) -> None:
        row, record = valid.row, valid.record
        model, write = WRITERS[type(record)]
        existing = lookup.built_entity(self.session, model, source) if source else None
        self.context.named.clear()
        built = write(self.context, record, existing)
        if source is None:
            source = SourceRecord(
                feed=self.adapter.name, entity_type=row.entity, source_id=record.source_id
            )
            self.session.add(source)
        for name, value in self._source_values(valid).items():
            setattr(source, name, value)
        for entity in built:
            source_records.link_source(self.session, source, entity)
        retirement.restore(built)
        named.relink(self.session, source, kinds.entity_type_of(model), self.context.named)
        if source.claims is not None:
            resolve(self.session, built[0], self.precedence)
        self._resolve_waiting_links(row.entity, record.source_id, built[0])
        if existing is None:
            self.report.created += 1
        else:
            self.report.updated += 1

    def _source_values(self, valid: Valid) -> dict[str, Any]:
        """Provenance of one record, as its source record keeps it."""
        row = valid.row
        identifiers = [[i.scheme, self._normalized(i.scheme, i.value)] for i in row.identifiers]
        return {
            "feed": self.adapter.name,
            "entity_type": row.entity,
            "source_id": valid.record.source_id,
            "content_hash": valid.content_hash,
            "fetched_at": row.extracted_at or self.started_at,
            "source_uri": row.source_uri or self.report.source,
            "plugin_version": self.adapter.version,
            "identifiers": identifiers or None,
            "claims": claims_of(valid.record),
            "run_id": self.report.run_id,
            "row": row.row,
            "retired_at": None,
            "retired_by_run_id": None,
        }

    def _normalized(self, scheme: str, value: str) -> str:
        return self.host.normalize_identifier(scheme, value) if self.host else value

    def _resolve_waiting_links(self, entity: str, source_id: str, target: Any) -> None:
        waiting = source_records.waiting_links(
            self.session,
            feed=self.adapter.name,
            target_entity_type=entity,
            target_source_id=source_id,
        )
        for link in waiting:
            owner = kinds.model_for(link.entity_type)
            links.add_link(self.session, owner, link.entity_id, link.relation, target.id)
            self.session.delete(link)

    def _delete(self, row: SourceRow, stream: Stream) -> None:
        """The source deleted this record: retire what it built (the source's own word, so
        no share guard holds it back)."""
        label = row.labels.get("source_id", "source id")
        if not row.source_id:
            self._quarantine(
                row, Problem(label, None, "is empty: a deletion names what it deletes")
            )
            return
        problem = cursor_problem(row, stream)
        if problem is not None:
            self._quarantine(row, problem)
            return
        if any(
            v.row.entity == row.entity and v.record.source_id == row.source_id for v in self.pending
        ):
            self.write_pending()  # the record came before its deletion: write it first
        known = source_records.known_source_records(
            self.session, feed=self.adapter.name, entity_type=row.entity, source_ids=[row.source_id]
        ).get(row.source_id)
        if known is None or known.retired_at is not None:
            self.report.unchanged += 1  # nothing stored to retire
        else:
            retirement.retire_records(
                self.session, [known.id], run_id=self.report.run_id, precedence=self.precedence
            )
            self.cache.clear()
            self.report.deleted += 1
        self._resolve_quarantine(row.entity, [row.source_id])
        self._advance(row.entity, _cursor_value(row, stream))
        self.deletions_pending += 1

    def _quarantine(self, row: SourceRow, *problems: Problem) -> None:
        # A source id longer than the database keeps is left out (its problem says so): the
        # quarantine entry itself must always be storable.
        source_id = row.source_id
        if source_id is not None and len(source_id) > MAX_SOURCE_ID_LENGTH:
            source_id = None
        entry = Quarantined(
            feed=self.adapter.name,
            entity=row.entity,
            file=row.file,
            row=row.row,
            source_id=source_id,
            problems=problems,
        )
        self.report.quarantine.append(entry)
        if source_id:
            self.context.quarantined.add((row.entity, source_id))
        first = problems[0]
        stored = QuarantinedRecord(
            run_id=self.report.run_id,
            feed=entry.feed,
            entity_type=row.entity,
            file=row.file,
            row=row.row,
            source_id=source_id,
            field=first.field,
            value=first.value,
            reason=entry.message(),
            raw=dict(row.raw),
            confidential=_confidential_keys(row),
        )
        if self.open_earlier:
            quarantine.supersede_earlier(self.session, stored)
        self.session.add(stored)


def _confidential_keys(row: SourceRow) -> list[str] | None:
    """The raw keys holding what only admins may read; all of them ("*") when the plugin's
    labels do not say where its confidential fields are."""
    fields = CONFIDENTIAL_FIELDS.get(row.entity)
    if not fields:
        return None
    keys = sorted({row.labels[f] for f in fields if f in row.labels} & set(row.raw))
    return keys or ["*"]


def _cursor_value(row: SourceRow, stream: Stream) -> CursorValue | None:
    """The row's cursor as its stream's type (it was checked: the row is valid)."""
    if row.cursor is None or not row.cursor.strip():
        return None
    return stream.cursor_value(row.cursor)
