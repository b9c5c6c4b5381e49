"""Cursor connections with totalCount for every top-level list, and their filters."""

import base64
import dataclasses
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Select, func, or_, select
from strawberry import relay
from strawberry.utils.str_converters import to_camel_case

from atmp_graph.model import Base
from atmp_graph.schema.context import Info
from atmp_graph.schema.cost import PAGE_SIZE, PageSize
from atmp_graph.schema.errors import UserError
from atmp_graph.schema.filters import check_text, shortened
from atmp_graph.schema.ids import small_number
from atmp_graph.schema.mapping import Mapped

DEFAULT_PAGE = 20
MAX_PAGE = 100
_CURSOR_PREFIX = "offset:"
# A connection field's metadata: what its `first` may be, which the query cost counts.
PAGED = {PAGE_SIZE: PageSize(default=DEFAULT_PAGE, most=MAX_PAGE)}
# A list field made by `connection_field`: its rows are the live rows its filter matches, and
# nothing else, so the read planner may answer it (a list with a resolver of its own, which
# adds a default or reads its filter its own way, is the resolver's to answer).
BY_FILTER = "rows-by-filter"

N = TypeVar("N")


@strawberry.type(description="One node of a page and the cursor that points at it.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(description="Pass as `after` to get the nodes after this one.")
    node: N = strawberry.field(description="The node itself.")


@strawberry.type(description="One page of a list, with the size of the whole list.")
class Connection(Generic[N]):
    total_count: int = strawberry.field(description="How many nodes match, on all pages.")
    page_info: relay.PageInfo = strawberry.field(description="Where this page sits in the list.")
    edges: list[Edge[N]] = strawberry.field(description="The page's nodes with their cursors.")

    @strawberry.field(description="The page's nodes, for clients that need no cursors.")
    def nodes(self) -> list[N]:
        return [edge.node for edge in self.edges]

    @classmethod
    def page(cls, nodes: list[Any], *, offset: int, total: int) -> "Connection[Any]":
        """The page of `nodes` that starts at `offset` of a list of `total`."""
        edges = [Edge(cursor=encode_cursor(offset + i), node=node) for i, node in enumerate(nodes)]
        page_info = relay.PageInfo(
            has_next_page=offset + len(nodes) < total,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return Connection(total_count=total, page_info=page_info, edges=edges)


def encode_cursor(offset: int) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset an `after` cursor points at; a UserError for what this API never issued."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except ValueError:
        text = ""
    offset = (
        small_number(text.removeprefix(_CURSOR_PREFIX)) if text.startswith(_CURSOR_PREFIX) else None
    )
    if offset is None:
        raise UserError(f"after: {shortened(cursor)} is not a cursor from this API")
    return offset


def page_bounds(first: int | None, after: str | None) -> tuple[int, int]:
    """(page size, offset of its first node) from the `first` and `after` arguments."""
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise UserError(f"first: {size} is not between 0 and {MAX_PAGE}")
    return size, decode_cursor(after) + 1 if after else 0


def filter_conditions(model: type[Base], filters: Any) -> list[ColumnElement[bool]]:
    """Each set field of a filter input is a condition on the model column of the same name.

    `search` is the exception: a case-insensitive substring match on the columns the filter
    lists in `__search__`.
    """
    if filters is None:
        return []
    conditions: list[ColumnElement[bool]] = []
    for field in dataclasses.fields(filters):
        value = getattr(filters, field.name)
        if value is None:
            continue
        if isinstance(value, str):
            check_text(value, argument=f"filter.{to_camel_case(field.name)}")
        if field.name == "search":
            columns = [getattr(model, name) for name in type(filters).__search__]
            # autoescape: a % or _ the client typed is that character, not a wildcard.
            matches = (func.lower(c).contains(value.lower(), autoescape=True) for c in columns)
            conditions.append(or_(*matches))
        else:
            conditions.append(getattr(model, field.name) == value)
    return conditions


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
    where: list[ColumnElement[bool]],
) -> Connection[Any]:
    """One page of `node_type` rows in id order: a count and a page query, nothing more."""
    size, offset = page_bounds(first, after)
    model = node_type.__model__
    base: Select[Any] = select(model).where(*where)
    async with info.context.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = (
            await session.scalars(base.order_by(model.id).offset(offset).limit(size))  # type: ignore[attr-defined]
        ).all()
    return Connection.page(node_type.from_rows(rows), offset=offset, total=total)


def connection_field(
    node_type: type[Mapped], filter_type: type[Any], *, description: str, nullable: bool = False
) -> Any:
    """A top-level list field: `first`/`after` paging and a filter input, over `node_type`;
    `nullable` for a protected one (refused, it is null with an error)."""

    async def resolve(
        info: Info, first: int | None = None, after: str | None = None, filter: Any = None
    ) -> Any:
        where = listed_conditions(node_type.__model__, filter)
        return await paginate(info, node_type, first=first, after=after, where=where)

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
        "filter": Annotated[
            filter_type | None, strawberry.argument(description="Only nodes that match all of it.")
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
