"""A stats root field (`trialStats`, …) planned from the definitions its resolvers run.

A stats field's fields are declared as data: a count or an enrollment is `Measures`
(schema/measures.py), a breakdown is a `Breakdown` (schema/breakdowns.py), each in its field's
metadata, and the root field names the model whose listed rows it counts (`AGGREGATE`).  The
plan says which of them the operation asks for, under which keys, with which `first`; the
statement (stats_sql.py) computes each as its resolver does, all in one, and the assembler
(stats_assemble.py) gives the answer the resolvers would.
"""

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, get_named_type, is_leaf_type
from graphql.execution.collect_fields import FieldDetails
from sqlalchemy import ColumnElement
from strawberry.types.field import StrawberryField

from atmp_graph.model import Base
from atmp_graph.model.aggregates import COUNT, KEY
from atmp_graph.schema.breakdowns import BREAKDOWN, GROUPS, Breakdown, shown_column
from atmp_graph.schema.measures import MEASURES, Measures
from atmp_graph.schema.pagination import listed_conditions
from atmp_graph.schema.planner.plan import (
    Constant,
    Convert,
    NodeShape,
    NotPlanned,
    Planner,
    Value,
    _converter,
    _strawberry_field,
)
from atmp_graph.schema.stats import AGGREGATE

TOTAL_GROUPS = "total_groups"


@dataclass(frozen=True)
class Leaf:
    """A scalar field of a value the resolvers' own code builds (an `Enrollment`): its
    attribute, serialized as GraphQL serializes it."""

    key: str
    attribute: str
    serialize: Convert


@dataclass(frozen=True)
class Measured:
    """A field answered by `measures.value` of a row of aggregates: a scalar (`fields` None),
    serialized as GraphQL does, or an object whose `fields` are read."""

    key: str
    name: str  # the field's: its aliases read the same row
    measures: Measures
    serialize: Convert | None
    fields: tuple[Leaf | Constant, ...] | None


@dataclass(frozen=True)
class GroupColumn:
    """A group's field shown from a column of its breakdown's row (aggregates.KEY, COUNT or a
    measure's name); `convert` makes its value the answer's."""

    key: str
    column: str
    convert: Convert | None


@dataclass(frozen=True)
class GroupEntity:
    """A group's key as the row of its grouping's entity (an institution), null for none."""

    key: str
    node: NodeShape


GroupEntry = Constant | GroupColumn | GroupEntity


@dataclass(frozen=True)
class GroupsShape:
    key: str
    entries: tuple[GroupEntry, ...]


@dataclass(frozen=True)
class BreakdownPage:
    """A breakdown asked for under `key`: its largest `size` groups; `parts` are its page's
    fields (totalGroups is a Value of column TOTAL_GROUPS)."""

    key: str
    breakdown: Breakdown
    size: int
    parts: tuple[Constant | Value | GroupsShape, ...]


StatsPart = Constant | Measured | BreakdownPage


@dataclass(frozen=True)
class StatsRoot:
    """A stats root field: its parts, each over the `model` rows that match `where` (the
    WHERE of the list it counts, as its resolver makes it)."""

    key: str
    model: type[Base]
    where: tuple[ColumnElement[bool], ...]
    parts: tuple[StatsPart, ...]

    @property
    def measured(self) -> dict[str, Measures]:
        """The measures its statement computes, once each, by field name."""
        return {part.name: part.measures for part in self.parts if isinstance(part, Measured)}

    @property
    def breakdowns(self) -> list[BreakdownPage]:
        return [part for part in self.parts if isinstance(part, BreakdownPage)]


def plan_stats(
    planner: Planner,
    key: str,
    definition: GraphQLField,
    field: StrawberryField,
    details: list[FieldDetails],
) -> StatsRoot:
    planner._check_visible("Query", field, definition.type)
    stats = get_named_type(definition.type)
    assert isinstance(stats, GraphQLObjectType)
    arguments = planner._arguments(definition, details, known=frozenset({"filter"}))
    model = field.metadata[AGGREGATE]
    # The resolver's own WHERE: what the list lists for this filter.
    where = tuple(listed_conditions(model, arguments.get("filter")))
    parts: list[StatsPart] = []
    for sub_key, sub in planner._subfields(stats, details).items():
        name = sub[0].node.name.value
        if name == "__typename":
            parts.append(Constant(sub_key, stats.name))
            continue
        sub_definition = stats.fields[name]
        sub_field = _strawberry_field(sub_definition)
        planner._check_visible(stats.name, sub_field, sub_definition.type)
        counts = sub_field.metadata.get(MEASURES) or sub_field.metadata.get(BREAKDOWN)
        if getattr(counts, "model", None) is not model:
            # A field of its own, or one that counts other rows than the WHERE is made for.
            raise NotPlanned(f"{stats.name}.{name}")
        if isinstance(counts, Measures):
            parts.append(_measured(planner, sub_key, sub_definition, sub_field, sub))
        else:
            parts.append(_breakdown(planner, sub_key, sub_definition, sub_field, sub))
    if all(isinstance(part, Constant) for part in parts):
        # Nothing to count: the resolvers answer it without a statement.
        raise NotPlanned("nothing to count")
    return StatsRoot(key=key, model=model, where=where, parts=tuple(parts))


