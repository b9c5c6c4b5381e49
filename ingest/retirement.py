"""Retiring what a feed no longer sends, and bringing it back when it sends it again.

A source record is retired when a complete read of its stream leaves it out (the stream
declares `full_read_is_complete`, the run read it whole and no setting narrowed the read) or
when the feed sends a deletion for it.  Its claims then stop counting: a node several feeds
built has its values, sites and links chosen again from the records that remain, and a node no
remaining record builds is retired itself.  Retired rows are kept as they were, with when and
by which run, and a record sent again brings them back (`restore`).
"""

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from pydantic import BaseModel
from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.orm import Session

from atmp_graph.identity.precedence import CURATION, Precedence
from atmp_graph.identity.resolution import resolve_many
from atmp_graph.model import EntitySource, QuarantinedRecord, SourceRecord, change_tracking, kinds
from atmp_graph.model.base import Base
from atmp_graph.model.provenance import utcnow
from atmp_graph.plugins.feeds import FeedAdapter, narrows_read

CHUNK = 1000  # ids per IN (...), well inside every database's limit on bound parameters


class RetirementRefused(RuntimeError):
    """The run would retire more of the feed than it may: nothing is written."""


def retiring_streams(
    adapter: FeedAdapter, *, source: str, state: Mapping[str, str], config: BaseModel
) -> tuple[str, ...]:
    """The streams this run reads whole and completely, so what it leaves out is gone: those
    that declare it, with no cursor or no state to read from, unless the settings or the
    source narrow the read."""
    if narrows_read(config, source):
        return ()
    return tuple(
        stream.entity
        for stream in adapter.streams
        if stream.full_read_is_complete and (not stream.cursor_field or stream.entity not in state)
    )


def _live(feed: str) -> list[ColumnElement[bool]]:
    return [SourceRecord.feed == feed, SourceRecord.retired_at.is_(None)]


def has_live_records(session: Session, feed: str, streams: Sequence[str]) -> bool:
    """Whether the feed has stored records of these streams that a run could retire."""
    if not streams:
        return False
    found = session.scalar(
        select(SourceRecord.id).where(*_live(feed), SourceRecord.entity_type.in_(streams)).limit(1)
    )
    return found is not None


def absent_records(
    session: Session, *, feed: str, streams: Sequence[str], run_id: int | None
) -> list[int]:
    """The live records of these streams that run `run_id` did not read; a record the run
    quarantined counts as read (it is still there, only wrong)."""
    if not streams:
        return []
    q = QuarantinedRecord
    quarantined_now = exists().where(
        q.run_id == run_id,
        q.feed == feed,
        q.entity_type == SourceRecord.entity_type,
        q.source_id == SourceRecord.source_id,
    )
    return list(
        session.scalars(
            select(SourceRecord.id).where(
                *_live(feed),
                SourceRecord.entity_type.in_(streams),
                or_(SourceRecord.run_id.is_(None), SourceRecord.run_id != run_id),
                ~quarantined_now,
            )
        )
    )


def check_share(session: Session, *, feed: str, absent: Sequence[int], max_share: float) -> None:
    """Refuse a run that would retire more than `max_share` of the feed's live records: more
    likely a truncated export than a source that dropped that much."""
    if not absent:
        return
    total = session.scalar(select(func.count()).select_from(SourceRecord).where(*_live(feed)))
    share = len(absent) / max(total or 0, 1)
    if share > max_share:
        percent = share * 100
        raise RetirementRefused(
            f"it would retire {len(absent)} of the feed's {total} records ({percent:.0f} %), "
            f"more than the {max_share * 100:g} % allowed, so nothing was written; if the "
            f"source really dropped them, run again with --max-retired {math.ceil(percent)}"
        )


def retire_records(
    session: Session, record_ids: Sequence[int], *, run_id: int | None, precedence: Precedence
) -> None:
    """Retire these source records, then the nodes no live record builds any more; the nodes
    that other records still build take their values and links from those alone."""
    now = utcnow()
    built: dict[str, set[int]] = defaultdict(set)
    for start in range(0, len(record_ids), CHUNK):
        chunk = list(record_ids[start : start + CHUNK])
        session.execute(
            update(SourceRecord)
            .where(SourceRecord.id.in_(chunk))
            .values(retired_at=now, retired_by_run_id=run_id),
            execution_options={"synchronize_session": False},
        )
        rows = session.execute(
            select(EntitySource.entity_type, EntitySource.entity_id).where(
                EntitySource.source_record_id.in_(chunk)
            )
        )
        for entity_type, entity_id in rows:
            built[entity_type].add(entity_id)
    for entity_type, node_ids in built.items():
        model = kinds.model_for(entity_type)
        gone = sorted(node_ids - _still_built(session, entity_type, node_ids))
        if gone and hasattr(model, "retired_at"):
            _retire_nodes(session, model, gone, now=now, run_id=run_id)
        # Values, sites and links from the records that remain (a node none remains for keeps
        # what it was, and leaves the conflicts list).
        resolve_many(session, model, sorted(node_ids), precedence)
    session.expire_all()


def _still_built(session: Session, entity_type: str, node_ids: set[int]) -> set[int]:
    """Those of the nodes that a live record still builds."""
    return set(
        session.scalars(
            select(EntitySource.entity_id)
            .join(SourceRecord)
            .where(
                EntitySource.entity_type == entity_type,
                EntitySource.entity_id.in_(sorted(node_ids)),
                SourceRecord.retired_at.is_(None),
                # A curator's values describe a node; they do not keep it in the graph.
                SourceRecord.feed != CURATION,
            )
        )
    )


def _retire_nodes(
    session: Session, model: type[Base], ids: Sequence[int], *, now: object, run_id: int | None
) -> None:
    table = kinds.table_of(model)
    for start in range(0, len(ids), CHUNK):
        session.execute(
            update(table)
            .where(table.c.id.in_(ids[start : start + CHUNK]), table.c.retired_at.is_(None))
            .values(retired_at=now, retired_by_run_id=run_id)
        )
    change_tracking.retired(session, kinds.entity_type_of(model), ids)


def restore(entities: Sequence[Base]) -> None:
    """A record sent again brings back what it builds."""
    for entity in entities:
        if getattr(entity, "retired_at", None) is not None:
            entity.retired_at = None  # type: ignore[attr-defined]
            entity.retired_by_run_id = None  # type: ignore[attr-defined]
