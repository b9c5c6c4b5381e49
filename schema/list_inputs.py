"""The filter and order inputs of every list, generated from its type's declarations
(schema/list_spec.py says which fields those are).

`XFilter` (X the type's name, Trial for ClinicalTrial) has for each column an operator input
of its kind: `StringFilter` (eq, neq, in, contains, isNull), `IntFilter`, `FloatFilter`,
`DateFilter` and `DateTimeFilter` (eq, neq, in, gt, gte, lt, lte, isNull), `BooleanFilter`,
and for an enum `<Enum>Filter` (eq, neq, in, isNull); `id` (an `IDFilter` of global ids) for a
node type; `search` where the type says which columns it searches; for each relation the
filter of its other end (a node matches when a related one does); and `and`, `or`, `not`.
`XOrder` is one key of `XOrderField` and a direction; an `orderBy` is a list of them.

The types are made once, as the schema is assembled (`generate`), and kept in this module
under their names, where the fields' lazy references (schema/list_names.py) find them.
"""

import datetime as dt
import enum
import sys
from collections.abc import Iterable
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types.enum import has_enum_definition
from strawberry.utils.str_converters import to_camel_case

from atmp_graph.schema.filtering import MAX_LIST_VALUES, Operation
from atmp_graph.schema.list_names import LIST_INPUTS, filter_type
from atmp_graph.schema.list_spec import ListSpec, list_spec
from atmp_graph.schema.ordering import (
    ID,
    OrderDirection,
    SortKey,
    column_key,
    count_key,
    id_key,
)

_RANGE = ("eq", "neq", "in", "gt", "gte", "lt", "lte", "is_null")
# Each comparable kind of column: its GraphQL scalar's name, and the operators it has.
_KINDS: dict[type, tuple[str, tuple[str, ...]]] = {
    str: ("String", ("eq", "neq", "in", "contains", "is_null")),
    bool: ("Boolean", ("eq", "is_null")),
    int: ("Int", _RANGE),
    float: ("Float", _RANGE),
    dt.date: ("Date", _RANGE),
    dt.datetime: ("DateTime", _RANGE),
}
_SAYS = {
    "eq": "Equal to this.",
    "neq": "Not equal to this (and not null).",
    "in": f"One of these (at most {MAX_LIST_VALUES}).",
    "gt": "More than this (later, for a date).",
    "gte": "This or more (this or later).",
    "lt": "Less than this (earlier).",
    "lte": "This or less (this or earlier).",
    "contains": "Contains this text, whatever its case.",
    "is_null": "true: null; false: not null.",
}
_OPERATOR_INPUTS: dict[Any, Any] = {}


def _make(name: str, fields: dict[str, tuple[Any, Any]], description: str) -> Any:
    """An input type of these fields (name: (annotation, strawberry field)), each optional."""
    namespace: dict[str, Any] = {
        "__annotations__": {field: annotation | None for field, (annotation, _) in fields.items()},
        "__module__": LIST_INPUTS,
        **{field: made for field, (_, made) in fields.items()},
    }
    return strawberry.input(type(name, (), namespace), description=description)


def operator_input(value_type: Any) -> Any:
    """The operator input of one kind of column (an enum's, a scalar's, or global ids')."""
    if value_type not in _OPERATOR_INPUTS:
        names: tuple[str, ...]
        if value_type is relay.GlobalID:
            name, names = "ID", ("eq", "in")
        elif issubclass(value_type, enum.Enum):
            name = value_type.__strawberry_definition__.name
            names = ("eq", "neq", "in", "is_null")
        else:
            name, names = _KINDS[value_type]
        fields = {
            f"{operator}_" if operator == "in" else operator: (
                {"in": list[value_type], "is_null": bool}.get(operator, value_type),
                strawberry.field(
                    default=None, description=_SAYS[operator], name=to_camel_case(operator)
                ),
            )
            for operator in names
        }
        made = _make(
            f"{name}Filter", fields, f"Compares a {name} value: each operator set must hold."
        )
        _OPERATOR_INPUTS[value_type] = made
    return _OPERATOR_INPUTS[value_type]


def _field(annotation: Any, description: str, graphql_name: str) -> tuple[Any, Any]:
    return annotation, strawberry.field(default=None, description=description, name=graphql_name)


