"""Merge two nodes into one, and split a merge again, keeping every global id meaningful.

A merge re-points every row that refers to the merged-away node (foreign keys, aliases, the
records that built it), drops the rows the survivor already has the like of, fills the
survivor's empty columns from the merged node, deletes it and leaves a redirect.  All of it is
written down in an `EntityMerge` (with both rows as they were), so `split` can put each row
back where it was.  Only node kinds whose ids are never reused (`NodeIdMixin`) can merge.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atmp_graph.enums import SuggestionStatus
from atmp_graph.identity import aliases
from atmp_graph.identity.claims import decode_value, encode
from atmp_graph.identity.precedence import Precedence
from atmp_graph.identity.resolution import resolve_many
from atmp_graph.model import change_tracking, kinds
from atmp_graph.model.base import Base, NodeIdMixin
from atmp_graph.model.collaboration import Facility, Institution
from atmp_graph.model.identity import EntityMerge, EntityRedirect, FieldConflict, MatchSuggestion
from atmp_graph.model.provenance import EntitySource, PendingLink
from atmp_graph.model.trials import ClinicalTrial, TrialSite

# Whether a node is retired follows from its records, never from the node merged into it.
RETIREMENT = ("retired_at", "retired_by_run_id")


class MergeError(ValueError):
    """A merge or split that cannot be done, said in one sentence; `field` names the argument
    at fault, where one is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Reference:
    """A column that refers to a node, and the condition under which it does."""

    column: Column[Any]
    condition: ColumnElement[bool] | None = None

    @property
    def derived(self) -> bool:
        """Rows resolution rebuilds (a trial's sites): moved, but neither logged nor restored."""
        return self.column.table is TrialSite.__table__

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
    entity_type = kinds.entity_type_of(model)
    for named_by, id_column in (
        (EntitySource, "entity_id"),
        (PendingLink, "entity_id"),
        (EntityRedirect, "new_id"),
    ):
        table = kinds.table_of(named_by)
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


def _move(session: Session, ref: Reference, from_id: int, to_id: int, log: MergeLog | None) -> None:
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
            if log is not None:
                log.dropped.setdefault(table.name, []).append(dict(values))
            session.execute(delete(table).where(*this_row))
        else:
            if log is not None:
                # Found again at split time by its key, less the moved column if it is a part.
                key = {c.name: values[c.name] for c in primary_key if c is not column}
                log.moved.setdefault(f"{table.name}.{column.name}", []).append(key)
            session.execute(update(table).where(*this_row).values({column.name: to_id}))


def _shed_aliases(
    session: Session, model: type[Base], node_id: int, folded: Sequence[str], log: MergeLog
) -> None:
    alias_model, owner_column = aliases.ALIASES[model]
    table = kinds.table_of(alias_model)
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
    entity_type = _mergeable(model, survivor_id, merged_id)
    session.flush()
    change_tracking.capture(session, model, [survivor_id])
    table = kinds.table_of(model)
    rows = {node: _row(session, table, node, entity_type) for node in (survivor_id, merged_id)}
    log = MergeLog()
    if shed:
        _shed_aliases(session, model, merged_id, shed, log)
    _fold_into(session, model, merged_id, survivor_id, log)
    survivor, merged = rows[survivor_id], rows[merged_id]
    _fill_gaps(session, table, survivor_id, survivor, merged, fill=fill)
    _not_part_of_itself(session, model, survivor_id)
    session.add(EntityRedirect(entity_type=entity_type, old_id=merged_id, new_id=survivor_id))
    record_decision(
        session, entity_type, (survivor_id, merged_id), SuggestionStatus.ACCEPTED, reason
    )
    record = EntityMerge(
        entity_type=entity_type,
        survivor_id=survivor_id,
        merged_id=merged_id,
        reason=reason,
        snapshot={"survivor": _encoded(survivor), "merged": _encoded(merged)},
        moved=log.moved,
        dropped={name: [_encoded(row) for row in rows] for name, rows in log.dropped.items()},
    )
    session.add(record)
    _resolve_afresh(session, model, [survivor_id], precedence)
    return record


def _mergeable(model: type[Base], survivor_id: int, merged_id: int) -> str:
    """The pair's entity type, if these two may merge at all."""
    entity_type = kinds.entity_type_of(model)
    if not issubclass(model, NodeIdMixin):
        mergeable = ", ".join(sorted(kinds.entity_type_of(kind) for kind in kinds.node_kinds()))
        raise MergeError(
            f"{entity_type} nodes cannot be merged (only {mergeable})", field="survivor"
        )
    if survivor_id == merged_id:
        raise MergeError(
            f"{entity_type} {survivor_id} cannot be merged into itself", field="merged"
        )
    return entity_type


