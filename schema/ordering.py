"""Orderings: the sort keys a list offers, and the keys an `orderBy` argument asks for.

Text sorts by Unicode code point on both databases (PostgreSQL's "C" collation, SQLite's own
BINARY), so both give one order: capitals before small letters, and letters beyond ASCII after
them ("Leiden" < "Skåne" < "Västra" < "leiden" < "Östra").  An enum sorts in the order the
schema lists its values (EARLY_PHASE1 first, NA last), a count by the number of related rows.
NULLs sort above every value (schema/keyset.py), and the id always ends the order.

Everything here builds expressions over a model class or an alias of it: the resolvers and a
query compiler read the same declarations.
"""

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import RelationshipProperty
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from atmp_graph.schema.errors import UserError
from atmp_graph.schema.keyset import Key

# More keys than this order nothing further: every list ends with its id anyway.
MAX_ORDER_KEYS = 5
ID = "ID"


@strawberry.enum(description="Which way a sort key runs.")
class OrderDirection(enum.Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest first; NULLs last.")
    DESC = strawberry.enum_value("DESC", description="Largest first; NULLs first.")


class CodePointOrder(ColumnElement[str]):
    """Text compared by Unicode code point: UTF-8 bytes on SQLite, COLLATE "C" on PostgreSQL
    (whose database collation may be any locale's)."""

    inherit_cache = True
    _traverse_internals = [("text", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, text: ColumnElement[str]) -> None:
        self.text = text
        self.type = text.type


@compiles(CodePointOrder)
def _binary(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.text, **kw)


@compiles(CodePointOrder, "postgresql")
def _collate_c(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.text, **kw)} COLLATE "C"'


@dataclass(frozen=True)
class SortKey:
    """A key a list may be ordered by; `build` makes its expression over a model or alias."""

    name: str
    description: str
    build: Callable[[Any], ColumnElement[Any]]
    nullable: bool
    kind: type


def column_key(
    name: str, attribute: str, *, python_type: type, nullable: bool, description: str
) -> SortKey:
    """The key of one column: text by code point, an enum in its declared order."""
    if python_type is str:

        def build(model: Any) -> ColumnElement[Any]:
            return CodePointOrder(getattr(model, attribute))

        return SortKey(name, description, build, nullable, str)
    if issubclass(python_type, enum.Enum):
        # By the values the column stores (an enum column holds its members' values).
        positions = {member.value: position for position, member in enumerate(python_type)}

        def build(model: Any) -> ColumnElement[Any]:
            return case(positions, value=getattr(model, attribute))

        return SortKey(name, description, build, nullable, int)
    kind = python_type if python_type in (int, float, bool, dt.date, dt.datetime) else str
    return SortKey(name, description, lambda model: getattr(model, attribute), nullable, kind)


def count_key(name: str, prop: RelationshipProperty[Any], *, description: str) -> SortKey:
    """The number of rows at the end of a to-many relationship."""

    def build(model: Any) -> ColumnElement[Any]:
        parent = prop.parent
        # A link table's rows are the count (no join to the other side); else the rows'.
        table = (prop.secondary if prop.secondary is not None else prop.mapper.local_table).alias()
        joined = [
            table.c[remote.name] == getattr(model, parent.get_property_by_column(local).key)
            for local, remote in prop.synchronize_pairs
        ]
        return select(func.count()).select_from(table).where(*joined).scalar_subquery()

    return SortKey(name, description, build, False, int)


def id_key() -> SortKey:
    return SortKey(ID, "Its id: the order rows were added in.", lambda m: m.id, False, int)


def order_keys(model: Any, order_by: Sequence[Any] | None) -> list[Key]:
    """The keys of `order_by` (a list of a generated order input, see schema/list_inputs.py)
    over `model` (a model class or an alias), ending with the id.

    The id follows the last key's direction, so one index on (key, id) serves the order."""
    given = list(order_by or ())
    if len(given) > MAX_ORDER_KEYS:
        raise UserError(f"orderBy: {len(given)} keys; a list sorts by at most {MAX_ORDER_KEYS}")
    keys: list[Key] = []
    for item in given:
        sort_key: SortKey = type(item).__sort_keys__[item.field.value]
        if any(key.name == sort_key.name for key in keys):
            raise UserError(f"orderBy: {sort_key.name} is given twice")
        descending = item.direction is OrderDirection.DESC
        expression = sort_key.build(model)
        keys.append(Key(sort_key.name, expression, descending, sort_key.nullable, sort_key.kind))
    if not any(key.name == ID for key in keys):
        descending = keys[-1].descending if keys else False
        keys.append(Key(ID, model.id, descending, False, int))
    return keys


def order_spelling(order_by: Sequence[Any] | None) -> list[tuple[str, str]]:
    """`order_by` as (key, direction) pairs, for a cursor's fingerprint."""
    return [(item.field.value, item.direction.value) for item in order_by or ()]
