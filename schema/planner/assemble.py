"""The answer of a planned root field, assembled in one pass from the arrays its statement read.

Each shape becomes a function, made once per plan, that turns one node's array into the dict
the resolvers would have returned: the same keys in the same order, the same values.
"""

import datetime as dt
import functools
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


Step = tuple[str, int, str, Any]  # (response key, position in the array, kind, how)


def node_builder(shape: NodeShape) -> Build:
    """What turns a node's JSON array (its shape's fields, constants left out) into its dict."""
    return _build(_steps(shape, 0, flat=False)[0])


def flat_node_builder(shape: NodeShape, position: int = 0) -> Build:
    """What turns a node's fields as flat text (schema/planner/rows_sql.py), from `position`
    of a row or an array, into its dict: each field at a place fixed by the plan, a relation to
    one flattened behind its marker."""
    return _build(_steps(shape, position, flat=True)[0])


def _steps(shape: NodeShape, position: int, *, flat: bool) -> tuple[list[Step], int]:
    """The steps that read `shape` from `position` on, and the position after it.  As JSON a
    relation to one is a nested array; `flat`, its fields follow its marker in place."""
    steps: list[Step] = []
    for entry in shape.entries:
        if isinstance(entry, Constant):
            steps.append((entry.key, -1, "constant", entry.value))
            continue
        if isinstance(entry, Value):
            steps.append((entry.key, position, "value", entry.from_text if flat else entry.convert))
        elif isinstance(entry, GlobalId):
            steps.append((entry.key, position, "id", entry.type_name))
        elif isinstance(entry, ToMany):
            nested = flat_node_builder(entry.target) if flat else node_builder(entry.target)
            steps.append((entry.key, position, "many", nested))
        elif isinstance(entry, ToOne) and flat:
            inner, after = _steps(entry.target, position + 1, flat=True)
            steps.append((entry.key, position, "flat", inner))
            position = after
            continue
        elif isinstance(entry, ToOne):
            steps.append((entry.key, position, "one", node_builder(entry.target)))
        position += 1
    return steps, position


def _build(steps: list[Step]) -> Build:
    """One function that builds the node in a single dict display.

    Its source is generated from the steps: a loop over them, deciding each field's kind for
    every node, was the largest part of our server's time on the peer benchmark's small
    question.  Nothing from a request goes into the source: keys are GraphQL names (written
    with repr), positions are numbers, and every function or constant is passed by name."""
    names: dict[str, Any] = {"to_base64": to_base64}
    source = f"def build(v):\n    return {_display(steps, names)}\n"
    exec(compile(source, "<planned node>", "exec"), names)
    build: Build = names["build"]
    return build


def _display(steps: list[Step], names: dict[str, Any]) -> str:
    """The dict display of `steps` over the array `v`; `names` gets what it refers to."""
    items = []
    for key, at, kind, how in steps:
        name = f"h{len(names)}"
        if kind == "constant":
            names[name] = how
            value = name
        elif kind == "value" and how is None:
            value = f"v[{at}]"
        elif kind == "flat":  # its fields follow its marker in the same array
            value = f"None if v[{at}] is None else {_display(how, names)}"
        else:
            names[name] = how
            made = {
                "value": f"{name}(x)",
                "id": f"to_base64({name}, x)",
                "one": f"{name}(x)",
                "many": f"[{name}(item) for item in x]",
            }[kind]
            value = f"None if (x := v[{at}]) is None else {made}"
        items.append(f"{key!r}: ({value})")
    return "{" + ", ".join(items) + "}"


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


def connection_builder(
    root: ConnectionRoot, *, flat: bool = False
) -> Callable[[list[Any], int | None], dict[str, Any]]:
    """What turns a root's page and total into its connection.  A row of the page is its sort
    keys' values, then a JSON array per node shape, or, `flat`, every shape's fields as text
    (compact rows, whose keys come as the driver reads them)."""
    builders = _row_builders(root, flat=flat)
    size, keys, list_fingerprint = root.size, root.keys, root.fingerprint
    after = root.after is not None

    def cursor(row: list[Any]) -> str:
        values = (
            row[: len(keys)]
            if flat
            else [_key_value(key, value) for key, value in zip(keys, row, strict=False)]
        )
        return encode_cursor(values, list_fingerprint)

    def build(rows: list[Any], total: int | None) -> dict[str, Any]:
        has_next = len(rows) > size
        rows = rows[:size]
        answer: dict[str, Any] = {}
        shape_at = 0
        for part in root.parts:
            if isinstance(part, Constant):
                answer[part.key] = part.value
            elif isinstance(part, Value):
                answer[part.key] = total
            elif isinstance(part, PageInfoShape):
                ends = (cursor(rows[0]), cursor(rows[-1])) if rows else (None, None)
                answer[part.key] = _page_info(part, ends, has_next=has_next, after=after)
            elif isinstance(part, NodesShape):
                build_node = builders[shape_at]
                answer[part.key] = [build_node(row) for row in rows]
                shape_at += 1
            elif isinstance(part, EdgesShape):
                node = builders[shape_at] if part.node is not None else None
                answer[part.key] = _edges(part, rows, cursor, node)
                shape_at += part.node is not None
        return answer

    return build


def _row_builders(root: ConnectionRoot, *, flat: bool) -> list[Build]:
    """What turns a page's row into the node of each of the root's shapes."""
    builders: list[Build] = []
    position = len(root.keys)
    for shape in root.shapes:
        if flat:
            builders.append(flat_node_builder(shape, position))
            position = _steps(shape, position, flat=True)[1]
        else:
            builders.append(functools.partial(_node_at, node_builder(shape), position))
            position += 1
    return builders


def _node_at(build: Build, position: int, row: list[Any]) -> dict[str, Any]:
    return build(row[position])


def _edges(
    part: EdgesShape,
    rows: list[Any],
    cursor: Callable[[list[Any]], str],
    build_node: Build | None,
) -> list[dict[str, Any]]:
    edges = []
    for row in rows:
        edge: dict[str, Any] = {}
        for key, name in part.fields:
            if name == "cursor":
                edge[key] = cursor(row)
            elif name == "node":
                assert build_node is not None
                edge[key] = build_node(row)
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
