"""A search's one statement: the counts per kind and the page of hits, with their nodes.

The counts and the page are model/search_query.py's own SQL, as the resolver runs it, read
here as subqueries; each hit's row carries its nodes' arrays (planner/sql.py `node_array`),
one per node selection, for the kind the hit is.  The database returns
`[[[entity_type, n], …], [[entity_type, entity_id, exact, score, h0, …, node, …], …]]`.

Nearly every search is a new plan (the plan is kept by its variables, and the words differ),
and building and compiling the statement costs several times what the search costs the
database: it is compiled once for the same selection, kinds and number of words, and each
search puts its own values in.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Dialect,
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

from atmp_graph.model import search_query
from atmp_graph.model.search_query import SearchSql
from atmp_graph.schema.memo import Memo
from atmp_graph.schema.planner.driver_sql import DriverStatement, DriverTemplate, driver_template
from atmp_graph.schema.planner.json_sql import JsonDialect, json_dialect
from atmp_graph.schema.planner.plan import (
    Constant,
    GlobalId,
    NodeShape,
    ToMany,
    ToOne,
    Value,
)
from atmp_graph.schema.planner.search_shape import Slot
from atmp_graph.schema.planner.sql import node_array
from atmp_graph.schema.search import SearchRequest

HIT_COLUMNS = ("entity_type", "entity_id", "exact", "score")
_TEMPLATES: Memo[DriverTemplate] = Memo(size=256)


def search_driver_statement(
    request: SearchRequest, slots: Sequence[Slot], dialect: Dialect
) -> DriverStatement:
    """The statement of this search, compiled once for every search of its form."""
    form = (
        dialect.name,
        dialect.paramstyle,
        len(request.words),
        request.start is None,
        request.wanted,
        tuple(tuple((kind, _shape_form(shape)) for kind, shape in slot) for slot in slots),
    )
    json = json_dialect(dialect.name)
    template = _TEMPLATES.get(
        form, lambda: driver_template(search_statement(request, slots, json), dialect)
    )
    return template.statement(_values(request, json.name), counts=False)


def _values(request: SearchRequest, dialect: str) -> dict[str, Any]:
    """The search's own bound values (the kinds' list is its form's)."""
    values = dict(search_query.counts_sql(request.words, dialect).parameters)
    if request.wanted:
        page = _page(request, dialect)
        values |= {k: v for k, v in page.parameters.items() if k not in page.expanding}
    return values


def _shape_form(shape: NodeShape) -> tuple[Any, ...]:
    """What of a node shape its SQL depends on (not its response keys, nor its converters)."""
    return (shape.model, tuple(_entry_form(entry) for entry in shape.entries))


def _entry_form(entry: Any) -> tuple[Any, ...]:
    if isinstance(entry, Value):
        return ("value", entry.column)
    if isinstance(entry, GlobalId | Constant):
        return (type(entry).__name__,)
    if isinstance(entry, ToOne):
        return ("one", str(entry.relation), _shape_form(entry.target))
    if isinstance(entry, ToMany):
        # A nested list's inputs are made into SQL with their values: all of them count.
        return (
            "many",
            str(entry.relation),
            _shape_form(entry.target),
            entry.most,
            repr(entry.order_by),
            repr(entry.filter),
        )
    raise TypeError(f"no form for {entry!r}")


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
    # None when no kind is listed, as the resolver asks for none.
    page_json: ColumnElement[Any] = json.array()
    if request.wanted:
        page = _page(request, json.name)
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


def _page(request: SearchRequest, dialect: str) -> SearchSql:
    # What the resolver asks for: one hit more than the page says whether there is a next.
    return search_query.page_sql(
        request.words,
        dialect,
        entity_types=request.entity_types,
        after=request.start,
        size=request.size + 1,
    )


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
        # The model's own table: the statement around reads no other.
        node: Any = shape.model
        found = select(node_array(node, shape, json)).where(node.id == entity_id)
        whens.append((entity_type == kind, found.scalar_subquery()))
    if not whens:
        return null()
    return json.nested(case(*whens, else_=null()))
