"""The quarantine's life cycle: an entry is OPEN until a later run stores its record
(RESOLVED, by that run), quarantines it again (SUPERSEDED: the new entry is the open one), or an
admin discards it (DISCARDED, by whom and why).  A curator may ask for an open entry's record
to be read again (`request_reingest`): the feed's next run reads that stream whole.

The ingest calls the first two; the GraphQL mutation and the CLI call `discard`.  Each takes a
session and leaves the commit to the caller.  The plugin listings search what each feed's
latest run quarantined (`latest_quarantine_containing`, for sync and async sessions alike).
"""

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, and_, func, select, update
from sqlalchemy.orm import Session

from atmp_graph.enums import QuarantineStatus
from atmp_graph.model.provenance import IngestRun, QuarantinedRecord, utcnow

OPEN = QuarantineStatus.OPEN


class QuarantineError(ValueError):
    """An operation on the quarantine that cannot be done, said in one sentence; `field`
    names the argument at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def _same_record(entry: QuarantinedRecord) -> ColumnElement[bool]:
    """Entries of the same record: by source id, or, for a record without one, by its place
    in the export (a record that has no id can be told again only by where it is)."""
    q = QuarantinedRecord
    if entry.source_id is not None:
        return q.source_id == entry.source_id
    return and_(q.source_id.is_(None), q.file == entry.file, q.row == entry.row)


def supersede_earlier(session: Session, entry: QuarantinedRecord) -> None:
    """`entry` quarantines its record again: earlier open entries of it are superseded."""
    q = QuarantinedRecord
    session.execute(
        update(q)
        .where(
            q.status == OPEN,
            q.feed == entry.feed,
            q.entity_type == entry.entity_type,
            q.run_id < entry.run_id,
            _same_record(entry),
        )
        .values(
            status=QuarantineStatus.SUPERSEDED,
            resolved_at=utcnow(),
            resolved_by_run_id=entry.run_id,
        ),
        execution_options={"synchronize_session": False},
    )


def resolve_stored(
    session: Session, *, feed: str, entity_type: str, source_ids: Sequence[str], run_id: int | None
) -> None:
    """Run `run_id` stored (or saw deleted) these records: their open entries are resolved."""
    if not source_ids or run_id is None:
        return
    q = QuarantinedRecord
    session.execute(
        update(q)
        .where(
            q.status == OPEN,
            q.feed == feed,
            q.entity_type == entity_type,
            q.source_id.in_(source_ids),
            q.run_id < run_id,
        )
        .values(status=QuarantineStatus.RESOLVED, resolved_at=utcnow(), resolved_by_run_id=run_id),
        execution_options={"synchronize_session": False},
    )


def open_before(session: Session, *, feed: str, run_id: int | None) -> int:
    """How many entries runs of `feed` before `run_id` left open."""
    q = QuarantinedRecord
    earlier = [] if run_id is None else [q.run_id < run_id]
    count = session.scalar(
        select(func.count()).select_from(q).where(q.feed == feed, q.status == OPEN, *earlier)
    )
    return count or 0


def _open_entry(
    session: Session, entry_id: int, *, reason: str, can_be: str, say_why: str
) -> QuarantinedRecord:
    """Entry `entry_id`, which must be open and given a reason: what only open records
    `can_be`, and the request to `say_why` when the reason is empty."""
    entry = session.get(QuarantinedRecord, entry_id)
    if entry is None:
        raise QuarantineError(f"there is no quarantined record {entry_id}", field="id")
    if entry.status is not OPEN:
        raise QuarantineError(
            f"quarantined record {entry_id} is {entry.status.value.lower()} already: only open "
            f"records can be {can_be}",
            field="id",
        )
    if not reason.strip():
        raise QuarantineError(f"{say_why}: the reason is empty", field="reason")
    return entry


def discard(session: Session, entry_id: int, *, reason: str, by: str) -> QuarantinedRecord:
    """An admin says entry `entry_id` needs no fix (the record is gone, or wrong on purpose)."""
    entry = _open_entry(
        session, entry_id, reason=reason, can_be="discarded",
        say_why="say why the record is discarded",
    )  # fmt: skip
    entry.status = QuarantineStatus.DISCARDED
    entry.discarded_at = dt.datetime.now(dt.UTC)
    entry.discarded_by, entry.discard_reason = by, reason.strip()
    return entry


def request_reingest(session: Session, entry_id: int, *, reason: str, by: str) -> QuarantinedRecord:
    """A curator asks for entry `entry_id`'s record to be read again (the source fixed it,
    say, without a newer cursor value): the feed's next run reads its stream whole."""
    entry = _open_entry(
        session, entry_id, reason=reason, can_be="read again",
        say_why="say why the record is to be read again",
    )  # fmt: skip
    entry.reingest_requested_at = dt.datetime.now(dt.UTC)
    entry.reingest_requested_by, entry.reingest_reason = by, reason.strip()
    entry.reingest_run_id = None
    return entry


def _reingest_requested(feed: str) -> list[ColumnElement[bool]]:
    q = QuarantinedRecord
    return [q.feed == feed, q.reingest_requested_at.is_not(None), q.reingest_run_id.is_(None)]


def reingest_streams(session: Session, feed: str) -> set[str]:
    """The streams of `feed` that its next run must read whole: a curator asked for one of
    their quarantined records to be read again."""
    q = QuarantinedRecord
    rows = session.scalars(
        select(q.entity_type).where(*_reingest_requested(feed), q.status == OPEN).distinct()
    )
    return {entity for entity in rows if entity is not None}


def mark_reingested(session: Session, *, feed: str, run_id: int | None) -> None:
    """Run `run_id` read the requested streams whole: the requests are done, whatever the
    run found (stored, quarantined again, or no longer in the source)."""
    if run_id is None:
        return
    session.execute(
        update(QuarantinedRecord).where(*_reingest_requested(feed)).values(reingest_run_id=run_id),
        execution_options={"synchronize_session": False},
    )


def entries(
    session: Session, *, status: QuarantineStatus | None = OPEN, feed: str | None = None
) -> list[QuarantinedRecord]:
    """Entries in this status (None: all), of this feed or every feed, oldest first."""
    q = QuarantinedRecord
    where = [] if status is None else [q.status == status]
    if feed is not None:
        where.append(q.feed == feed)
    return list(session.scalars(select(q).where(*where).order_by(q.id)))


def latest_runs() -> Select[int]:
    """The id of each feed's latest run."""
    return select(func.max(IngestRun.id)).group_by(IngestRun.feed)


def latest_quarantine_containing(text: str) -> Select[str, int, int, str]:
    """Per feed whose latest run quarantined records with `text` in their reason: the feed,
    the run, how many such records, and the first of their reasons."""
    return (
        select(
            QuarantinedRecord.feed,
            QuarantinedRecord.run_id,
            func.count(),
            func.min(QuarantinedRecord.reason),
        )
        .where(
            QuarantinedRecord.run_id.in_(latest_runs()),
            QuarantinedRecord.reason.contains(text, autoescape=True),
        )
        .group_by(QuarantinedRecord.feed, QuarantinedRecord.run_id)
        .order_by(QuarantinedRecord.feed)
    )
