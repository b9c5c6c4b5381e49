"""The page types every list returns: a connection of edges, each with its cursor."""

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay

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
    def of(
        cls,
        nodes: Sequence[Any],
        *,
        cursors: Sequence[str],
        total: int,
        has_next: bool,
        has_previous: bool,
    ) -> "Connection[Any]":
        """A page of `nodes` with their cursors, in a list of `total`."""
        edges = [
            Edge(cursor=cursor, node=node) for node, cursor in zip(nodes, cursors, strict=True)
        ]
        page_info = relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return Connection(total_count=total, page_info=page_info, edges=edges)
