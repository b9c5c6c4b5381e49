"""A search's one statement: the counts per kind and the page of hits, with their nodes.

The counts and the page are model/search_query.py's own SQL, as the resolver runs it, read
here as subqueries; each hit's row carries its nodes' arrays (planner/sql.py `node_array`),
one per node selection, for the kind the hit is.  The database returns
`[[[entity_type, n], …], [[entity_type, entity_id, exact, score, h0, …, node, …], …]]`.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    TextClause,
    bindparam,
    case,
    column,
    func,
    null,
    select,
    text,
)
from sqlalchemy.orm import aliased

from atmp_graph.model import search_query
from atmp_graph.model.search_query import SearchSql
from atmp_graph.schema.planner.json_sql import JsonDialect
from atmp_graph.schema.planner.search_shape import Slot
from atmp_graph.schema.planner.sql import node_array
from atmp_graph.schema.search import SearchRequest

HIT_COLUMNS = ("entity_type", "entity_id", "exact", "score")


def search_statement(
    request: SearchRequest, slots: Sequence[Slot], json: JsonDialect
) -> Select[Any]:
    counted = _bound(search_query.counts_sql(request.words, json.name))
    counts = counted.columns(column("entity_type"), column("n")).subquery("counted")
    counts_json = (
        select(json.aggregate(json.array(counts.c.entity_type, counts.c.n)))
        .select_from(counts)
        .scalar_subquery()
    )
    # What the resolver asks for: none when no kind is listed, else one hit more than the page.
    page_json: ColumnElement[Any] = json.array()
    if request.wanted:
        page = search_query.page_sql(
            request.words,
            json.name,
            entity_types=request.entity_types,
            after=request.start,
            size=request.size + 1,
        )
        highlights = [f"h{n}" for n in range(search_query.highlight_count(json.name))]
        hits = (
            _bound(page)
            .columns(*(column(name) for name in (*HIT_COLUMNS, *highlights)))
            .subquery("hits")
        )
        row = json.array(
            hits.c.entity_type,
            hits.c.entity_id,
            hits.c.exact,
            _exact_score(hits.c.score, json),
            *(hits.c[name] for name in highlights),
            *(_node(slot, hits.c.entity_type, hits.c.entity_id, json) for slot in slots),
        )
        page_json = select(json.aggregate(row)).select_from(hits).scalar_subquery()
    answer = json.array(json.nested(counts_json), json.nested(page_json))
    return select(json.as_text(answer).label("page"))


def _bound(found: SearchSql) -> TextClause:
    lists: list[BindParameter[Any]] = [
        bindparam(name, value=found.parameters[name], expanding=True) for name in found.expanding
    ]
    values = {name: v for name, v in found.parameters.items() if name not in found.expanding}
    return text(found.sql).bindparams(*lists, **values)


def _exact_score(score: ColumnElement[Any], json: JsonDialect) -> ColumnElement[Any]:
    """The score as JSON gives back the very double the resolver reads (its cursor holds it):
    PostgreSQL's JSON spells a double exactly, SQLite's to 15 digits, where 21 are exact."""
    if json.name == "postgresql":
        return score
    return func.printf("%!.20e", score)


def _node(
    slot: Slot,
    entity_type: ColumnElement[Any],
    entity_id: ColumnElement[Any],
    json: JsonDialect,
) -> ColumnElement[Any]:
    """The hit's node's array, of the shape for its kind."""
    whens = []
    for kind, shape in slot:
        node: Any = aliased(shape.model)
        found = select(node_array(node, shape, json)).where(node.id == entity_id)
        whens.append((entity_type == kind, found.scalar_subquery()))
    if not whens:
        return null()
    return json.nested(case(*whens, else_=null()))
