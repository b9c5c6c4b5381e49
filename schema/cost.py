"""What a query asks for before it runs: its depth, its aliases and its cost.

The cost is the number of fields the answer may hold at most: a field costs 1, and a list
field multiplies what is under it by the nodes it may return: the `first` of a field that has
one (its default when not given, never more than its cap), or an assumed size for the other
lists.  One walk over the operation resolves the fragments, each fragment measured once, so a
document of fragments that spread each other many times costs as much to check as to read.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

# Metadata key of a list field with a `first` argument: its PageSize.
PAGE_SIZE = "atmp_graph.page_size"
# Metadata key of a list field that holds a page's items, whose number the field above it
# counted by its `first` (a breakdown's groups, schema/breakdowns.py): not counted again.
PAGE_ITEMS = "atmp_graph.page_items"
# Nodes assumed for a list without `first`: the field provenance of a node, introspection's
# lists of types and fields.
ASSUMED_LIST_SIZE = 10


@dataclass(frozen=True)
class PageSize:
    """What a list field's `first` argument is when not given, and the most it may be."""

    default: int
    most: int


@dataclass
class Measure:
    """What a selection asks for: fields in the answer at most, levels, aliases."""

    cost: int = 0
    depth: int = 0
    aliases: int = 0
    # Set when the walk stopped descending: the document is deeper than the depth limit.
    too_deep: bool = False
    # Set when fragments spread fragments more levels down than the depth limit.
    fragments_too_deep: bool = False

    def add(self, other: "Measure") -> None:
        self.cost += other.cost
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.too_deep = self.too_deep or other.too_deep
        self.fragments_too_deep = self.fragments_too_deep or other.fragments_too_deep


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, Any]
    variables: Mapping[str, Any]
    max_depth: int
    measured: dict[str, Measure] = field(default_factory=dict)
    open_fragments: list[str] = field(default_factory=list)

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, level: int
    ) -> Measure:
        total = Measure()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total.add(self.field(selection, parent, level))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total.add(self.selections(selection.selection_set, inner, level))
            elif isinstance(selection, FragmentSpreadNode):
                total.add(self.fragment(selection.name.value, level))
        return total

    def fragment(self, name: str, level: int) -> Measure:
        if name in self.measured:
            return self.measured[name]
        definition = self.fragments.get(name)
        # Unknown and cyclic fragments are graphql-core's to report; fragments spread inside
        # fragments deeper than the depth limit would only exhaust Python's stack.
        if definition is None or name in self.open_fragments:
            return Measure()
        if len(self.open_fragments) > self.max_depth:
            return Measure(fragments_too_deep=True)
        self.open_fragments.append(name)
        inner = self.schema.get_type(definition.type_condition.name.value)
        measure = self.selections(definition.selection_set, inner, level)
        self.open_fragments.pop()
        self.measured[name] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, level: int) -> Measure:
        aliases = 1 if node.alias else 0
        if node.selection_set is None:
            return Measure(cost=1, depth=1, aliases=aliases)
        if level >= self.max_depth:
            return Measure(cost=1, depth=1, aliases=aliases, too_deep=True)
        definition = _field_definition(self.schema, parent, node.name.value)
        child_type = get_named_type(definition.type) if definition else None
        child = self.selections(node.selection_set, child_type, level + 1)
        nodes = self.nodes(definition, node, parent) if definition else 1
        return Measure(
            cost=1 + nodes * child.cost,
            depth=1 + child.depth,
            aliases=aliases + child.aliases,
            too_deep=child.too_deep,
            fragments_too_deep=child.fragments_too_deep,
        )

    def nodes(self, definition: GraphQLField, node: FieldNode, parent: Any) -> int:
        """How many nodes the field may return."""
        backref = definition.extensions.get("strawberry-definition")
        metadata = getattr(backref, "metadata", {})
        page = metadata.get(PAGE_SIZE)
        if isinstance(page, PageSize):
            first = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
            asked = self.int_value(first)
            return page.default if asked is None else max(0, min(asked, page.most))
        if metadata.get(PAGE_ITEMS):
            return 1
        # A connection's page size is counted at the connection, not again at its edges.
        if is_list_type(get_nullable_type(definition.type)) and not _is_connection(parent):
            return ASSUMED_LIST_SIZE
        return 1

    def int_value(self, value: ValueNode | None) -> int | None:
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = self.variables.get(value.name.value)
            # Not an integer: execution refuses it, the cost need not guess.
            return given if isinstance(given, int) and not isinstance(given, bool) else None
        return None


def _field_definition(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | None:
    if name == "__schema":
        return SchemaMetaFieldDef
    if name == "__type":
        return TypeMetaFieldDef
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields else None


def _is_connection(parent: Any) -> bool:
    fields = getattr(parent, "fields", None) or {}
    return "edges" in fields and "pageInfo" in fields


def measure_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    *,
    fragments: Mapping[str, Any],
    variables: Mapping[str, Any],
    max_depth: int,
) -> Measure:
    """The depth, aliases and cost of `operation`; the walk stops below `max_depth` levels."""
    root = schema.get_root_type(operation.operation)
    walk = _Walk(schema, fragments, variables, max_depth)
    return walk.selections(operation.selection_set, root, 0)
