"""Counting rows by a key in the database: one statement per breakdown, never rows counted in
Python, the same statement on SQLite and PostgreSQL.

A breakdown's statement answers its groups largest first (ties in the key's order, the null
group last among them), at most `most` of them, each row carrying how many groups there are
in all (a window count over the groups), so a page of groups and its total come together.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    SQLColumnExpression,
    cast,
    extract,
    func,
    select,
)

from atmp_graph.model.base import Base

# The labels of a breakdown row's columns (besides its measures).
KEY, COUNT, TOTAL_GROUPS = "key", "count", "total_groups"


@dataclass(frozen=True, kw_only=True)
class Grouping:
    """What a breakdown groups the counted rows by.

    `key` is a value of the row itself, or of a row `joins` adds (an inner join: rows without
    it are not counted).  With `pairs` the row has many values instead: a select of
    (the row's id, a value) pairs, of which each row counts once per distinct known value, and
    once in the null group when it has none.  With `entity` the key is an id of that model,
    and each group comes with its row; `entity_order` orders its ties.
    """

    key: SQLColumnExpression[Any] | None = None
    pairs: Select[Any, Any] | None = None
    joins: Sequence[tuple[FromClause | type[Base], ColumnElement[bool]]] = ()
    where: Sequence[ColumnElement[bool]] = ()
    entity: Any = None
    entity_order: SQLColumnExpression[Any] | None = None
    measures: Mapping[str, ColumnElement[Any]] = field(default_factory=dict)


def one_value(key: SQLColumnExpression[Any], **options: Any) -> Grouping:
    """Rows grouped by one value each: a column, or an expression on columns."""
    return Grouping(key=key, **options)


def many_values(pairs: Select[Any, Any], **options: Any) -> Grouping:
    """Rows grouped by the values they have many of: `pairs` selects (row id, value)."""
    return Grouping(pairs=pairs, **options)


def year_of(date: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """The year of a date column, as an integer on both databases."""
    return cast(extract("year", date), Integer)


def breakdown_statement(
    model: type[Base], grouping: Grouping, *, where: Sequence[ColumnElement[bool]], most: int
) -> Select[Any]:
    """The largest `most` groups of the `model` rows matching `where`, as rows of `key` (or the
    entity's columns), `count`, `total_groups` and the grouping's measures."""
    table: Any = model
    counted = select().select_from(model)
    if grouping.pairs is not None:
        owner, value = grouping.pairs.selected_columns
        pairs = (
            grouping.pairs.with_only_columns(owner.label("owner"), value.label("value"))
            .where(value.is_not(None))
            .distinct()
            .subquery("pairs")
        )
        # Each (row, value) pair is there once, so count(*) counts each row once per value.
        counted = counted.outerjoin(pairs, pairs.c.owner == table.id)
        key: SQLColumnExpression[Any] = pairs.c.value
    else:
        assert grouping.key is not None
        key = grouping.key
    for target, onclause in grouping.joins:
        counted = counted.join(target, onclause)
    grouped = (
        counted.add_columns(
            key.label(KEY),
            func.count().label(COUNT),
            # Window functions run after GROUP BY: this counts the groups.
            func.count().over().label(TOTAL_GROUPS),
            *(measure.label(name) for name, measure in grouping.measures.items()),
        )
        .where(*where, *grouping.where)
        .group_by(key)
        .subquery("grouped")
    )
    measures = [grouped.c[name] for name in grouping.measures]
    largest_first = grouped.c[COUNT].desc()
    if grouping.entity is not None:
        entity = grouping.entity
        ties = [] if grouping.entity_order is None else [grouping.entity_order.asc().nulls_last()]
        statement = (
            select(entity, grouped.c[COUNT], grouped.c[TOTAL_GROUPS], *measures)
            .select_from(grouped)
            .outerjoin(entity, entity.id == grouped.c[KEY])
            .order_by(largest_first, *ties, grouped.c[KEY].asc().nulls_last())
        )
    else:
        statement = select(grouped).order_by(largest_first, grouped.c[KEY].asc().nulls_last())
    return statement.limit(most)


def measures_statement(
    model: type[Base],
    measures: Mapping[str, ColumnElement[Any]],
    *,
    where: Sequence[ColumnElement[bool]],
) -> Select[Any]:
    """One row of aggregates (sum, min, …) over the `model` rows matching `where`."""
    return (
        select(*(measure.label(name) for name, measure in measures.items()))
        .select_from(model)
        .where(*where)
    )
