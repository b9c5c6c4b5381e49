"""Nested lists: a to-many relation as a list field (`first`, `orderBy`, `filter`) and, beside
it, as a connection (`<name>Connection`: the same and `after`, with totalCount and pageInfo).

Each loads through one statement per relation, arguments and request, whichever parents ask
(schema/loaders.py), numbering every parent's rows in the database so none returns more than
its page.  Without `orderBy` a nested list is in id order, as it always was.
"""

from collections.abc import Callable
from typing import Annotated, Any, get_args

import strawberry
from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty

from atmp_graph.schema.connection import Connection
from atmp_graph.schema.context import Info
from atmp_graph.schema.cost import PAGE_SIZE, PageSize
from atmp_graph.schema.errors import UserError
from atmp_graph.schema.keyset import decode_cursor, encode_cursor, fingerprint
from atmp_graph.schema.list_names import filter_type, order_type
from atmp_graph.schema.loaders import RelatedPage
from atmp_graph.schema.ordering import MAX_ORDER_KEYS, order_keys

RELATION = "atmp_graph.relation"
# The connection field beside a nested list names the relation under a key of its own, so
# what reads a type's relations (schema/list_spec.py) reads each once.
CONNECTION_OF = "atmp_graph.connection_of"
# What a nested list is, without what it says of its arguments: its connection's description.
ABOUT = "atmp_graph.about"
# A nested list returns at most this many nodes: without it, one sponsor's trials, each
# trial's sites, ... multiply into an answer no client asked for.
NESTED_PAGE = PageSize(default=20, most=100)

NodeType = Callable[[], type[Any]]


def nested_size(first: int | None) -> int:
    size = NESTED_PAGE.default if first is None else first
    if not 0 <= size <= NESTED_PAGE.most:
        raise UserError(f"first: {size} is not between 0 and {NESTED_PAGE.most}")
    return size


def _target(relation: InstrumentedAttribute[Any]) -> Any:
    prop = relation.property
    assert isinstance(prop, RelationshipProperty)
    return prop.mapper.class_


FIRST = f"How many (default {NESTED_PAGE.default}, most {NESTED_PAGE.most})."
ORDER = f"Sort keys, the first first (at most {MAX_ORDER_KEYS}); the id ends every order."
FILTER = "Only those that match all of it."


def nested_list(
    relation: InstrumentedAttribute[Any], *, description: str, node_type: NodeType
) -> Any:
    """The list field of a to-many relation: its first nodes, in id order or `orderBy`."""
    target = _target(relation)
    order, filters = order_type(target), filter_type(target)

    async def resolve(
        root: Any,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        order_by: Annotated[list[order] | None, strawberry.argument(description=ORDER)] = None,  # type: ignore[valid-type]
        filter: Annotated[filters | None, strawberry.argument(description=FILTER)] = None,  # type: ignore[valid-type]
    ) -> Any:
        page = RelatedPage(most=nested_size(first), order_by=order_by, filter=filter)
        found = await info.context.loaders.related_page(relation, page).load(root.id)
        return node_type().from_rows(found.rows)

    return strawberry.field(
        resolver=resolve,
        description=f"{description} The first {NESTED_PAGE.default} in id order, or `first` "
        f"of them (at most {NESTED_PAGE.most}) in the order `orderBy` asks; `filter` narrows "
        "them.",
        metadata={RELATION: relation, PAGE_SIZE: NESTED_PAGE, ABOUT: description},
    )


def element_type(annotation: Any, module: str) -> Any:
    """The node type of a list field's annotation, lazy where it names a type by string."""
    (element,) = get_args(annotation)
    return Annotated[element, strawberry.lazy(module)] if isinstance(element, str) else element


def nested_connection(
    relation: InstrumentedAttribute[Any], *, description: str, element: Any, node_type: NodeType
) -> Any:
    """The connection field beside a nested list: pages after a cursor, with totalCount."""
    target = _target(relation)
    order, filters = order_type(target), filter_type(target)
    name = str(relation)

    async def resolve(
        root: Any,
        info: Info,
        *,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Start after this edge's cursor.")
        ] = None,
        order_by: Annotated[list[order] | None, strawberry.argument(description=ORDER)] = None,  # type: ignore[valid-type]
        filter: Annotated[filters | None, strawberry.argument(description=FILTER)] = None,  # type: ignore[valid-type]
    ) -> Connection[element]:
        list_fingerprint = fingerprint(name, order_by, filter)
        values = None
        if after is not None:
            keys = order_keys(target, order_by)
            values = tuple(decode_cursor(after, keys, list_fingerprint))
        page = RelatedPage(
            most=nested_size(first), order_by=order_by, filter=filter, after=values, connection=True
        )
        found = await info.context.loaders.related_page(relation, page).load(root.id)
        shown = found.rows[: page.most]
        return Connection.of(
            node_type().from_rows(shown),
            cursors=[encode_cursor(keys, list_fingerprint) for keys in found.keys[: page.most]],
            total=found.total,
            has_next=len(found.rows) > page.most,
            has_previous=after is not None,
        )

    return strawberry.field(
        resolver=resolve,
        description=f"{description} As a connection: pages of `first` (default "
        f"{NESTED_PAGE.default}, most {NESTED_PAGE.most}) after a cursor, with totalCount.",
        metadata={CONNECTION_OF: relation, PAGE_SIZE: NESTED_PAGE},
    )
