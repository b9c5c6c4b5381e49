"""`search(query:, types:, first:, after:)` planned: one statement answers it.

Its arguments are checked as its resolver checks them (schema/search.py `search_request`),
so an argument the resolver refuses leaves the field to it; what the viewer may list decides
the kinds counted and listed, as there.  The answer's fields are those of the resolver's own
objects, all plain but `SearchHit.node`, whose selection is planned for each kind of node a
hit may be (planner/plan.py's node shapes, inline fragments and all); a node field the planner
cannot read (`sources`, say) leaves the whole field to the resolvers.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.execution.collect_fields import FieldDetails
from sqlalchemy import Dialect
from strawberry.types.field import StrawberryField

from atmp_graph.schema.planner.driver_sql import DriverStatement
from atmp_graph.schema.planner.plan import NotPlanned, OwnRoot, Planner, _strawberry_field
from atmp_graph.schema.planner.search_assemble import search_builder
from atmp_graph.schema.planner.search_shape import Pick, Slot
from atmp_graph.schema.planner.search_sql import search_driver_statement
from atmp_graph.schema.search import LISTED_AS, SearchRequest, search_request
from atmp_graph.schema.visibility import PUBLIC, TYPE_TIERS

ARGUMENTS = frozenset({"query", "types", "first", "after"})
# The fields with resolvers of their own that the plan answers: a hit's node, read beside the
# hit, and the page's hits, which are its edges' nodes.
_NODE, _HITS = ("SearchHit", "node"), ("SearchResults", "hits")


@dataclass(frozen=True)
class SearchRoot(OwnRoot):
    key: str
    request: SearchRequest
    picks: tuple[Pick, ...]
    slots: tuple[Slot, ...]

    def compiled(
        self, dialect: Dialect
    ) -> tuple[DriverStatement, Callable[[Any, int | None], Any]]:
        statement = search_driver_statement(self.request, self.slots, dialect)
        return statement, search_builder(self.request, self.picks, self.slots, dialect.name)


def search_root(
    planner: Planner,
    key: str,
    definition: GraphQLField,
    field: StrawberryField,
    details: list[FieldDetails],
) -> SearchRoot:
    planner._check_visible("Query", field, definition.type)
    arguments = planner._arguments(definition, details, known=ARGUMENTS)
    request = search_request(planner.viewer, **arguments)
    results = get_named_type(definition.type)
    assert isinstance(results, GraphQLObjectType)
    walk = _Walk(planner, request)
    picks = walk.picks(results, details)
    return SearchRoot(key=key, request=request, picks=picks, slots=tuple(walk.slots))


@dataclass
class _Walk:
    planner: Planner
    request: SearchRequest
    slots: list[Slot] = field(default_factory=list)

    def picks(self, parent: GraphQLObjectType, details: list[FieldDetails]) -> tuple[Pick, ...]:
        found = []
        for key, sub in self.planner._subfields(parent, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                found.append(Pick(key, "typename", type_name=parent.name))
                continue
            definition = parent.fields[name]
            strawberry_field = _strawberry_field(definition)
            self.planner._check_visible(parent.name, strawberry_field, definition.type)
            found.append(self._pick(key, parent, definition, strawberry_field, sub))
        return tuple(found)

    def _pick(
        self,
        key: str,
        parent: GraphQLObjectType,
        definition: GraphQLField,
        strawberry_field: StrawberryField,
        details: list[FieldDetails],
    ) -> Pick:
        named = get_named_type(definition.type)
        where = (parent.name, strawberry_field.python_name)
        if where == _NODE:
            return Pick(key, "node", slot=self._slot(details))
        if strawberry_field.base_resolver is not None and where != _HITS:
            raise NotPlanned(f"{parent.name}.{strawberry_field.python_name}")
        listed = is_list_type(get_nullable_type(definition.type))
        if isinstance(named, GraphQLObjectType):
            picks = self.picks(named, details)
            if where == _HITS:
                return Pick(key, "hits", picks=picks)
            return Pick(key, "list" if listed else "object", strawberry_field.python_name, picks)
        if listed:
            raise NotPlanned("a list of values")
        if isinstance(named, GraphQLEnumType):
            return Pick(key, "enum", strawberry_field.python_name)
        return Pick(key, "value", strawberry_field.python_name)

    def _slot(self, details: list[FieldDetails]) -> int:
        """The node selection's shape for each kind listed (no hit is of another)."""
        shapes = []
        for kind in self.request.wanted:
            type_name = LISTED_AS[kind][0]
            node_type = self.planner.schema.type_map[type_name]
            assert isinstance(node_type, GraphQLObjectType)
            if not self.planner.viewer.may(TYPE_TIERS.get(type_name, PUBLIC)):
                raise NotPlanned(f"{type_name} is refused to this viewer")
            shapes.append((kind.value, self.planner._shape(node_type, details)))
        self.slots.append(tuple(shapes))
        return len(self.slots) - 1
