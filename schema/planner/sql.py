"""One SQL statement per planned root field: the page, its nodes' fields and their relations.

Each node is read as a compact JSON array of the fields its shape asks for, each relation as a
correlated subquery inside it, so the database returns the whole answer of a root field in one
row: `[[node], [node], …]` and, when asked, the total.  Only the columns asked for are read.
"""

from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Integer, Select, and_, bindparam, func, select
from sqlalchemy.orm import RelationshipProperty, aliased

from atmp_graph.model import EntityRedirect
from atmp_graph.schema.filtering import filter_conditions
from atmp_graph.schema.keyset import after_condition, order_clauses
from atmp_graph.schema.ordering import order_keys
from atmp_graph.schema.planner.json_sql import JsonDialect
from atmp_graph.schema.planner.plan import (
    ConnectionRoot,
    GlobalId,
    NodeRoot,
    NodeShape,
    ToMany,
    ToOne,
    Value,
)

Entity = Any  # a model class or an aliased one


def written_limit(rows: int) -> BindParameter[int]:
    """A LIMIT written into the statement's text rather than sent as a parameter.

    A plan fixes its limits anyway (they come from the document), and PostgreSQL plans a
    prepared statement whose LIMIT is a parameter for 10 % of the rows, so that generic plan
    always looks dearer than one made for the value: it re-planned our page statement on every
    execution (0 generic plans in 315, about 0.2 ms of its CPU each time).  With the number
    in the text, a statement with no other parameter has one plan, made once per connection."""
    return bindparam(None, int(rows), type_=Integer, literal_execute=True)


def root_statement(root: ConnectionRoot, json: JsonDialect) -> Select[Any]:
    """The statement that answers `root`: its page as JSON text, and its total if asked.

    Each row of the page is its sort keys' values (for its cursor) and its node arrays."""
    model: Any = root.model
    keys = [key.expression.label(f"k{i}") for i, key in enumerate(root.keys)]
    arrays = [node_array(model, shape, json).label(f"n{i}") for i, shape in enumerate(root.shapes)]
    after = [] if root.after is None else [after_condition(root.keys, root.after)]
    # One row more than the page says whether there is a next page.
    page = (
        select(*keys, *arrays)
        .where(*root.where, *after)
        .order_by(*order_clauses(root.keys))
        .limit(written_limit(root.size + 1))
        .subquery("page")
    )
    values = [page.c[f"k{i}"] for i in range(len(keys))]
    row = json.array(*values, *(json.nested(page.c[f"n{i}"]) for i in range(len(arrays))))
    nodes = select(json.aggregate(row)).select_from(page).scalar_subquery()
    columns: list[ColumnElement[Any]] = [json.as_text(nodes).label("page")]
    if root.counts:
        total = select(func.count()).select_from(model).where(*root.where).scalar_subquery()
        columns.append(total.label("total"))
    return select(*columns)


def node_statement(root: NodeRoot, json: JsonDialect) -> Select[Any]:
    """The statement that answers `node(id:)`: the node's JSON, or null; an id merged away
    finds its survivor, as the resolver's lookup does."""
    model: Any = root.model
    if root.row is not None:
        one = select(node_array(model, root.shape, json)).where(model.id == root.row)
        return select(json.as_text(one.scalar_subquery()).label("page"))
    found = select(model.id).where(model.id == root.row_id).scalar_subquery()
    moved = (
        select(EntityRedirect.new_id)
        .where(
            EntityRedirect.entity_type == model.__tablename__,
            EntityRedirect.old_id == root.row_id,
        )
        .scalar_subquery()
    )
    row = select(node_array(model, root.shape, json)).where(model.id == func.coalesce(found, moved))
    return select(json.as_text(row.scalar_subquery()).label("page"))


def node_array(entity: Entity, shape: NodeShape, json: JsonDialect) -> ColumnElement[Any]:
    """The JSON array of what `shape` reads of the row `entity` stands for."""
    items: list[ColumnElement[Any]] = []
    for entry in shape.entries:
        if isinstance(entry, Value):
            items.append(getattr(entity, entry.column))
        elif isinstance(entry, GlobalId):
            items.append(entity.id)
        elif isinstance(entry, ToOne):
            items.append(json.nested(_to_one(entity, entry, json)))
        elif isinstance(entry, ToMany):
            items.append(json.nested(_to_many(entity, entry, json)))
    return json.array(*items)


def _to_one(entity: Entity, entry: ToOne, json: JsonDialect) -> ColumnElement[Any]:
    prop = entry.relation.property
    assert isinstance(prop, RelationshipProperty)
    target = aliased(prop.mapper.class_)
    found = select(node_array(target, entry.target, json)).select_from(target)
    return related(found, entity, target, prop).scalar_subquery()


def _to_many(entity: Entity, entry: ToMany, json: JsonDialect) -> ColumnElement[Any]:
    prop = entry.relation.property
    assert isinstance(prop, RelationshipProperty)
    target: Any = aliased(prop.mapper.class_)
    rows = (
        select(node_array(target, entry.target, json).label("node"))
        .select_from(target)
        .where(*filter_conditions(target, entry.filter))
    )
    # The first `most` in the order the resolvers' loader numbers them.
    first = (
        related(rows, entity, target, prop)
        .order_by(*order_clauses(order_keys(target, entry.order_by)))
        .limit(written_limit(entry.most))
        .correlate(entity)
        .subquery()
    )
    return select(json.aggregate(json.nested(first.c.node))).select_from(first).scalar_subquery()


def related(
    statement: Select[Any],
    parent: Entity,
    target: Entity,
    prop: RelationshipProperty[Any],
) -> Select[Any]:
    """`statement` over `target`, kept to the rows `prop` relates to the row `parent` is."""
    if prop.secondary is None:
        pairs = [
            column_of(target, prop.mapper, remote) == column_of(parent, prop.parent, local)
            for local, remote in prop.local_remote_pairs
        ]
        return statement.where(and_(*pairs))
    link = prop.secondary.alias()
    to_target = [
        column_of(target, prop.mapper, target_column) == link.c[link_column.name]
        for target_column, link_column in prop.secondary_synchronize_pairs or ()
    ]
    to_parent = [
        link.c[link_column.name] == column_of(parent, prop.parent, parent_column)
        for parent_column, link_column in prop.synchronize_pairs
    ]
    return statement.join(link, and_(*to_target)).where(and_(*to_parent))


def column_of(entity: Entity, mapper: Any, column: Any) -> Any:
    return getattr(entity, mapper.get_property_by_column(column).key)
