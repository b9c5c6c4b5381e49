"""Filters as SQL: the conditions a filter input sets, over a model class or an alias of it.

A generated filter input (schema/list_inputs.py) says, per field, what it asks of a row
(`__operations__`): a column's operators (`{eq, neq, in, gt, gte, lt, lte, contains,
isNull}`, as its kind has them), a text search, global ids, a relation's rows (EXISTS), or
`and` / `or` / `not` of filters of the same type.  Every field and operator set must hold.
`neq`, `in`, the comparisons and `contains` keep no row whose value is NULL (as SQL compares);
`not` keeps every row its filter does not keep, NULLs included.  An empty `and` holds, an
empty `or` does not.  Every text value is checked (schema/filters.py), and a filter is
refused, with the reason, when it nests deeper, lists more or holds more conditions than the
limits below: the query cost does not count arguments.

The filter inputs of the curation lists are plain: each field an equality on its column.
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true
from sqlalchemy.orm import aliased
from strawberry import relay
from strawberry.utils.str_converters import to_camel_case

from atmp_graph.model import Base, EntityRedirect
from atmp_graph.schema.errors import UserError
from atmp_graph.schema.filters import check_text
from atmp_graph.schema.ids import row_id

# `and`, `or`, `not` and relations each nest a filter one level deeper.
MAX_FILTER_DEPTH = 5
# Values of one `in`, filters of one `and` or `or`, conditions of one whole filter.
MAX_LIST_VALUES = 100
MAX_BRANCHES = 20
MAX_CONDITIONS = 100


@dataclass(frozen=True)
class Operation:
    """What one field of a generated filter input asks of a row."""

    # column, search, node_id, relation, and, or, not
    kind: str
    graphql_name: str
    # The model attribute it reads: a column, or a relation.
    attribute: str = ""
    # search: the columns it looks in.
    columns: tuple[str, ...] = ()
    # node_id: the type its global ids name, and the table its merged-away ids are kept for.
    type_name: str = ""
    entity_type: str = ""
    # relation: the model at its other end.
    target: type[Base] | None = None


def operators(value: Any) -> list[tuple[str, str, Any]]:
    """The operators an operator input sets: (operator, its GraphQL name, value)."""
    return [
        (field.name.rstrip("_"), to_camel_case(field.name.rstrip("_")), getattr(value, field.name))
        for field in dataclasses.fields(value)
        if getattr(value, field.name) is not None
    ]


def filter_conditions(model: Any, filters: Any, *, argument: str = "filter") -> list[Any]:
    """The conditions `filters` sets on `model` (a model class or an alias of it): all must
    hold.  No filter, no conditions."""
    if filters is None:
        return []
    if not hasattr(type(filters), "__operations__"):
        return _equalities(model, filters, argument)
    return _Conditions().of(model, filters, argument, depth=1)


def _all(conditions: list[Any]) -> ColumnElement[bool]:
    return and_(*conditions) if conditions else true()


@dataclass
class _Conditions:
    """One filter's conditions, counted against MAX_CONDITIONS as they are made."""

    made: int = 0

    def of(self, model: Any, filters: Any, path: str, *, depth: int) -> list[Any]:
        if depth > MAX_FILTER_DEPTH:
            raise UserError(
                f"{path}: filters nest more than {MAX_FILTER_DEPTH} deep (each and, or, not "
                "and relation is a level)"
            )
        conditions = []
        operations: dict[str, Operation] = type(filters).__operations__
        for name, operation in operations.items():
            value = getattr(filters, name)
            if value is not None:
                where = f"{path}.{operation.graphql_name}"
                conditions += self.conditions(model, operation, value, where, depth=depth)
        return conditions

    def count(self, path: str) -> None:
        self.made += 1
        if self.made > MAX_CONDITIONS:
            raise UserError(f"{path}: more than {MAX_CONDITIONS} conditions in one filter")

    def conditions(
        self, model: Any, operation: Operation, value: Any, path: str, *, depth: int
    ) -> list[ColumnElement[bool]]:
        kind = operation.kind
        if kind in ("column", "node_id"):
            found = []
            for operator, name, operand in operators(value):
                self.count(path)
                if kind == "node_id":
                    found.append(_node_ids(model, operation, operator, operand, f"{path}.{name}"))
                else:
                    column = getattr(model, operation.attribute)
                    found.append(_compare(column, operator, operand, f"{path}.{name}"))
            return found
        self.count(path)
        if kind == "search":
            check_text(value, argument=path)
            columns = [getattr(model, name) for name in operation.columns]
            return [or_(*(_contains(column, value) for column in columns))]
        if kind == "relation":
            return [self.related(model, operation, value, path, depth=depth)]
        return [self.combined(model, kind, value, path, depth=depth)]

    def related(
        self, model: Any, operation: Operation, value: Any, path: str, *, depth: int
    ) -> ColumnElement[bool]:
        """EXISTS a related row that matches `value`."""
        assert operation.target is not None
        # An alias of its own, so a relation back to the listed type compares other rows.
        target = aliased(operation.target)
        inner = self.of(target, value, path, depth=depth + 1)
        related = getattr(model, operation.attribute).of_type(target)
        # any() and has() take one criterion: the inner filter's conditions, all of them.
        criterion = and_(*inner) if inner else None
        return related.any(criterion) if related.property.uselist else related.has(criterion)  # type: ignore[no-any-return]

    def combined(
        self, model: Any, kind: str, value: Any, path: str, *, depth: int
    ) -> ColumnElement[bool]:
        """`and`, `or` or `not` of filters of the same type."""
        if kind == "not":
            # NULL-safe: a row the inner filter cannot decide (a NULL compared) is kept.
            inner = _all(self.of(model, value, path, depth=depth + 1))
            return not_(func.coalesce(inner, false()))
        _at_most(value, MAX_BRANCHES, path, "filters")
        branches = [
            _all(self.of(model, item, f"{path}[{i}]", depth=depth + 1))
            for i, item in enumerate(value)
        ]
        if kind == "and":
            return _all(branches)
        return or_(*branches) if branches else false()


