"""A planned connection as compact rows, PostgreSQL's faster shape (measured in the README).

PostgreSQL spends about a third less CPU returning text than building JSON, so on PostgreSQL a
root connection is read the way PostGraphile v5 reads one: a row per node, its sort keys, then
each node shape's fields as columns of text.  A relation to one is joined and flattened into
its parent's fields behind a marker (the target's id: null when there is none); a nested list
is a two-dimensional `text[]`, one flat array of fields per node.  What this
shape cannot hold (a list inside a list, a to-one other than a plain foreign key) raises
NotPlanned, and the root is read as JSON instead.
"""

import dataclasses
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Select,
    Text,
    and_,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import RelationshipProperty, aliased, outerjoin
from sqlalchemy.orm.interfaces import MANYTOONE

from atmp_graph.schema.filtering import filter_conditions
from atmp_graph.schema.keyset import after_condition, order_clauses
from atmp_graph.schema.ordering import order_keys
from atmp_graph.schema.planner.plan import (
    ConnectionRoot,
    GlobalId,
    NodeShape,
    NotPlanned,
    ToMany,
    ToOne,
    Value,
)
from atmp_graph.schema.planner.sql import column_of, related, written_limit

Entity = Any  # a model class or an aliased one
Join = tuple[Entity, ColumnElement[bool]]  # an outer join: its target and its condition


def rows_statement(root: ConnectionRoot) -> Select[Any]:
    """The rows that answer `root`: its page (one row more, to tell of a next page) as its
    sort keys, then each node shape's fields, and, when asked, the total last in every row.
    With a total, an empty page is one row of nulls, so the total still arrives."""
    model: Any = root.model
    joins: list[Join] = []
    keys = [key.expression.label(f"k{i}") for i, key in enumerate(root.keys)]
    fields = [item for shape in root.shapes for item in _flat_items(model, shape, joins)]
    # Named by place, so that two shapes' fields never clash in the page's subquery.
    columns = [item.label(f"f{i}") for i, item in enumerate(fields)]
    after = [] if root.after is None else [after_condition(root.keys, root.after)]
    page = (
        _outer_joined(select(*keys, *columns), model, joins)
        .where(*root.where, *after)
        .order_by(*order_clauses(root.keys))
        .limit(written_limit(root.size + 1))
    )
    if not root.counts:
        return page
    listed = page.subquery("page")
    total = select(func.count().label("total")).select_from(model).where(*root.where).subquery()
    in_order = [
        dataclasses.replace(key, expression=listed.c[f"k{i}"]) for i, key in enumerate(root.keys)
    ]
    return (
        select(*(c for c in listed.c), total.c.total)
        .select_from(total.outerjoin(listed, true()))
        .order_by(*order_clauses(in_order))
    )


def _flat_array(entity: Entity, shape: NodeShape, joins: list[Join]) -> ColumnElement[Any]:
    items = _flat_items(entity, shape, joins)
    # An array of no fields would vanish inside a two-dimensional one: keep one place.
    return array(items or [literal("", Text)], type_=Text)


def _flat_items(entity: Entity, shape: NodeShape, joins: list[Join]) -> list[ColumnElement[Any]]:
    """`shape`'s fields of the row `entity` stands for, as text, in the order the assembler
    reads them (schema/planner/assemble.py `flat_node_builder`)."""
    items: list[ColumnElement[Any]] = []
    for entry in shape.entries:
        if isinstance(entry, Value):
            items.append(_as_text(getattr(entity, entry.column)))
        elif isinstance(entry, GlobalId):
            items.append(cast(entity.id, Text))
        elif isinstance(entry, ToOne):
            target, condition = _to_one(entity, entry)
            joins.append((target, condition))
            items.append(cast(target.id, Text))  # the marker: null when there is none
            items.extend(_flat_items(target, entry.target, joins))
        elif isinstance(entry, ToMany):
            items.append(_to_many(entity, entry))
    return items


def _as_text(column: Any) -> ColumnElement[Any]:
    """A column as text, spelled as the database's JSON spells it (so one converter serves
    both shapes): a date or a moment in ISO 8601, whatever the session's DateStyle."""
    if isinstance(column.type, Date | DateTime):
        return func.to_json(column).op("#>>")(literal_column("'{}'"))
    return cast(column, Text)


def _to_one(entity: Entity, entry: ToOne) -> Join:
    prop = entry.relation.property
    assert isinstance(prop, RelationshipProperty)
    if prop.direction is not MANYTOONE or prop.secondary is not None:
        raise NotPlanned("a to-one that is not a foreign key of its own")
    target = aliased(prop.mapper.class_)
    return target, and_(
        *(
            column_of(target, prop.mapper, remote) == column_of(entity, prop.parent, local)
            for local, remote in prop.local_remote_pairs
        )
    )


def _to_many(entity: Entity, entry: ToMany) -> ColumnElement[Any]:
    prop = entry.relation.property
    assert isinstance(prop, RelationshipProperty)
    if _holds_a_list(entry.target):
        raise NotPlanned("a list inside a list")
    target: Any = aliased(prop.mapper.class_)
    joins: list[Join] = []
    node = _flat_array(target, entry.target, joins)
    rows = _outer_joined(select(node.label("node")), target, joins).where(
        *filter_conditions(target, entry.filter)
    )
    first = (
        related(rows, entity, target, prop)
        .order_by(*order_clauses(order_keys(target, entry.order_by)))
        .limit(written_limit(entry.most))
        .correlate(entity)
        .subquery()
    )
    empty = literal_column("'{}'", ARRAY(Text, dimensions=2))
    return select(func.coalesce(func.array_agg(first.c.node), empty)).scalar_subquery()


def _holds_a_list(shape: NodeShape) -> bool:
    return any(
        isinstance(entry, ToMany) or (isinstance(entry, ToOne) and _holds_a_list(entry.target))
        for entry in shape.entries
    )


def _outer_joined(statement: Select[Any], base: Entity, joins: list[Join]) -> Select[Any]:
    source: Any = base
    for target, condition in joins:
        source = outerjoin(source, target, condition)
    return statement.select_from(source)
