"""A stats root field (`trialStats`, …) planned from the definitions its resolvers run.

A stats field's fields are declared as data: a count or an enrollment is `Measures`
(schema/measures.py), a breakdown is a `Breakdown` (schema/breakdowns.py), each in its field's
metadata, and the root field names the model whose listed rows it counts (`AGGREGATE`).  The
plan says which of them the operation asks for, under which keys, with which `first`; the
statement (stats_sql.py) computes each as its resolver does, all in one, and the assembler
(stats_assemble.py) gives the answer the resolvers would.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, get_named_type, is_leaf_type
from graphql.execution.collect_fields import FieldDetails
from sqlalchemy import Dialect
from strawberry.types.field import StrawberryField

from atmp_graph.model.aggregates import COUNT, KEY
from atmp_graph.schema.breakdowns import BREAKDOWN, GROUPS, Breakdown, shown_column
from atmp_graph.schema.measures import MEASURES, Measures
from atmp_graph.schema.pagination import listed_conditions
from atmp_graph.schema.planner.driver_sql import DriverStatement, driver_statement
from atmp_graph.schema.planner.json_sql import json_dialect
from atmp_graph.schema.planner.plan import (
    Constant,
    Convert,
    NotPlanned,
    OwnRoot,
    Planner,
    Value,
    _converter,
    _strawberry_field,
)
from atmp_graph.schema.planner.stats_assemble import stats_builder
from atmp_graph.schema.planner.stats_shape import (
    TOTAL_GROUPS,
    BreakdownPage,
    GroupColumn,
    GroupEntity,
    GroupEntry,
    GroupsShape,
    Leaf,
    Measured,
    StatsPart,
    StatsShape,
)
from atmp_graph.schema.planner.stats_sql import stats_statement
from atmp_graph.schema.stats import AGGREGATE


@dataclass(frozen=True)
class StatsRoot(StatsShape, OwnRoot):
    """A stats root field, planned: its statement and its assembler."""

    def compiled(
        self, dialect: Dialect
    ) -> tuple[DriverStatement, Callable[[Any, int | None], Any]]:
        sql = stats_statement(self, json_dialect(dialect.name))
        return driver_statement(sql, dialect, counts=False), stats_builder(self, dialect)


@dataclass(frozen=True)
class Selected:
    """A field selected of a type, one the viewer may see."""

    key: str
    name: str
    details: list[FieldDetails]
    definition: GraphQLField
    field: StrawberryField


def _selected(
    planner: Planner, parent: GraphQLObjectType, details: list[FieldDetails]
) -> Iterator[Selected | Constant]:
    """The fields selected of `parent` (fragments, aliases and directives merged), its
    `__typename` as a Constant; a field the viewer may not see is not planned."""
    for key, sub in planner._subfields(parent, details).items():
        name = sub[0].node.name.value
        if name == "__typename":
            yield Constant(key, parent.name)
            continue
        definition = parent.fields[name]
        field = _strawberry_field(definition)
        planner._check_visible(parent.name, field, definition.type)
        yield Selected(key, name, sub, definition, field)


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
    for sub in _selected(planner, stats, details):
        if isinstance(sub, Constant):
            parts.append(sub)
            continue
        counts = sub.field.metadata.get(MEASURES) or sub.field.metadata.get(BREAKDOWN)
        if getattr(counts, "model", None) is not model:
            # A field of its own, or one that counts other rows than the WHERE is made for.
            raise NotPlanned(f"{stats.name}.{sub.name}")
        if isinstance(counts, Measures):
            parts.append(_measured(planner, sub))
        else:
            parts.append(_breakdown(planner, sub))
    if all(isinstance(part, Constant) for part in parts):
        # Nothing to count: the resolvers answer it without a statement.
        raise NotPlanned("nothing to count")
    return StatsRoot(key=key, model=model, where=where, parts=tuple(parts))


def _measured(planner: Planner, selected: Selected) -> Measured:
    name, measures = selected.field.python_name, selected.field.metadata[MEASURES]
    returned = get_named_type(selected.definition.type)
    if is_leaf_type(returned):
        return Measured(selected.key, name, measures, _serialize(returned), None)
    assert isinstance(returned, GraphQLObjectType)
    fields: list[Leaf | Constant] = []
    for sub in _selected(planner, returned, selected.details):
        if isinstance(sub, Constant):
            fields.append(sub)
            continue
        leaf = get_named_type(sub.definition.type)
        if sub.field.base_resolver is not None or not is_leaf_type(leaf):
            raise NotPlanned(f"{returned.name}.{sub.name}")
        fields.append(Leaf(sub.key, sub.field.python_name, _serialize(leaf)))
    return Measured(selected.key, name, measures, None, tuple(fields))


def _serialize(leaf: Any) -> Convert:
    """How GraphQL serializes a value of this scalar or enum, as the resolvers' path does."""
    serialize: Convert = leaf.serialize
    return serialize


def _breakdown(planner: Planner, selected: Selected) -> BreakdownPage:
    breakdown: Breakdown = selected.field.metadata[BREAKDOWN]
    known = frozenset({"first"})
    first = planner._arguments(selected.definition, selected.details, known=known).get("first")
    size = GROUPS.default if first is None else first
    if not 0 <= size <= GROUPS.most:
        raise NotPlanned("first out of range")  # the resolver says why
    page = get_named_type(selected.definition.type)
    assert isinstance(page, GraphQLObjectType)
    parts: list[Constant | Value | GroupsShape] = []
    for sub in _selected(planner, page, selected.details):
        if isinstance(sub, Constant):
            parts.append(sub)
        elif sub.name == "totalGroups":
            parts.append(Value(sub.key, TOTAL_GROUPS))
        elif sub.name == "groups":
            group = get_named_type(sub.definition.type)
            assert isinstance(group, GraphQLObjectType)
            entries = _group_entries(planner, breakdown, group, sub.details)
            parts.append(GroupsShape(sub.key, tuple(entries)))
        else:
            raise NotPlanned(f"{page.name}.{sub.name}")
    return BreakdownPage(selected.key, breakdown, size, tuple(parts))


def _group_entries(
    planner: Planner,
    breakdown: Breakdown,
    group: GraphQLObjectType,
    details: list[FieldDetails],
) -> list[GroupEntry]:
    grouping = breakdown.grouping
    entries: list[GroupEntry] = []
    for sub in _selected(planner, group, details):
        if isinstance(sub, Constant):
            entries.append(sub)
            continue
        # The resolvers' rule (Group.from_row): which column of the row the field shows.
        column = shown_column(sub.field.python_name, grouping)
        returned = get_named_type(sub.definition.type)
        if column == KEY and grouping.entity is not None:
            if not isinstance(returned, GraphQLObjectType):
                raise NotPlanned(f"{group.name}.{sub.name}")
            entries.append(GroupEntity(sub.key, planner._shape(returned, sub.details)))
        elif column in (KEY, COUNT):
            entries.append(GroupColumn(sub.key, column, _converter(sub.definition)))
        else:
            # A measure: read as its SQL type says (stats_assemble.py), then serialized.
            entries.append(GroupColumn(sub.key, column, _serialize(returned)))
    return entries
