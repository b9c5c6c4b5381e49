"""What a type's lists may be filtered and ordered by, read from the type's declarations.

A mapped type's plain fields are its model's columns and its `related(...)` fields follow its
relations (schema/mapping.py): a list of the type may be filtered on each of them, and ordered
by each column and by the number of rows of each to-many relation.  Not offered: a field that
not everyone who sees the type may see (FIELD_TIERS stricter than the type, such as a source
record's path), and a relation to a type they may not see.  A filter or an order on such a
field would tell its value to whoever could ask; left out of the input types, it cannot be
asked for at all.
"""

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.utils.str_converters import to_camel_case

from atmp_graph.model import Base
from atmp_graph.schema.list_names import list_prefix
from atmp_graph.schema.mapping import node_type_of
from atmp_graph.schema.nested import RELATION
from atmp_graph.schema.visibility import FIELD_TIERS, PUBLIC, TYPE_TIERS

# Column types a filter compares and an order sorts (JSON and money are neither).
_COMPARABLE = (str, int, float, bool, dt.date, dt.datetime)


@dataclass(frozen=True)
class ListColumn:
    name: str  # the field's Python name, which is the model attribute's
    graphql_name: str
    python_type: type
    nullable: bool
    description: str


@dataclass(frozen=True)
class ListRelation:
    name: str
    graphql_name: str
    prop: RelationshipProperty[Any]
    target: type[Base]
    many: bool
    description: str


@dataclass(frozen=True)
class ListSpec:
    type_name: str
    model: type[Base]
    prefix: str
    # A Relay node: its lists are filtered by global id.
    node_ids: bool
    columns: tuple[ListColumn, ...]
    relations: tuple[ListRelation, ...]
    # The columns `search` looks in (the type's `__search__`).
    search: tuple[str, ...]


def _comparable(model: type[Base], name: str) -> tuple[type, bool] | None:
    column = model.__mapper__.columns.get(name)
    if column is None:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return None
    if issubclass(python_type, enum.Enum) or python_type in _COMPARABLE:
        return python_type, bool(column.nullable)
    return None


def list_spec(node_type: type[Any]) -> ListSpec:
    """What lists of `node_type` (a mapped type) may be filtered and ordered by."""
    definition: StrawberryObjectDefinition = node_type.__strawberry_definition__
    model: type[Base] = node_type.__model__
    tier = TYPE_TIERS.get(definition.name, PUBLIC)
    seen_by_all = (None, PUBLIC, tier)
    columns, relations = [], []
    for field in definition.fields:
        if FIELD_TIERS.get((definition.name, field.python_name)) not in seen_by_all:
            continue
        graphql_name = field.graphql_name or to_camel_case(field.python_name)
        description = field.description or ""
        relation = field.metadata.get(RELATION)
        if isinstance(relation, InstrumentedAttribute):
            prop = relation.property
            assert isinstance(prop, RelationshipProperty)
            target = prop.mapper.class_
            target_name = node_type_of(target).__strawberry_definition__.name
            if TYPE_TIERS.get(target_name, PUBLIC) in seen_by_all:
                relations.append(
                    ListRelation(
                        field.python_name,
                        graphql_name,
                        prop,
                        target,
                        bool(prop.uselist),
                        description,
                    )
                )
            continue
        comparable = _comparable(model, field.python_name)
        if field.base_resolver is None and comparable is not None:
            python_type, nullable = comparable
            columns.append(
                ListColumn(field.python_name, graphql_name, python_type, nullable, description)
            )
    return ListSpec(
        type_name=definition.name,
        model=model,
        prefix=list_prefix(model),
        node_ids=issubclass(node_type, relay.Node),
        columns=tuple(columns),
        relations=tuple(relations),
        search=tuple(getattr(node_type, "__search__", ())),
    )