def _fold_into(
    session: Session, model: type[Base], merged_id: int, survivor_id: int, log: MergeLog
) -> None:
    """Re-point everything that refers to the merged node, then delete it."""
    for ref in _references(model):
        _move(session, ref, merged_id, survivor_id, None if ref.derived else log)
    entity_type = kinds.entity_type_of(model)
    session.execute(
        delete(FieldConflict).where(
            FieldConflict.entity_type == entity_type, FieldConflict.entity_id == merged_id
        )
    )
    table = kinds.table_of(model)
    session.execute(delete(table).where(table.c.id == merged_id))


def _fill_gaps(
    session: Session,
    table: Table,
    survivor_id: int,
    survivor: dict[str, Any],
    merged: dict[str, Any],
    *,
    fill: bool,
) -> None:
    """With `fill`, the survivor takes the merged node's values where it has none; a retired
    survivor comes back if the merged node's feeds still send it."""
    values = {
        k: v
        for k, v in merged.items()
        if fill and k not in RETIREMENT and survivor[k] is None and v is not None
    }
    if survivor.get("retired_at") is not None and merged.get("retired_at") is None:
        # The merged node's feeds still send it, so the one node is live.
        values |= dict.fromkeys(RETIREMENT)
    if values:
        session.execute(update(table).where(table.c.id == survivor_id).values(values))


def _not_part_of_itself(session: Session, model: type[Base], survivor_id: int) -> None:
    """Through the merged node the survivor would be part of itself."""
    table = kinds.table_of(model)
    for ref in _self_references(model):
        session.execute(
            update(table)
            .where(table.c.id == survivor_id, ref.column == survivor_id)
            .values({ref.column.name: None})
        )


def split(session: Session, merge_id: int, *, precedence: Precedence) -> EntityMerge:
    """Undo merge `merge_id`: both nodes are as they were before it, under their own ids, each
    with the records that built it, and the pair is kept apart (never suggested again).

    An identifier the survivor's own records have given it since stays with the survivor.
    """
    record = _splittable(session, merge_id)
    model = kinds.model_for(record.entity_type)
    session.flush()
    try:
        # The records that built the merged node go back first; the survivor takes its own
        # values back and has them chosen again from its own records.
        _move_back(session, record, polymorphic=True)
        session.execute(
            delete(EntityRedirect).where(
                EntityRedirect.entity_type == record.entity_type,
                EntityRedirect.old_id == record.merged_id,
            )
        )
        _restore_survivor(session, record, precedence)
        _restore_merged(session, record)
        record.split_at = dt.datetime.now(dt.UTC)
        record_decision(
            session,
            record.entity_type,
            (record.survivor_id, record.merged_id),
            SuggestionStatus.REJECTED,
            "split",
        )
        _resolve_afresh(session, model, [record.merged_id], precedence)
        _place_sites_again(session, model, [record.survivor_id, record.merged_id], precedence)
    except IntegrityError as error:
        raise MergeError(
            f"merge {merge_id} cannot be split: both nodes would hold the same identifier "
            f"({getattr(error, 'orig', error)})"
        ) from None
    return record


def _splittable(session: Session, merge_id: int) -> EntityMerge:
    """Merge `merge_id`, if it can be split now."""
    record = session.get(EntityMerge, merge_id)
    if record is None:
        raise MergeError(f"there is no merge {merge_id}", field="id")
    if record.split_at is not None:
        raise MergeError(f"merge {merge_id} was split already", field="id")
    later = session.scalar(
        select(EntityMerge.id).where(
            EntityMerge.entity_type == record.entity_type,
            EntityMerge.merged_id == record.survivor_id,
            EntityMerge.split_at.is_(None),
        )
    )
    if later is not None:
        raise MergeError(
            f"{record.entity_type} {record.survivor_id} was merged away since (merge {later}): "
            f"split merge {later} first"
        )
    return record


