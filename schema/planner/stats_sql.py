"""One SQL statement for a stats root field: every count, measure and breakdown it asks for.

The statement is a JSON array of scalar subqueries, each the statement the field's resolver
runs (model/aggregates.py: `measures_statement`, `breakdown_statement`, made from the same
definitions), so the database counts as it does for the resolvers and answers in one row:

    [[measure, …], [[total groups, group field, …], …], …]

the measures (all of them in one pass over the rows) first when any is asked for, then each
breakdown's groups, largest first, as many as its resolver reads.
"""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Select, case, null, select
from sqlalchemy.orm import aliased

from atmp_graph.model.aggregates import breakdown_statement, measures_statement
from atmp_graph.schema.planner.exact_numbers import exact
from atmp_graph.schema.planner.json_sql import JsonDialect
from atmp_graph.schema.planner.plan import Constant
from atmp_graph.schema.planner.sql import node_array
from atmp_graph.schema.planner.stats_shape import (
    TOTAL_GROUPS,
    BreakdownPage,
    GroupColumn,
    GroupEntity,
    GroupsShape,
    StatsShape,
)


def stats_statement(root: StatsShape, json: JsonDialect) -> Select[Any]:
    items = []
    if root.measured:
        items.append(json.nested(_measures(root, json)))
    items.extend(json.nested(_groups(root, page, json)) for page in root.breakdowns)
    return select(json.as_text(json.array(*items)).label("page"))


def _measures(root: StatsShape, json: JsonDialect) -> ColumnElement[Any]:
    """The measures of every measured field, in `root.measured`'s order, over one scan."""
    columns = {
        f"m{n}": column
        for n, column in enumerate(
            column for measures in root.measured.values() for column in measures.columns.values()
        )
    }
    row = measures_statement(root.model, columns, where=root.where).subquery("measures")
    values = (exact(row.c[name], json.name) for name in columns)
    return select(json.array(*values)).select_from(row).scalar_subquery()


def group_entries(page: BreakdownPage) -> Iterator[GroupColumn | GroupEntity]:
    """The group fields a breakdown's row holds after its total, in the row's order."""
    for part in page.parts:
        if isinstance(part, GroupsShape):
            yield from (e for e in part.entries if not isinstance(e, Constant))


def _groups(root: StatsShape, page: BreakdownPage, json: JsonDialect) -> ColumnElement[Any]:
    grouping = page.breakdown.grouping
    # At least one row, as its resolver reads, so that `first: 0` still learns the total.
    rows = breakdown_statement(
        root.model, grouping, where=root.where, most=max(page.size, 1)
    ).subquery()
    # With an entity, the row holds its columns: the entity is read from them.
    entity: Any = None if grouping.entity is None else aliased(grouping.entity, rows)
    items: list[ColumnElement[Any]] = [rows.c[TOTAL_GROUPS]]
    for entry in group_entries(page):
        if isinstance(entry, GroupEntity):
            node = node_array(entity, entry.node, json)
            items.append(json.nested(case((entity.id.is_(None), null()), else_=node)))
        elif entry.column in grouping.measures:
            items.append(exact(rows.c[entry.column], json.name))
        else:
            items.append(rows.c[entry.column])
    return select(json.aggregate(json.array(*items))).select_from(rows).scalar_subquery()
