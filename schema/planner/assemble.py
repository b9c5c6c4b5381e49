"""The answer of a planned root field, assembled in one pass from the arrays its statement read.

Each shape becomes a function, made once per plan, that turns one node's array into the dict
the resolvers would have returned: the same keys in the same order, the same values.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from strawberry.relay.utils import to_base64

from atmp_graph.schema.keyset import Key, encode_cursor
from atmp_graph.schema.planner.plan import (
    ConnectionRoot,
    Constant,
    EdgesShape,
    GlobalId,
    NodeShape,
    NodesShape,
    PageInfoShape,
    ToMany,
    ToOne,
    Value,
)

Build = Callable[[list[Any]], dict[str, Any]]


def node_builder(shape: NodeShape) -> Build:
    """What turns a node's array (its shape's fields, constants left out) into its dict."""
    steps: list[tuple[str, int, Any, Any]] = []  # (key, position, kind, how)
    position = 0
    for entry in shape.entries:
        if isinstance(entry, Constant):
            steps.append((entry.key, -1, "constant", entry.value))
            continue
        if isinstance(entry, Value):
            steps.append((entry.key, position, "value", entry.convert))
        elif isinstance(entry, GlobalId):
            steps.append((entry.key, position, "id", entry.type_name))
        elif isinstance(entry, ToOne):
            steps.append((entry.key, position, "one", node_builder(entry.target)))
        elif isinstance(entry, ToMany):
            steps.append((entry.key, position, "many", node_builder(entry.target)))
        position += 1

    def build(values: list[Any]) -> dict[str, Any]:
        node: dict[str, Any] = {}
        for key, at, kind, how in steps:
            if kind == "constant":
                node[key] = how
                continue
            value = values[at]
            if value is None:
                node[key] = None
            elif kind == "value":
                node[key] = value if how is None else how(value)
            elif kind == "id":
                node[key] = to_base64(how, value)
            elif kind == "one":
                node[key] = how(value)
            else:
                node[key] = [how(item) for item in value]
        return node

    return build


def node_root_builder(shape: NodeShape) -> Callable[[Any, int | None], Any]:
    """What turns `node(id:)`'s JSON (null when no node has the id) into its answer."""
    build = node_builder(shape)

    def answer(values: Any, _total: int | None) -> Any:
        return None if values is None else build(values)

    return answer


def _key_value(key: Key, value: Any) -> Any:
    """A sort key's value as the database's JSON gives it, as the resolvers read it (a date
    or a moment from its text; a SQLite boolean from 0 or 1), so both write the same cursor."""
    if value is None:
        return None
    if key.kind is dt.date or key.kind is dt.datetime:
        return key.kind.fromisoformat(value)
    return bool(value) if key.kind is bool else value


def connection_builder(root: ConnectionRoot) -> Callable[[list[Any], int | None], dict[str, Any]]:
    """What turns a root's page (rows of [sort key values…, node arrays…]) and total into its
    connection."""
    builders = [node_builder(shape) for shape in root.shapes]
    size, keys, list_fingerprint = root.size, root.keys, root.fingerprint
    after = root.after is not None

    def cursor(row: list[Any]) -> str:
        values = [_key_value(key, value) for key, value in zip(keys, row, strict=False)]
        return encode_cursor(values, list_fingerprint)

    def build(rows: list[Any], total: int | None) -> dict[str, Any]:
        has_next = len(rows) > size
        rows = rows[:size]
        answer: dict[str, Any] = {}
        shape_at = len(keys)
        for part in root.parts:
            if isinstance(part, Constant):
                answer[part.key] = part.value
            elif isinstance(part, Value):
                answer[part.key] = total
            elif isinstance(part, PageInfoShape):
                ends = (cursor(rows[0]), cursor(rows[-1])) if rows else (None, None)
                answer[part.key] = _page_info(part, ends, has_next=has_next, after=after)
            elif isinstance(part, NodesShape):
                build_node = builders[shape_at - len(keys)]
                answer[part.key] = [build_node(row[shape_at]) for row in rows]
                shape_at += 1
            elif isinstance(part, EdgesShape):
                node = builders[shape_at - len(keys)] if part.node is not None else None
                answer[part.key] = _edges(part, rows, cursor, node, shape_at)
                shape_at += part.node is not None
        return answer

    return build


def _edges(
    part: EdgesShape,
    rows: list[Any],
    cursor: Callable[[list[Any]], str],
    build_node: Build | None,
    shape_at: int,
) -> list[dict[str, Any]]:
    edges = []
    for row in rows:
        edge: dict[str, Any] = {}
        for key, name in part.fields:
            if name == "cursor":
                edge[key] = cursor(row)
            elif name == "node":
                assert build_node is not None
                edge[key] = build_node(row[shape_at])
            else:
                edge[key] = part.type_name
        edges.append(edge)
    return edges


def _page_info(
    part: PageInfoShape, ends: tuple[str | None, str | None], *, has_next: bool, after: bool
) -> dict[str, Any]:
    values = {
        "hasNextPage": has_next,
        "hasPreviousPage": after,
        "startCursor": ends[0],
        "endCursor": ends[1],
        "__typename": "PageInfo",
    }
    return {key: values[name] for key, name in part.fields}
