"""The answer of a planned stats root field, from the one row of JSON its statement read.

Measures are read back as the resolvers' rows hold them and given to the same function their
field's resolver calls (`Measures.value`); groups are read column by column, as
`Group.from_row` reads them, and serialized as GraphQL would.
"""

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Dialect

from atmp_graph.schema.planner.assemble import node_builder
from atmp_graph.schema.planner.exact_numbers import Read, reader
from atmp_graph.schema.planner.plan import Constant, Convert, Value
from atmp_graph.schema.planner.stats_shape import (
    BreakdownPage,
    GroupColumn,
    GroupEntity,
    GroupsShape,
    Measured,
    StatsShape,
)
from atmp_graph.schema.planner.stats_sql import group_entries

Answer = Callable[[list[Any], int | None], dict[str, Any]]


def stats_builder(root: StatsShape, dialect: Dialect) -> Answer:
    """What turns the statement's array into the stats field's answer."""
    # Each measured field's columns: their names, and how each is read, at their place.
    layouts: list[tuple[str, list[tuple[str, Read | None]]]] = [
        (name, [(label, reader(c.type, dialect)) for label, c in measures.columns.items()])
        for name, measures in root.measured.items()
    ]
    values_of = {name: measures.value for name, measures in root.measured.items()}
    pages = [_page_builder(page, dialect) for page in root.breakdowns]

    def measured(row: list[Any]) -> dict[str, Any]:
        found, at = {}, 0
        for name, columns in layouts:
            read = {
                label: row[at + n] if how is None else how(row[at + n])
                for n, (label, how) in enumerate(columns)
            }
            found[name] = values_of[name](SimpleNamespace(**read))
            at += len(columns)
        return found

    def build(values: list[Any], _total: int | None) -> dict[str, Any]:
        found = measured(values[0]) if layouts else {}
        groups = iter(zip(pages, values[1 if layouts else 0 :], strict=True))
        answer: dict[str, Any] = {}
        for part in root.parts:
            if isinstance(part, Constant):
                answer[part.key] = part.value
            elif isinstance(part, Measured):
                answer[part.key] = _measured(part, found[part.name])
            else:
                page, rows = next(groups)
                answer[part.key] = page(rows)
        return answer

    return build


def _measured(part: Measured, value: Any) -> Any:
    if value is None:
        return None
    if part.fields is None:
        return value if part.serialize is None else part.serialize(value)
    answer: dict[str, Any] = {}
    for field in part.fields:
        if isinstance(field, Constant):
            answer[field.key] = field.value
        else:
            item = getattr(value, field.attribute)
            answer[field.key] = None if item is None else field.serialize(item)
    return answer


def _page_builder(page: BreakdownPage, dialect: Dialect) -> Callable[[list[Any]], Any]:
    measures = page.breakdown.grouping.measures
    # Each groups field's steps: (key, place in the row or -1 for a constant, how or value),
    # the places after the total in the order the statement put them (`group_entries`).
    steps_of: dict[str, list[tuple[str, int, Any]]] = {}
    at = 1
    for part in page.parts:
        if not isinstance(part, GroupsShape):
            continue
        steps = steps_of[part.key] = []
        for entry in part.entries:
            if isinstance(entry, Constant):
                steps.append((entry.key, -1, entry.value))
            else:
                steps.append((entry.key, at, _group_value(entry, measures, dialect)))
                at += 1
    assert at == 1 + sum(1 for _ in group_entries(page))
    size = page.size

    def group(steps: list[tuple[str, int, Any]], row: list[Any]) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        for key, place, how in steps:
            if place < 0:
                answer[key] = how
            else:
                value = row[place]
                answer[key] = None if value is None else how(value)
        return answer

    def build(rows: list[list[Any]]) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        for part in page.parts:
            if isinstance(part, Constant):
                answer[part.key] = part.value
            elif isinstance(part, Value):
                answer[part.key] = rows[0][0] if rows else 0
            else:
                steps = steps_of[part.key]
                answer[part.key] = [group(steps, row) for row in rows[:size]]
        return answer

    return build


def _group_value(
    entry: GroupColumn | GroupEntity, measures: Mapping[str, Any], dialect: Dialect
) -> Convert:
    """How a group field's value, not null, becomes the answer's."""
    if isinstance(entry, GroupEntity):
        return node_builder(entry.node)
    convert = entry.convert or (lambda value: value)
    if entry.column not in measures:
        return convert
    read = reader(measures[entry.column].type, dialect) or (lambda value: value)
    return lambda value: convert(read(value))