def _at_most(values: list[Any], most: int, path: str, what: str) -> None:
    if len(values) > most:
        raise UserError(f"{path}: {len(values)} {what}, more than the {most} one list may hold")


def _contains(column: Any, value: str) -> ColumnElement[bool]:
    # autoescape: a % or _ the client typed is that character, not a wildcard.
    return func.lower(column).contains(value.lower(), autoescape=True)


def _checked(value: Any, path: str) -> Any:
    if isinstance(value, str):
        check_text(value, argument=path)
    if isinstance(value, dt.datetime):
        # SQLite compares the stored text: a moment is written in UTC to compare right.
        aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
        try:
            return aware.astimezone(dt.UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 is past the last year Python has
            message = f"{path}: {value.isoformat()} is past the years this API compares"
            raise UserError(message) from None
    return value


def _compare(column: Any, operator: str, value: Any, path: str) -> ColumnElement[bool]:
    if operator == "is_null":
        return column.is_(None) if value else column.is_not(None)  # type: ignore[no-any-return]
    if operator == "in":
        _at_most(value, MAX_LIST_VALUES, path, "values")
        return column.in_([_checked(item, path) for item in value])  # type: ignore[no-any-return]
    value = _checked(value, path)
    if operator == "contains":
        return _contains(column, value)
    comparisons = {
        "eq": column.__eq__,
        "neq": column.__ne__,
        "gt": column.__gt__,
        "gte": column.__ge__,
        "lt": column.__lt__,
        "lte": column.__le__,
    }
    return comparisons[operator](value)  # type: ignore[no-any-return]


def _node_ids(
    model: Any, operation: Operation, operator: str, value: Any, path: str
) -> ColumnElement[bool]:
    """The rows with these global ids, or into which the nodes of these ids were merged."""
    given: list[relay.GlobalID] = value if operator == "in" else [value]
    _at_most(given, MAX_LIST_VALUES, path, "ids")
    ids = []
    for global_id in given:
        if global_id.type_name != operation.type_name:
            raise UserError(f"{path}: {global_id} is no {operation.type_name} id")
        # 0 is no row's id: what cannot be an id matches nothing, as an unknown id does.
        ids.append(row_id(global_id.node_id) or 0)
    merged_into = select(EntityRedirect.new_id).where(
        EntityRedirect.entity_type == operation.entity_type, EntityRedirect.old_id.in_(ids)
    )
    return or_(model.id.in_(ids), model.id.in_(merged_into))


def _equalities(model: Any, filters: Any, argument: str) -> list[Any]:
    """A plain filter input: each field set is an equality on the column of its name."""
    conditions = []
    for field in dataclasses.fields(filters):
        value = getattr(filters, field.name)
        if value is not None:
            path = f"{argument}.{to_camel_case(field.name)}"
            conditions.append(getattr(model, field.name) == _checked(value, path))
    return conditions
