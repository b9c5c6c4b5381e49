"""Cursor connections with totalCount for every top-level list: keyset pages (schema/keyset.py)
in the order `orderBy` asks (schema/ordering.py), narrowed by a filter (schema/filtering.py)."""

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, Select, func, select

from atmp_graph.model import Base
from atmp_graph.schema.connection import Connection
from atmp_graph.schema.context import Info
from atmp_graph.schema.cost import PAGE_SIZE, PageSize
from atmp_graph.schema.errors import UserError
from atmp_graph.schema.filtering import filter_conditions
from atmp_graph.schema.keyset import (
    after_condition,
    decode_cursor,
    encode_cursor,
    fingerprint,
    order_clauses,
)
from atmp_graph.schema.list_names import filter_type, order_type
from atmp_graph.schema.mapping import Mapped
from atmp_graph.schema.ordering import MAX_ORDER_KEYS, order_keys

DEFAULT_PAGE = 20
MAX_PAGE = 100
# A connection field's metadata: what its `first` may be, which the query cost counts.
PAGED = {PAGE_SIZE: PageSize(default=DEFAULT_PAGE, most=MAX_PAGE)}
# A list field made by `connection_field`: its rows are the live rows its filter matches, in
# the order its `orderBy` asks, and nothing else, so the read planner may answer it (a list
# with a resolver of its own, which adds a default or reads its filter its own way, is the
# resolver's to answer).
BY_FILTER = "rows-by-filter"
ORDER_BY = (
    f"Sort keys, the first first (at most {MAX_ORDER_KEYS}); the id ends every order (without "
    "any: id order)."
)


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise UserError(f"first: {size} is not between 0 and {MAX_PAGE}")
    return size


def live_conditions(model: type[Base]) -> list[ColumnElement[bool]]:
    """What its feeds no longer send is left out of the lists (node(id:) still finds it)."""
    retired_at = getattr(model, "retired_at", None)
    return [] if retired_at is None else [retired_at.is_(None)]


def listed_conditions(model: type[Base], filters: Any) -> list[ColumnElement[bool]]:
    """The WHERE of a top-level list: its live rows that match the filter input.  The
    aggregates (schema/stats.py) count with this same WHERE, so they count what the list lists."""
    return [*live_conditions(model), *filter_conditions(model, filters)]


async def paginate(
    info: Info,
    node_type: type[Mapped],
    *,
    first: int | None,
    after: str | None,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any] | None = None,
    filter: Any = None,
) -> Connection[Any]:
    """One page of `node_type` rows matching `where`, in the order of `order_by` (id order
    without it), after the cursor `after`: a count and a page query, nothing more.

    `filter` is the input `where` was made from: a cursor is only good for its list."""
    size = page_size(first)
    model: Any = node_type.__model__
    keys = order_keys(model, order_by)
    list_fingerprint = fingerprint(node_type.__name__, order_by, filter)
    conditions = list(where)
    if after is not None:
        conditions.append(after_condition(keys, decode_cursor(after, keys, list_fingerprint)))
    counted: Select[Any] = select(model.id).where(*where)
    # One row more than the page: whether there is a next one.
    page = (
        select(model, *(key.expression.label(f"_key{i}") for i, key in enumerate(keys)))
        .where(*conditions)
        .order_by(*order_clauses(keys))
        .limit(size + 1)
    )
    async with info.context.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(counted.subquery())) or 0
        rows = (await session.execute(page)).all()
    shown = rows[:size]
    return Connection.of(
        node_type.from_rows(row[0] for row in shown),
        cursors=[encode_cursor(row[1:], list_fingerprint) for row in shown],
        total=total,
        has_next=len(rows) > size,
        has_previous=after is not None,
    )


def connection_field(
    node_type: type[Mapped],
    filter_input: type[Any] | None = None,
    *,
    description: str,
    nullable: bool = False,
) -> Any:
    """A top-level list field: `first`/`after` paging, `orderBy`, and a filter input over
    `node_type` (by default the one generated from its declarations, schema/list_inputs.py);
    `nullable` for a protected one (refused, it is null with an error)."""

    model: Any = node_type.__model__

    async def resolve(
        info: Info,
        first: int | None = None,
        after: str | None = None,
        order_by: list[Any] | None = None,
        filter: Any = None,
    ) -> Any:
        where = listed_conditions(model, filter)
        return await paginate(
            info, node_type, first=first, after=after, where=where, order_by=order_by, filter=filter
        )

    filters = filter_input or filter_type(model)
    # Strawberry reads the arguments' types from the annotations, so give it the real ones.
    resolve.__annotations__ = {
        "info": Info,
        "first": Annotated[
            int | None,
            strawberry.argument(
                description=f"Page size (default {DEFAULT_PAGE}, most {MAX_PAGE})."
            ),
        ],
        "after": Annotated[
            str | None, strawberry.argument(description="Start after this edge's cursor.")
        ],
        "order_by": Annotated[
            list[order_type(model)] | None,  # type: ignore[misc]
            strawberry.argument(description=ORDER_BY),
        ],
        "filter": Annotated[
            filters | None, strawberry.argument(description="Only nodes that match all of it.")
        ],
        "return": Connection[node_type] | None  # type: ignore[valid-type]
        if nullable
        else Connection[node_type],  # type: ignore[valid-type]
    }
    return strawberry.field(
        resolver=resolve,
        description=description,
        metadata={**PAGED, BY_FILTER: True},
    )
