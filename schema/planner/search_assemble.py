"""A planned search's answer, from its statement's JSON.

The counts and hits become the resolver's own answer (schema/search.py `search_results`:
the same totals, cursors, page info and highlights), whose asked-for fields are then picked
in the document's order; each hit's node is built from its array (planner/assemble.py).
"""

from collections.abc import Callable, Sequence
from typing import Any

from atmp_graph.model import search_query
from atmp_graph.schema.planner.assemble import node_builder
from atmp_graph.schema.planner.search_shape import Pick, Slot
from atmp_graph.schema.search import SearchRequest, search_results

# The values of a hit's row before its highlights (planner/search_sql.py HIT_COLUMNS).
_HIT = 4


def search_builder(
    request: SearchRequest, picks: Sequence[Pick], slots: Sequence[Slot], dialect: str
) -> Callable[[Any, int | None], dict[str, Any]]:
    builders = [{kind: node_builder(shape) for kind, shape in slot} for slot in slots]
    nodes_at = _HIT + search_query.highlight_count(dialect)

    def build(values: Any, _total: int | None) -> dict[str, Any]:
        counts, rows = values
        counted = {str(entity_type): int(n) for entity_type, n in counts}
        hits = [search_query.hit(dialect, row[:nodes_at]) for row in rows]
        answer = search_results(request, counted, hits)
        # Each hit object of the answer, by identity, with its nodes' arrays.
        nodes = {
            id(edge.node): row[nodes_at:] for edge, row in zip(answer.edges, rows, strict=False)
        }

        def node(hit: Any, slot: int) -> Any:
            array = nodes[id(hit)][slot]
            return None if array is None else builders[slot][hit.type.value](array)

        return _picked(picks, answer, node)

    return build


def _picked(picks: Sequence[Pick], value: Any, node: Callable[[Any, int], Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for pick in picks:
        if pick.kind == "typename":
            answer[pick.key] = pick.type_name
        elif pick.kind == "node":
            answer[pick.key] = node(value, pick.slot)
        elif pick.kind == "hits":
            answer[pick.key] = [_picked(pick.picks, edge.node, node) for edge in value.edges]
        else:
            answer[pick.key] = _value(pick, getattr(value, pick.attribute), node)
    return answer


def _value(pick: Pick, value: Any, node: Callable[[Any, int], Any]) -> Any:
    if value is None or pick.kind == "value":
        return value
    if pick.kind == "enum":
        return value.name
    if pick.kind == "object":
        return _picked(pick.picks, value, node)
    return [_picked(pick.picks, item, node) for item in value]
