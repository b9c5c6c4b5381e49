"""A read operation planned from the declarative mapping: what each root field asks of the model.

The planner walks the operation as graphql-core executes it (fragments, aliases, @skip and
@include merged by graphql-core's own `collect_subfields`) and describes each root field it can
answer with one SQL statement: a list of a mapped type, its nodes' columns and the relations
followed from them.  What it cannot describe (a field with a resolver of its own, a field the
viewer may not see, an argument the resolvers would refuse) leaves that root field to the
resolvers, which answer it exactly as they answer everything else.
"""

import dataclasses
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    is_list_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_subfields
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import ColumnElement, Dialect
from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty
from strawberry import relay
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from atmp_graph.access.viewer import Viewer
from atmp_graph.model import Base
from atmp_graph.schema.connection import Connection
from atmp_graph.schema.cost import PAGE_SIZE
from atmp_graph.schema.filtering import filter_conditions
from atmp_graph.schema.ids import small_number
from atmp_graph.schema.keyset import Key, decode_cursor, fingerprint
from atmp_graph.schema.mapping import ONE_ROW, Mapped, column_names
from atmp_graph.schema.nested import RELATION
from atmp_graph.schema.ordering import order_keys
from atmp_graph.schema.pagination import BY_FILTER, listed_conditions, page_size
from atmp_graph.schema.planner.driver_sql import DriverStatement
from atmp_graph.schema.visibility import FIELD_TIERS, PUBLIC, TYPE_TIERS

DEFINITION = "strawberry-definition"
# The arguments the planner reads: of a root list, and of a nested one.
ROOT_ARGUMENTS = frozenset({"first", "after", "filter", "orderBy"})
NESTED_ARGUMENTS = frozenset({"first", "filter", "orderBy"})
Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class Value:
    """A column read as it is stored: `convert` makes its JSON value what the resolvers would
    return, `from_text` its text (schema/planner/rows_sql.py)."""

    key: str
    column: str
    convert: Convert | None = None
    from_text: Convert | None = None


@dataclass(frozen=True)
class Constant:
    """A value known from the plan alone, such as `__typename`."""

    key: str
    value: Any


@dataclass(frozen=True)
class GlobalId:
    """A Relay node's `id`: its type name and row id, in base64."""

    key: str
    type_name: str


@dataclass(frozen=True)
class ToOne:
    key: str
    relation: InstrumentedAttribute[Any]
    target: "NodeShape"


@dataclass(frozen=True)
class ToMany:
    """A nested list: the first `most` rows at the end of `relation` that match `filter`, in
    the order of `order_by` (id order without one): the inputs its resolver would get."""

    key: str
    relation: InstrumentedAttribute[Any]
    target: "NodeShape"
    most: int
    order_by: Any = None
    filter: Any = None


Entry = Value | Constant | GlobalId | ToOne | ToMany


@dataclass(frozen=True)
class NodeShape:
    """What is read of each row of `model`: the answer's fields, in the answer's order."""

    model: type[Base]
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class PageInfoShape:
    key: str
    # (response key, PageInfo field name) in the answer's order
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EdgesShape:
    key: str
    # (response key, "cursor" | "node" | "__typename") and the node's shape
    fields: tuple[tuple[str, str], ...]
    node: NodeShape | None
    type_name: str


@dataclass(frozen=True)
class NodesShape:
    key: str
    node: NodeShape


Part = Constant | PageInfoShape | EdgesShape | NodesShape | Value


@dataclass(frozen=True)
class ConnectionRoot:
    """A root connection field: one page of `model` rows that match `where`, in the order of
    `keys` (schema/ordering.py), after the key values `after` (a decoded cursor)."""

    key: str
    model: type[Base]
    where: tuple[ColumnElement[bool], ...]
    size: int
    keys: tuple[Key, ...]
    after: tuple[Any, ...] | None
    # What its cursors are made for: the list, its order and its filter (schema/keyset.py).
    fingerprint: str
    parts: tuple[Part, ...]  # totalCount is a Value with column "total"

    @property
    def counts(self) -> bool:
        return any(isinstance(part, Value) for part in self.parts)

    @property
    def shapes(self) -> list[NodeShape]:
        """The node shapes of its `edges` and `nodes` (each read in the same statement)."""
        found: list[NodeShape] = []
        for part in self.parts:
            node = getattr(part, "node", None)
            if node is not None:
                found.append(node)
        return found


@dataclass(frozen=True)
class NodeRoot:
    """One node: `node(id:)` (the row of `model` with `row_id`, or the one it was merged
    into), or a field that finds its row by a lookup (`row`: the row id, as SQL)."""

    key: str
    model: type[Base]
    shape: NodeShape
    row_id: int | None = None
    row: ColumnElement[Any] | None = None