def _move_back(session: Session, record: EntityMerge, *, polymorphic: bool) -> None:
    """Put the rows the merge moved back under the merged node's id (the rows that name a
    node by kind and id, such as source records, when `polymorphic`; the others when not)."""
    model = kinds.model_for(record.entity_type)
    references = {ref.column: ref for ref in _references(model)}
    for label, keys in record.moved.items():
        table_name, column_name = label.split(".")
        ref = references[Base.metadata.tables[table_name].c[column_name]]
        if (ref.condition is not None) != polymorphic:
            continue
        for key in keys:
            where = [ref.column.table.c[k] == v for k, v in key.items()]
            if ref.column.name not in key:
                where += ref.to(record.survivor_id)
            session.execute(
                update(ref.column.table).where(*where).values({ref.column.name: record.merged_id})
            )


def _restore_survivor(session: Session, record: EntityMerge, precedence: Precedence) -> None:
    """The survivor's row as it was before the merge, its values chosen again from its own
    records (its self-references wait until the merged node is back)."""
    model = kinds.model_for(record.entity_type)
    table = kinds.table_of(model)
    survivor = _decoded(table, record.snapshot["survivor"])
    self_references = {ref.column.name for ref in _self_references(model)}
    restored = {k: v for k, v in survivor.items() if k != "id" and k not in self_references}
    change_tracking.capture(session, model, [record.survivor_id])
    session.execute(update(table).where(table.c.id == record.survivor_id).values(restored))
    _resolve_afresh(session, model, [record.survivor_id], precedence)


def _restore_merged(session: Session, record: EntityMerge) -> None:
    """The merged node's row again, the rows that pointed at it, and the rows the merge
    dropped as duplicates."""
    model = kinds.model_for(record.entity_type)
    table = kinds.table_of(model)
    merged = _decoded(table, record.snapshot["merged"])
    merged |= _taken_since(session, table, merged)
    session.execute(insert(table).values(merged))
    change_tracking.created(session, record.entity_type, [record.merged_id])
    _move_back(session, record, polymorphic=False)
    self_references = [ref.column.name for ref in _self_references(model)]
    if self_references:
        survivor = _decoded(table, record.snapshot["survivor"])
        session.execute(
            update(table)
            .where(table.c.id == record.survivor_id)
            .values({name: survivor[name] for name in self_references})
        )
    for table_name, rows in record.dropped.items():
        target = Base.metadata.tables[table_name]
        session.execute(insert(target), [_decoded(target, row) for row in rows])


def _row(session: Session, table: Table, node_id: int, entity_type: str) -> dict[str, Any]:
    row = session.execute(select(table).where(table.c.id == node_id)).first()
    if row is None:
        raise MergeError(f"there is no {entity_type} {node_id}")
    return dict(row._mapping)


def _self_references(model: type[Base]) -> list[Reference]:
    table = kinds.table_of(model)
    return [ref for ref in _references(model) if ref.column.table is table]


def _taken_since(session: Session, table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """The merged node's unique values another node holds now (the survivor's records gave
    them to it): the merged node comes back without them."""
    taken: dict[str, Any] = {}
    for column in table.columns:
        if column.unique and row.get(column.name) is not None:
            holder = session.scalar(select(table.c.id).where(column == row[column.name]))
            if holder is not None:
                taken[column.name] = None
    return taken


def _encoded(row: dict[str, Any]) -> dict[str, Any]:
    return {name: encode(value) for name, value in row.items()}


def _decoded(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    return {name: decode_value(table.c[name], value) for name, value in row.items()}


def _resolve_afresh(
    session: Session, model: type[Base], node_ids: list[int], precedence: Precedence
) -> None:
    """Choose nodes' values again from their records, after rows moved under the ORM's feet."""
    session.flush()
    session.expire_all()
    resolve_many(session, model, node_ids, precedence)
    session.flush()


def _place_sites_again(
    session: Session, model: type[Base], node_ids: list[int], precedence: Precedence
) -> None:
    """Trial sites are derived, not restored: the trials whose sites name these institutions
    or facilities are placed again (a trial split is resolved anew anyway)."""
    columns = {Institution: TrialSite.institution_id, Facility: TrialSite.facility_id}
    if model in columns:
        trials = session.scalars(select(TrialSite.trial_id).where(columns[model].in_(node_ids)))
        _resolve_afresh(session, ClinicalTrial, sorted(set(trials)), precedence)


def record_decision(
    session: Session, entity_type: str, pair: tuple[int, int], status: SuggestionStatus, reason: str
) -> MatchSuggestion:
    """Record a decision on the pair, as a suggestion decided (made if need be)."""
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
    return suggestion