def filter_input(spec: ListSpec) -> Any:
    """The filter input of lists of the type `spec` describes."""
    fields: dict[str, tuple[Any, Any]] = {}
    operations: dict[str, Operation] = {}

    def add(name: str, annotation: Any, description: str, operation: Operation) -> None:
        assert name not in fields, f"{spec.type_name}: two filter fields named {name}"
        fields[name] = _field(annotation, description, operation.graphql_name)
        operations[name] = operation

    if spec.search:
        searched = " or ".join(f"`{to_camel_case(name)}`" for name in spec.search)
        operation = Operation("search", "search", columns=spec.search)
        add("search", str, f"Case-insensitive text the {searched} contains.", operation)
    if spec.node_ids:
        node = {"type_name": spec.type_name, "entity_type": spec.model.__tablename__}
        add(
            "id",
            operator_input(relay.GlobalID),
            "Its global id (a node merged into another is found by either id).",
            Operation("node_id", "id", **node),
        )
    for column in spec.columns:
        add(
            column.name,
            operator_input(column.python_type),
            f"By `{column.graphql_name}`: {column.description}",
            Operation("column", column.graphql_name, column.name),
        )
    for relation in spec.relations:
        some = "one of its" if relation.many else "its"
        add(
            relation.name,
            filter_type(relation.target),
            f"Only those with {some} `{relation.graphql_name}` matching this.",
            Operation("relation", relation.graphql_name, relation.name, target=relation.target),
        )
    same: Any = Annotated[f"{spec.prefix}Filter", strawberry.lazy(LIST_INPUTS)]
    add("and_", list[same], "Every one of these matches.", Operation("and", "and"))
    add("or_", list[same], "At least one of these matches.", Operation("or", "or"))
    add("not_", same, "This does not match (nulls included).", Operation("not", "not"))
    made = _make(
        f"{spec.prefix}Filter",
        fields,
        f"Which {spec.type_name} nodes: every field and operator set must match. Text is "
        "compared as given (`contains` and `search` whatever its case); `neq`, `in` and the "
        "comparisons never match null.",
    )
    made.__operations__ = operations
    return made


def sort_keys(spec: ListSpec) -> dict[str, SortKey]:
    """The keys lists of the type may be ordered by: its columns, its to-many relations'
    counts, and its id."""
    keys = {}
    for column in spec.columns:
        if column.name != "id":
            keys[column.name.upper()] = column_key(
                column.name.upper(),
                column.name,
                python_type=column.python_type,
                nullable=column.nullable,
                description=f"By `{column.graphql_name}`: {column.description}",
            )
    for relation in spec.relations:
        if relation.many:
            name = f"{relation.name.upper()}_COUNT"
            keys[name] = count_key(
                name,
                relation.prop,
                description=f"By how many `{relation.graphql_name}`: {relation.description}",
            )
    keys[ID] = id_key()
    return keys


def order_input(spec: ListSpec) -> Any:
    """One key of an `orderBy` of lists of the type `spec` describes."""
    keys = sort_keys(spec)
    named = f"{spec.prefix}OrderField"
    members: Any = enum.Enum(named, {name: name for name in keys}, module=LIST_INPUTS)  # type: ignore[misc]
    fields: Any = strawberry.enum(members, description=f"What lists of {spec.type_name} sort by.")
    assert has_enum_definition(fields)
    for value in fields.__strawberry_definition__.values:
        value.description = keys[value.name].description
    namespace = {
        "__annotations__": {"field": fields, "direction": OrderDirection},
        "__module__": LIST_INPUTS,
        "field": strawberry.field(description="The key."),
        "direction": strawberry.field(
            default=OrderDirection.ASC, description="Which way (ascending by default)."
        ),
    }
    made: Any = strawberry.input(
        type(f"{spec.prefix}Order", (), namespace),
        description=f"One sort key of a list of {spec.type_name}; the id ends every order.",
    )
    made.__sort_keys__ = keys
    return made


def generate(node_types: Iterable[type[Any]]) -> None:
    """Make the filter and order inputs of lists of these types, once each, and keep them here
    by name (with the operator inputs and order fields they use: `TrialFilter(phase=
    TrialPhaseFilter(eq=...))` is how code other than the schema's spells one)."""
    module = sys.modules[__name__]
    for node_type in node_types:
        spec = list_spec(node_type)
        if hasattr(module, f"{spec.prefix}Filter"):
            continue
        order = order_input(spec)
        made = (filter_input(spec), order, order.__annotations__["field"])
        for kept in (*made, *_OPERATOR_INPUTS.values()):
            setattr(module, kept.__name__, kept)
