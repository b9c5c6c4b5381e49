"""Merge two nodes into one, and split a merge again, keeping every global id meaningful.

A merge re-points every row that refers to the merged-away node (foreign keys, aliases, the
records that built it), drops the rows the survivor already has the like of, fills the
survivor's empty columns from the merged node, deletes it and leaves a redirect.  All of it is
written down in an `EntityMerge`, so `split` can put each row back where it was.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from model import store
from model.base import Base
from model.claims import decode, encode
from model.enums import SuggestionStatus
from model.identity import EntityMerge, EntityRedirect, FieldConflict, MatchSuggestion
from model.precedence import Precedence
from model.provenance import EntitySource, PendingLink
from model.resolution import resolve_many

FILLED = "#filled"  # the survivor's columns a merge filled from the merged node


class MergeError(ValueError):
    """A merge or split that cannot be done, said in one sentence."""


@dataclass(frozen=True)
class Reference:
    """A column that refers to a node, and the condition under which it does."""

    column: Column[Any]
    condition: ColumnElement[bool] | None = None

    def to(self, node_id: int) -> list[ColumnElement[bool]]:
        where = [self.column == node_id]
        return where if self.condition is None else [*where, self.condition]


@dataclass
class MergeLog:
    """What a merge did: rows re-pointed (by key) and rows dropped (whole), per column/table."""

    moved: dict[str, Any] = field(default_factory=dict)
    dropped: dict[str, Any] = field(default_factory=dict)


def _references(model: type[Base]) -> Iterator[Reference]:
    """Every column that refers to a `model` row: foreign keys, then the tables that name a
    node by (entity_type, id)."""
    target = model.__table__.c.id
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column is target for fk in column.foreign_keys):
                yield Reference(column)
    entity_type = store.entity_type_of(model)
    for named_by, id_column in (
        (EntitySource, "entity_id"),
        (PendingLink, "entity_id"),
        (EntityRedirect, "new_id"),
    ):
        table = store.table_of(named_by)
        yield Reference(table.c[id_column], table.c.entity_type == entity_type)


def _unique_sets(column: Column[Any]) -> list[list[Column[Any]]]:
    """The unique keys of `column`'s table that include it, less it."""
    table = column.table
    keys = [list(table.primary_key.columns)] if column.primary_key else []
    keys += [
        list(constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint) and column.name in constraint.columns
    ]
    return [[c for c in key if c is not column] for key in keys]


def _move(session: Session, ref: Reference, from_id: int, to_id: int, log: MergeLog) -> None:
    """Re-point `ref`'s rows from one node to the other, dropping those the other has already."""
    table, column = ref.column.table, ref.column
    primary_key = list(table.primary_key.columns)
    for row in session.execute(select(table).where(*ref.to(from_id))).all():
        values = row._mapping
        clash = any(
            session.execute(
                select(column).where(*ref.to(to_id), *[c == values[c.name] for c in others])
            ).first()
            for others in _unique_sets(column)
        )
        this_row = [c == values[c.name] for c in primary_key]
        if clash:
            log.dropped.setdefault(table.name, []).append(dict(values))
            session.execute(delete(table).where(*this_row))
        else:
            # Found again at split time by its key, with the moved column (if a key part) dropped.
            key = {c.name: values[c.name] for c in primary_key if c is not column}
            log.moved.setdefault(f"{table.name}.{column.name}", []).append(key)
            session.execute(update(table).where(*this_row).values({column.name: to_id}))


def _shed_aliases(
    session: Session, model: type[Base], node_id: int, folded: Sequence[str], log: MergeLog
) -> None:
    alias_model, owner_column = store.ALIASES[model]
    table = store.table_of(alias_model)
    where = [table.c[owner_column] == node_id, table.c.normalized.in_(folded)]
    rows = session.execute(select(table).where(*where)).all()
    log.dropped.setdefault(table.name, []).extend(dict(row._mapping) for row in rows)
    session.execute(delete(table).where(*where))


