"""A curator's own values for a node's fields, kept as claims of a record of the feed
`curation` and ranked first for every field (identity/precedence.py), so the node shows them.

The record names the node (`source_id` is the node's id) and is linked to it like any feed's:
a merge takes it along, a split puts it back, and a feed's re-ingest leaves it alone, so
curated values outlive all three.  Clearing a field removes it from the curation claims and
the feeds' value shows again.  Values come here already checked as a feed's record's would be
(ingest/curated_values.py); the columns' own limits (length, uniqueness) are checked here.
Each operation takes a session and leaves the commit to the caller.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Session

from atmp_graph.identity.claims import encode
from atmp_graph.identity.precedence import CURATION, Precedence
from atmp_graph.identity.resolution import resolve
from atmp_graph.identity.review import current_id
from atmp_graph.model import kinds
from atmp_graph.model.base import Base
from atmp_graph.model.provenance import EntitySource, SourceRecord

# The kinds of node curators may set fields of (ingest/curated_values.py says which fields).
CURATED_KINDS = ("clinical_trial", "product", "institution")


class CheckValues(Protocol):
    """Checks a curator's values for a kind of node as a feed's record's would be, and
    returns them as claims hold them; raises InvalidInput naming each bad field (as `name`
    spells it)."""

    def __call__(
        self, entity_type: str, values: Mapping[str, Any], *, name: Callable[[str], str] = ...
    ) -> dict[str, Any]: ...


class InvalidInput(ValueError):
    """Input that cannot be used, with each bad field and why."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in self.problems))


def curated_node(session: Session, model: type[Base], node_id: int) -> Base:
    """The node a curator means by this id (its survivor, if it was merged away)."""
    entity_type = kinds.entity_type_of(model)
    node = session.get(model, current_id(session, entity_type, node_id))
    if node is None:
        raise InvalidInput([("node", f"there is no {entity_type} {node_id}")])
    return node


def _records(session: Session, entity_type: str, node_id: int) -> list[SourceRecord]:
    return list(
        session.scalars(
            select(SourceRecord)
            .join(EntitySource)
            .where(
                SourceRecord.feed == CURATION,
                SourceRecord.entity_type == entity_type,
                EntitySource.entity_type == entity_type,
                EntitySource.entity_id == node_id,
            )
            .order_by(SourceRecord.id)
        )
    )


def curated_values(session: Session, node: Base) -> dict[str, Any]:
    """The values curators set on this node (of every curation record it holds)."""
    entity_type, node_id = kinds.entity_type_of(type(node)), node.id  # type: ignore[attr-defined]
    values: dict[str, Any] = {}
    for record in _records(session, entity_type, node_id):
        values.update(record.claims or {})
    return values


def snapshot(session: Session, node: Base, fields: Sequence[str]) -> dict[str, Any]:
    """What an audit entry keeps of these fields: the curated values and the values shown."""
    curated = curated_values(session, node)
    return {
        "curated": {name: curated.get(name) for name in fields},
        "shown": {name: encode(getattr(node, name, None)) for name in fields},
    }


def check_columns(session: Session, node: Base, values: Mapping[str, Any]) -> None:
    """The columns' own limits: length, and an identifier no other node has."""
    model = type(node)
    table = kinds.table_of(model)
    problems = []
    for name, value in values.items():
        column = table.c[name]
        length = getattr(column.type, "length", None)
        if isinstance(value, str) and "\x00" in value:
            problems.append((name, "holds a NUL character"))
        elif isinstance(column.type, String) and length and len(str(value)) > length:
            problems.append((name, f"is longer than {length} characters"))
        elif column.unique:
            other = session.scalar(
                select(table.c.id).where(column == value, table.c.id != node.id)  # type: ignore[attr-defined]
            )
            if other is not None:
                problems.append(
                    (name, f"{value!r} already names {table.name} {other}: merge the two instead")
                )
    if problems:
        raise InvalidInput(problems)


def _hash(claims: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).hexdigest()


def _own_record(session: Session, node: Base, records: list[SourceRecord]) -> SourceRecord:
    entity_type, node_id = kinds.entity_type_of(type(node)), node.id  # type: ignore[attr-defined]
    own = next((r for r in records if r.source_id == str(node_id)), None)
    if own is not None:
        return own
    own = SourceRecord(
        feed=CURATION,
        entity_type=entity_type,
        source_id=str(node_id),
        fetched_at=dt.datetime.now(dt.UTC),
        content_hash=_hash({}),
        claims={},
    )
    session.add(own)
    session.flush()
    session.add(EntitySource(source_record_id=own.id, entity_type=entity_type, entity_id=node_id))
    return own


def _store(session: Session, record: SourceRecord, claims: dict[str, Any]) -> None:
    if claims:
        record.claims, record.content_hash = claims, _hash(claims)
        record.fetched_at = dt.datetime.now(dt.UTC)
        return
    # Nothing curated any more: the record goes, so provenance no longer lists it.
    session.execute(delete(EntitySource).where(EntitySource.source_record_id == record.id))
    session.execute(delete(SourceRecord).where(SourceRecord.id == record.id))


def edit(
    session: Session, node: Base, values: Mapping[str, Any], *, precedence: Precedence
) -> None:
    """Set these curated values (checked, as claims hold them) and choose the node's values
    again.  A value set before on a node merged into this one gives way to the new one."""
    check_columns(session, node, values)
    records = _records(session, kinds.entity_type_of(type(node)), node.id)  # type: ignore[attr-defined]
    own = _own_record(session, node, records)
    for record in records:
        if record is not own and set(record.claims or {}) & set(values):
            kept = {k: v for k, v in (record.claims or {}).items() if k not in values}
            _store(session, record, kept)
    _store(session, own, {**(own.claims or {}), **values})
    resolve(session, node, precedence)


def clear(
    session: Session, node: Base, fields: Sequence[str] | None, *, precedence: Precedence
) -> list[str]:
    """Remove these curated values (None: all of them), so the feeds' values show again;
    returns the fields cleared."""
    entity_type = kinds.entity_type_of(type(node))
    records = _records(session, entity_type, node.id)  # type: ignore[attr-defined]
    curated = {name for record in records for name in record.claims or {}}
    if fields is not None:
        unknown = [name for name in fields if name not in curated]
        if unknown:
            held = ", ".join(sorted(curated)) or "none"
            raise InvalidInput(
                [(name, f"has no curated value (curated fields: {held})") for name in unknown]
            )
    cleared = sorted(curated if fields is None else set(fields))
    for record in records:
        kept = {k: v for k, v in (record.claims or {}).items() if k not in cleared}
        _store(session, record, kept)
    resolve(session, node, precedence)
    return cleared