def _measured(
    planner: Planner,
    key: str,
    definition: GraphQLField,
    field: StrawberryField,
    details: list[FieldDetails],
) -> Measured:
    measures: Measures = field.metadata[MEASURES]
    returned = get_named_type(definition.type)
    if is_leaf_type(returned):
        return Measured(key, field.python_name, measures, _serialize(returned), None)
    assert isinstance(returned, GraphQLObjectType)
    fields: list[Leaf | Constant] = []
    for sub_key, sub in planner._subfields(returned, details).items():
        name = sub[0].node.name.value
        if name == "__typename":
            fields.append(Constant(sub_key, returned.name))
            continue
        sub_definition = returned.fields[name]
        sub_field = _strawberry_field(sub_definition)
        planner._check_visible(returned.name, sub_field, sub_definition.type)
        leaf = get_named_type(sub_definition.type)
        if sub_field.base_resolver is not None or not is_leaf_type(leaf):
            raise NotPlanned(f"{returned.name}.{name}")
        fields.append(Leaf(sub_key, sub_field.python_name, _serialize(leaf)))
    return Measured(key, field.python_name, measures, None, tuple(fields))


def _serialize(leaf: Any) -> Convert:
    """How GraphQL serializes a value of this scalar or enum, as the resolvers' path does."""
    serialize: Convert = leaf.serialize
    return serialize


def _breakdown(
    planner: Planner,
    key: str,
    definition: GraphQLField,
    field: StrawberryField,
    details: list[FieldDetails],
) -> BreakdownPage:
    breakdown: Breakdown = field.metadata[BREAKDOWN]
    first = planner._arguments(definition, details, known=frozenset({"first"})).get("first")
    size = GROUPS.default if first is None else first
    if not 0 <= size <= GROUPS.most:
        raise NotPlanned("first out of range")  # the resolver says why
    page = get_named_type(definition.type)
    assert isinstance(page, GraphQLObjectType)
    parts: list[Constant | Value | GroupsShape] = []
    for sub_key, sub in planner._subfields(page, details).items():
        name = sub[0].node.name.value
        if name == "__typename":
            parts.append(Constant(sub_key, page.name))
        elif name == "totalGroups":
            parts.append(Value(sub_key, TOTAL_GROUPS))
        elif name == "groups":
            groups = page.fields[name]
            planner._check_visible(page.name, _strawberry_field(groups), groups.type)
            parts.append(
                GroupsShape(sub_key, tuple(_group_entries(planner, breakdown, groups, sub)))
            )
        else:
            raise NotPlanned(f"{page.name}.{name}")
    return BreakdownPage(key, breakdown, size, tuple(parts))


def _group_entries(
    planner: Planner, breakdown: Breakdown, groups: GraphQLField, details: list[FieldDetails]
) -> list[GroupEntry]:
    group = get_named_type(groups.type)
    assert isinstance(group, GraphQLObjectType)
    grouping = breakdown.grouping
    entries: list[GroupEntry] = []
    for key, sub in planner._subfields(group, details).items():
        name = sub[0].node.name.value
        if name == "__typename":
            entries.append(Constant(key, group.name))
            continue
        definition = group.fields[name]
        field = _strawberry_field(definition)
        planner._check_visible(group.name, field, definition.type)
        # The resolvers' rule (Group.from_row): which column of the row the field shows.
        column = shown_column(field.python_name, grouping)
        if column == KEY and grouping.entity is not None:
            target = get_named_type(definition.type)
            if not isinstance(target, GraphQLObjectType):
                raise NotPlanned(f"{group.name}.{name}")
            entries.append(GroupEntity(key, planner._shape(target, sub)))
        elif column in (KEY, COUNT):
            entries.append(GroupColumn(key, column, _converter(definition)))
        else:
            # A measure: read as its SQL type says (stats_assemble.py), then serialized.
            entries.append(GroupColumn(key, column, _serialize(get_named_type(definition.type))))
    return entries