def merge(
    session: Session,
    model: type[Base],
    survivor_id: int,
    merged_id: int,
    *,
    reason: str,
    precedence: Precedence,
    fill: bool = True,
    shed: Sequence[str] = (),
) -> EntityMerge:
    """Fold node `merged_id` into `survivor_id`; the merged id goes on finding the survivor.

    With `fill`, the survivor takes the merged node's values where it has none.  `shed` are
    folded aliases of the merged node the survivor must not take (they name something else);
    a split gives them back.
    """
    entity_type = store.entity_type_of(model)
    if survivor_id == merged_id:
        raise MergeError(f"{entity_type} {survivor_id} cannot be merged into itself")
    session.flush()
    table = store.table_of(model)
    merged_row = session.execute(select(table).where(table.c.id == merged_id)).first()
    survivor_row = session.execute(select(table).where(table.c.id == survivor_id)).first()
    for row, node_id in ((merged_row, merged_id), (survivor_row, survivor_id)):
        if row is None:
            raise MergeError(f"there is no {entity_type} {node_id}")
    assert merged_row is not None
    assert survivor_row is not None
    snapshot = {k: encode(v) for k, v in merged_row._mapping.items()}
    log = MergeLog()
    if shed:
        _shed_aliases(session, model, merged_id, shed, log)
    for ref in _references(model):
        _move(session, ref, merged_id, survivor_id, log)
    session.execute(
        delete(FieldConflict).where(
            FieldConflict.entity_type == entity_type, FieldConflict.entity_id == merged_id
        )
    )
    session.execute(delete(table).where(table.c.id == merged_id))
    # The survivor keeps its own values and takes the merged node's where it has none.
    filled = {
        name: merged_row._mapping[name]
        for name, value in survivor_row._mapping.items()
        if fill and value is None and merged_row._mapping[name] is not None
    }
    if filled:
        session.execute(update(table).where(table.c.id == survivor_id).values(filled))
    log.moved[FILLED] = sorted(filled)
    # A self-reference through the merged node would point the survivor at itself.
    for ref in _references(model):
        if ref.column.table is table:
            session.execute(
                update(table)
                .where(table.c.id == survivor_id, ref.column == survivor_id)
                .values({ref.column.name: None})
            )
    session.add(EntityRedirect(entity_type=entity_type, old_id=merged_id, new_id=survivor_id))
    _decide(session, entity_type, (survivor_id, merged_id), SuggestionStatus.ACCEPTED, reason)
    record = EntityMerge(
        entity_type=entity_type,
        survivor_id=survivor_id,
        merged_id=merged_id,
        reason=reason,
        snapshot=snapshot,
        moved=log.moved,
        dropped=log.dropped,
    )
    session.add(record)
    _resolve_afresh(session, model, survivor_id, precedence)
    return record


def split(session: Session, merge_id: int, *, precedence: Precedence) -> EntityMerge:
    """Undo merge `merge_id`: the merged node comes back under its own id with what it brought,
    and the pair is kept apart (never suggested again)."""
    record = session.get(EntityMerge, merge_id)
    if record is None:
        raise MergeError(f"there is no merge {merge_id}")
    if record.split_at is not None:
        raise MergeError(f"merge {merge_id} was split already")
    model = store.model_for(record.entity_type)
    survivor_id, merged_id = record.survivor_id, record.merged_id
    table = store.table_of(model)
    references = {ref.column: ref for ref in _references(model)}
    session.flush()

    def move_back(polymorphic: bool) -> None:
        for label, keys in record.moved.items():
            if label == FILLED:
                continue
            table_name, column_name = label.split(".")
            ref = references[Base.metadata.tables[table_name].c[column_name]]
            if (ref.condition is not None) != polymorphic:
                continue
            for key in keys:
                where = [ref.column.table.c[k] == v for k, v in key.items()]
                if ref.column.name not in key:
                    where += ref.to(survivor_id)
                session.execute(
                    update(ref.column.table).where(*where).values({ref.column.name: merged_id})
                )

    # The records that built the merged node go back first, so the survivor's values
    # (chosen again from its own records) free the unique ones the merged node takes back.
    move_back(polymorphic=True)
    filled = record.moved.get(FILLED, [])
    if filled:
        session.execute(
            update(table).where(table.c.id == survivor_id).values(dict.fromkeys(filled))
        )
    session.execute(
        delete(EntityRedirect).where(
            EntityRedirect.entity_type == record.entity_type, EntityRedirect.old_id == merged_id
        )
    )
    _resolve_afresh(session, model, survivor_id, precedence)
    session.execute(
        insert(table).values({k: decode(model, k, v) for k, v in record.snapshot.items()})
    )
    move_back(polymorphic=False)
    for table_name, rows in record.dropped.items():
        target = Base.metadata.tables[table_name]
        session.execute(insert(target), rows)
    record.split_at = dt.datetime.now(dt.UTC)
    _decide(
        session, record.entity_type, (survivor_id, merged_id), SuggestionStatus.REJECTED, "split"
    )
    _resolve_afresh(session, model, merged_id, precedence)
    return record


def _resolve_afresh(
    session: Session, model: type[Base], node_id: int, precedence: Precedence
) -> None:
    """Choose a node's values again from its records, after rows moved under the ORM's feet."""
    session.flush()
    session.expire_all()
    resolve_many(session, model, [node_id], precedence)
    session.flush()


def _decide(
    session: Session, entity_type: str, pair: tuple[int, int], status: SuggestionStatus, reason: str
) -> None:
    """Record the admin's decision on the pair, as a suggestion decided (made if need be)."""
    low, high = sorted(pair)
    suggestion = session.scalars(
        select(MatchSuggestion).where(
            MatchSuggestion.entity_type == entity_type,
            MatchSuggestion.entity_id == low,
            MatchSuggestion.other_id == high,
        )
    ).first()
    if suggestion is None:
        suggestion = MatchSuggestion(
            entity_type=entity_type, entity_id=low, other_id=high, score=1.0, reason=reason
        )
        session.add(suggestion)
    suggestion.status = status
    suggestion.decided_at = dt.datetime.now(dt.UTC)
