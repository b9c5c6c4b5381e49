"""The outbox: the change history, one event per node per transaction, numbered in commit order.

Events are written by model/change_tracking.py in the transaction of the change they describe,
so a batch that rolls back leaves none, and each event's `sequence` is taken under a lock held
until commit: an event with a higher number never becomes visible before a lower one, so a
reader that has seen N has seen everything up to N.  Subscribers read from here (Redis only
wakes them), and the `changes` query answers from it; events older than the retention window
are pruned, the newest always kept so that numbering never starts again.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, delete, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from atmp_graph.enums import ChangeKind
from atmp_graph.model.base import Base, enum_column
from atmp_graph.model.provenance import utcnow

# pg_advisory_xact_lock's key for numbering events: "atmp" as a number.
SEQUENCE_LOCK = 0x61746D70

NODE_KINDS = frozenset(
    {ChangeKind.CREATED, ChangeKind.UPDATED, ChangeKind.MERGED, ChangeKind.RETIRED}
)
RUN_KINDS = frozenset(
    {
        ChangeKind.RUN_QUEUED,
        ChangeKind.RUN_STARTED,
        ChangeKind.RUN_PROGRESS,
        ChangeKind.RUN_FINISHED,
    }
)


class ChangeEvent(Base):
    """One change: a node created, updated, merged or retired, a record quarantined, a run's
    start, progress or end."""

    __tablename__ = "change_event"

    sequence: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # No foreign keys: history must outlive runs, and merged nodes' ids.
    run_id: Mapped[int | None] = mapped_column(index=True)
    feed: Mapped[str | None] = mapped_column(String(120), index=True)
    kind: Mapped[ChangeKind] = mapped_column(enum_column(ChangeKind))
    entity_type: Mapped[str | None] = mapped_column(String(60))
    node_id: Mapped[int | None]
    # The institution the node belongs to (a trial's sponsor, a product's originator, ...).
    institution_id: Mapped[int | None] = mapped_column(index=True)
    payload: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True)

    __table_args__ = (
        Index("ix_change_event_entity_type_kind", "entity_type", "kind"),
        Index("ix_change_event_entity_type_node_id", "entity_type", "node_id"),
    )


def _lock_numbering(session: Session) -> None:
    """Hold the numbering until this transaction ends (SQLite's write lock already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCE_LOCK})


def append_events(session: Session, rows: Sequence[dict[str, Any]]) -> int | None:
    """Number and insert these events in this transaction; the highest number, if any."""
    if not rows:
        return None
    _lock_numbering(session)
    last = newest_sequence(session)
    now = utcnow()
    # executemany wants every row to name every column.
    empty = dict.fromkeys(("run_id", "feed", "entity_type", "node_id", "institution_id", "payload"))
    numbered = [
        {"at": now, **empty, **row, "sequence": last + offset}
        for offset, row in enumerate(rows, start=1)
    ]
    session.execute(ChangeEvent.__table__.insert(), numbered)  # type: ignore[attr-defined]
    return last + len(rows)


def newest_sequence(session: Session) -> int:
    return session.scalar(select(func.max(ChangeEvent.sequence))) or 0


def oldest_sequence(session: Session) -> int | None:
    return session.scalar(select(func.min(ChangeEvent.sequence)))


def prune(session: Session, *, older_than: dt.datetime) -> int:
    """Delete the events from before `older_than`, all but the newest; how many went."""
    newest = newest_sequence(session)
    old = (ChangeEvent.at < older_than, ChangeEvent.sequence < newest)
    # Read first: on SQLite a DELETE takes the write lock even when it deletes nothing, and a
    # writer in another process (an ingest) may then fail to take it.
    if session.scalar(select(ChangeEvent.sequence).where(*old).limit(1)) is None:
        return 0
    result = session.execute(delete(ChangeEvent).where(*old))
    return int(getattr(result, "rowcount", 0) or 0)