class OwnRoot(ABC):
    """A root field that a module of its own plans (stats_plan.py, search_plan.py): it says
    how its one statement is made and its answer assembled."""

    key: str

    @abstractmethod
    def compiled(
        self, dialect: Dialect
    ) -> tuple[DriverStatement, Callable[[Any, int | None], Any]]:
        """Its statement (one row: its answer's JSON as text) and what builds its answer."""


Root = ConnectionRoot | NodeRoot | OwnRoot
# A kind of root field planned by a module of its own (stats_plan.py, search_plan.py), for the
# fields whose metadata has its key: (planner, response key, field, its Strawberry field, its
# selections) -> its Root.
RootKind = Callable[["Planner", str, GraphQLField, StrawberryField, list[FieldDetails]], Root]


@dataclass(frozen=True)
class OperationPlan:
    """Which root fields of an operation the planner answers, and which it leaves."""

    roots: tuple[Root, ...]
    left: tuple[str, ...]  # response keys the resolvers answer
    order: tuple[str, ...]  # every response key, in the answer's order


class NotPlanned(Exception):
    """What the planner cannot describe; the resolvers answer it."""


@dataclass
class Planner:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    viewer: Viewer
    scalars: Any  # Strawberry's scalar registry, to convert arguments as the resolvers get them
    config: Any
    # Root kinds planned elsewhere, by the metadata key that marks their fields.
    kinds: Mapping[str, RootKind] = dataclasses.field(default_factory=dict)

    def plan(self, roots: dict[str, list[FieldDetails]]) -> OperationPlan:
        query = self.schema.query_type
        assert query is not None
        planned, left = [], []
        for key, details in roots.items():
            try:
                planned.append(self._root(key, query, details))
            except Exception:
                # NotPlanned, or an argument the resolvers refuse: they say why, in their
                # own words, as they do when there is no planner.
                left.append(key)
        return OperationPlan(roots=tuple(planned), left=tuple(left), order=tuple(roots))

    def _subfields(
        self, parent: GraphQLObjectType, details: list[FieldDetails]
    ) -> dict[str, list[FieldDetails]]:
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, parent, details
        )
        if collected.new_defer_usages:
            raise NotPlanned("@defer")
        return collected.grouped_field_set

    def _arguments(
        self, definition: GraphQLField, details: list[FieldDetails], *, known: frozenset[str]
    ) -> dict[str, Any]:
        """The field's arguments as its resolver would receive them; an argument the planner
        does not know (an ordering, say) leaves the field to the resolvers."""
        raw = get_argument_values(definition, details[0].node, self.variables)
        unknown = {name for name, value in raw.items() if value is not None} - known
        if unknown:
            raise NotPlanned(f"arguments {sorted(unknown)}")
        field = _strawberry_field(definition)
        return convert_arguments(raw, field.arguments, self.scalars, self.config)

    def _check_visible(self, parent: str, field: StrawberryField, returned: Any) -> None:
        tier = FIELD_TIERS.get((parent, field.python_name), PUBLIC)
        named = getattr(get_named_type(returned), "name", "")
        if not (self.viewer.may(tier) and self.viewer.may(TYPE_TIERS.get(named, PUBLIC))):
            raise NotPlanned("refused to this viewer")

    def _root(self, key: str, query: GraphQLObjectType, details: list[FieldDetails]) -> Root:
        name = details[0].node.name.value
        definition = query.fields.get(name)
        if definition is None:
            raise NotPlanned(name)
        if name == "node":
            return self._node(key, definition, details)
        field = _strawberry_field(definition)
        for marker, plan_kind in self.kinds.items():
            if marker in field.metadata:
                return plan_kind(self, key, definition, field, details)
        if ONE_ROW in field.metadata:
            return self._one_row(key, definition, field, details)
        if PAGE_SIZE not in field.metadata:
            raise NotPlanned(f"{name} is not a connection")
        if not field.metadata.get(BY_FILTER):
            # quarantinedRecords lists only OPEN ones by default, auditLog reads `since` and
            # `until` as moments: what its resolver does, no plan of its filter would.
            raise NotPlanned(f"{name} has a resolver of its own")
        self._check_visible("Query", field, definition.type)
        connection = get_named_type(definition.type)
        assert isinstance(connection, GraphQLObjectType)
        node_type = _connection_node_type(connection)
        arguments = self._arguments(definition, details, known=ROOT_ARGUMENTS)
        model: Any = node_type.__model__
        # The resolvers' own WHERE, order and cursors (schema/pagination.py `paginate`), so a
        # planned list lists what they (and its stats) count, in their order, on their pages.
        filters, order_by, after = (arguments.get(name) for name in ("filter", "order_by", "after"))
        where = tuple(listed_conditions(model, filters))
        keys = tuple(order_keys(model, order_by))
        list_fingerprint = fingerprint(node_type.__name__, order_by, filters)
        values = None if after is None else tuple(decode_cursor(after, keys, list_fingerprint))
        parts = tuple(self._connection_parts(connection, details))
        return ConnectionRoot(
            key=key,
            model=model,
            where=where,
            size=page_size(arguments.get("first")),
            keys=keys,
            after=values,
            fingerprint=list_fingerprint,
            parts=parts,
        )

    def _node(self, key: str, definition: GraphQLField, details: list[FieldDetails]) -> NodeRoot:
        """`node(id:)` with an id that names a node type; what it cannot read (not base64,
        another type, a number no row has) the resolver answers as null."""
        raw = get_argument_values(definition, details[0].node, self.variables)
        global_id = relay.GlobalID.from_id(raw["id"])
        node_type = self.schema.type_map.get(global_id.type_name)
        row_id = small_number(global_id.node_id) or 0
        if not isinstance(node_type, GraphQLObjectType) or not row_id:
            raise NotPlanned("not a node's id")
        origin = _origin(node_type)
        if not issubclass(origin, relay.Node) or not self.viewer.may(
            TYPE_TIERS.get(node_type.name, PUBLIC)
        ):
            raise NotPlanned("not a node this viewer may see")
        shape = self._shape(node_type, details)
        return NodeRoot(key=key, model=origin.__model__, row_id=row_id, shape=shape)

    def _one_row(
        self,
        key: str,
        definition: GraphQLField,
        field: StrawberryField,
        details: list[FieldDetails],
    ) -> NodeRoot:
        """A field that finds one row by a lookup its module declares (`ONE_ROW`): the lookup's
        SQL finds the row id, as its resolver's does."""
        self._check_visible("Query", field, definition.type)
        node_type = get_named_type(definition.type)
        if not isinstance(node_type, GraphQLObjectType):
            raise NotPlanned("not one object")
        arguments = self._arguments(definition, details, known=frozenset(definition.args))
        row = field.metadata[ONE_ROW](**arguments)
        shape = self._shape(node_type, details)
        return NodeRoot(key=key, model=_origin(node_type).__model__, shape=shape, row=row)

    def _connection_parts(
        self, connection: GraphQLObjectType, details: list[FieldDetails]
    ) -> list[Part]:
        parts: list[Part] = []
        for key, sub in self._subfields(connection, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                parts.append(Constant(key, connection.name))
            elif name == "totalCount":
                parts.append(Value(key, "total"))
            elif name == "pageInfo":
                page_info = get_named_type(connection.fields[name].type)
                assert isinstance(page_info, GraphQLObjectType)
                fields = tuple(
                    (k, d[0].node.name.value) for k, d in self._subfields(page_info, sub).items()
                )
                parts.append(PageInfoShape(key, fields))
            elif name == "nodes":
                node = get_named_type(connection.fields[name].type)
                assert isinstance(node, GraphQLObjectType)
                parts.append(NodesShape(key, self._shape(node, sub)))
            elif name == "edges":
                parts.append(self._edges(key, connection, sub))
            else:
                raise NotPlanned(name)
        return parts

    def _edges(
        self, key: str, connection: GraphQLObjectType, details: list[FieldDetails]
    ) -> EdgesShape:
        edge = get_named_type(connection.fields["edges"].type)
        assert isinstance(edge, GraphQLObjectType)
        fields, node = [], None
        for sub_key, sub in self._subfields(edge, details).items():
            name = sub[0].node.name.value
            if name == "node":
                if node is not None:
                    raise NotPlanned("node under two aliases")
                node_type = get_named_type(edge.fields["node"].type)
                assert isinstance(node_type, GraphQLObjectType)
                node = self._shape(node_type, sub)
            elif name not in ("cursor", "__typename"):
                raise NotPlanned(name)
            fields.append((sub_key, name))
        return EdgesShape(key, tuple(fields), node, edge.name)

    def _shape(self, parent: GraphQLObjectType, details: list[FieldDetails]) -> NodeShape:
        origin = _origin(parent)
        entries = [
            self._entry(parent, origin, key, sub)
            for key, sub in self._subfields(parent, details).items()
        ]
        return NodeShape(model=origin.__model__, entries=tuple(entries))

    def _entry(
        self,
        parent: GraphQLObjectType,
        origin: type[Mapped],
        key: str,
        details: list[FieldDetails],
    ) -> Entry:
        name = details[0].node.name.value
        if name == "__typename":
            return Constant(key, parent.name)
        definition = parent.fields[name]
        field = _strawberry_field(definition)
        self._check_visible(parent.name, field, definition.type)
        relation = field.metadata.get(RELATION)
        if relation is not None:
            return self._relation(key, definition, relation, details)
        if name == "id" and issubclass(origin, relay.Node):
            return GlobalId(key, parent.name)
        if field.base_resolver is None and field.python_name in column_names(origin):
            convert = _converter(definition)
            return Value(key, field.python_name, convert, _text_converter(definition, convert))
        raise NotPlanned(f"{parent.name}.{name}")

    def _relation(
        self,
        key: str,
        definition: GraphQLField,
        relation: InstrumentedAttribute[Any],
        details: list[FieldDetails],
    ) -> Entry:
        target = get_named_type(definition.type)
        if not is_object_type(target):
            raise NotPlanned("a relation to an interface")
        assert isinstance(target, GraphQLObjectType)
        shape = self._shape(target, details)
        prop = relation.property
        assert isinstance(prop, RelationshipProperty)
        if not prop.uselist:
            return ToOne(key, relation, shape)
        page = _strawberry_field(definition).metadata[PAGE_SIZE]
        arguments = self._arguments(definition, details, known=NESTED_ARGUMENTS)
        first, order_by, filters = (arguments.get(name) for name in ("first", "order_by", "filter"))
        most = page.default if first is None else first
        if not 0 <= most <= page.most:
            raise NotPlanned("first out of range")  # the resolver says why
        # Refused here as the resolver would refuse them (it says why); made again over the
        # alias the statement reads the relation's rows through.
        order_keys(prop.mapper.class_, order_by)
        filter_conditions(prop.mapper.class_, filters)
        return ToMany(key, relation, shape, most, order_by, filters)


def _strawberry_field(definition: GraphQLField) -> StrawberryField:
    field = (definition.extensions or {}).get(DEFINITION)
    if not isinstance(field, StrawberryField):
        raise NotPlanned("not a Strawberry field")
    return field


def _origin(type_: GraphQLObjectType) -> type[Mapped]:
    definition = (type_.extensions or {}).get(DEFINITION)
    origin = getattr(definition, "origin", None)
    if not (
        isinstance(origin, type) and issubclass(origin, Mapped) and "__model__" in vars(origin)
    ):
        raise NotPlanned(f"{type_.name} is not read from one model class")
    return origin


def _connection_node_type(connection: GraphQLObjectType) -> type[Mapped]:
    definition = (connection.extensions or {}).get(DEFINITION)
    origin = getattr(definition, "origin", None)
    if not (isinstance(definition, StrawberryObjectDefinition) and _is_connection(origin)):
        raise NotPlanned(f"{connection.name} is not a Connection")
    nodes = get_named_type(connection.fields["nodes"].type)
    assert isinstance(nodes, GraphQLObjectType)
    return _origin(nodes)


def _is_connection(origin: Any) -> bool:
    return isinstance(origin, type) and issubclass(origin, Connection)


def _converter(definition: GraphQLField) -> Convert | None:
    """What turns a stored value, as the database's JSON gives it, into the resolvers' answer."""
    named = get_named_type(definition.type)
    if is_list_type(definition.type):
        raise NotPlanned("a list column")
    if isinstance(named, GraphQLEnumType):
        names = {
            getattr(value.value, "value", value.value): name for name, value in named.values.items()
        }
        return names.__getitem__
    converter = _SCALARS.get(named.name, _UNKNOWN)
    if converter is _UNKNOWN:
        raise NotPlanned(f"scalar {named.name}")
    return converter  # type: ignore[return-value]


def _text_converter(definition: GraphQLField, convert: Convert | None) -> Convert | None:
    """What turns a stored value, as text, into the resolvers' answer."""
    named = get_named_type(definition.type)
    if isinstance(named, GraphQLEnumType):
        return convert
    return _FROM_TEXT.get(named.name)


def _datetime(value: str) -> str:
    return dt.datetime.fromisoformat(value).isoformat()


_UNKNOWN = object()
_SCALARS: dict[str, Convert | None] = {
    "String": None,
    "Int": None,
    "Float": None,
    "Boolean": bool,
    # Both databases' JSON spell a date as ISO 8601, as the resolvers do.
    "Date": None,
    "DateTime": _datetime,
}
_FROM_TEXT: dict[str, Convert] = {
    "Int": int,
    "Float": float,
    "Boolean": "true".__eq__,  # PostgreSQL's boolean as text
    "DateTime": _datetime,
}
