"""The declarative mapping from GraphQL types to the model.

A node type names its model class (`__model__`); each of its plain fields is the model column
of the same name, and each `related(...)` field follows one ORM relationship.  Nothing else
decides what a field reads, so a later query compiler can turn a whole GraphQL selection into
SQL from these declarations alone; the resolvers here are the general fallback.
"""

import dataclasses
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

import strawberry
from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty
from strawberry import relay
from strawberry.types.field import StrawberryField

import atmp_graph.model as m
from atmp_graph.model import Base, kinds
from atmp_graph.schema.context import Info
from atmp_graph.schema.cost import PAGE_SIZE
from atmp_graph.schema.errors import UserError
from atmp_graph.schema.field_provenance import field_provenance
from atmp_graph.schema.ids import row_id
from atmp_graph.schema.nested import ABOUT, RELATION, element_type, nested_connection, nested_list

if TYPE_CHECKING:
    from atmp_graph.schema.field_provenance import FieldProvenance
    from atmp_graph.schema.provenance import SourceRecord

# model class -> the GraphQL type its rows appear as (filled in by `maps`)
_TYPES: dict[type[Base], type[Any]] = {}

# Metadata of a root field that finds one row by a lookup: a function of the field's arguments
# that gives the row's id as SQL, so the read planner finds the row as the resolver does.
ONE_ROW = "atmp_graph.one_row"


def column_names(node_type: type[Any]) -> tuple[str, ...]:
    """The fields of `node_type` that are read straight from its model's columns."""
    return tuple(f.name for f in dataclasses.fields(node_type) if f.init)


class Mapped:
    """A GraphQL type read from one model class (see `maps`)."""

    __model__: ClassVar[type[Base]]
    __columns__: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Beside each nested list `name`, its connection `name_connection` (nameConnection),
        made here, as the class is made, so that Strawberry sees it as one of its fields."""
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if not isinstance(value, StrawberryField) or PAGE_SIZE not in value.metadata:
                continue
            relation = value.metadata.get(RELATION)
            if relation is None or hasattr(cls, f"{name}_connection"):
                continue
            element = element_type(cls.__annotations__[name], cls.__module__)
            connection = nested_connection(
                relation,
                description=value.metadata[ABOUT],
                element=element,
                node_type=functools.partial(node_type_of, relation.property.mapper.class_),
            )
            setattr(cls, f"{name}_connection", connection)

    @classmethod
    def from_row(cls, row: Any) -> Self:
        if "__columns__" not in cls.__dict__:
            cls.__columns__ = column_names(cls)
        return cls(**{name: getattr(row, name) for name in cls.__columns__})

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> list[Self]:
        return [cls.from_row(row) for row in rows]


class MappedRelayNode(Mapped, relay.Node):
    """A Relay node read from one model class: found by its global id, or by the id of a node
    merged into it."""

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        """The nodes by id; the id of a node merged into another finds the survivor."""
        # 0 is no row's id: what cannot be an id finds nothing, as an unknown id does.
        keys = [row_id(node_id) or 0 for node_id in node_ids]
        loader = info.context.loaders.by_id(cls.__model__)
        rows = await loader.load_many(keys)
        missing = [key for key, row in zip(keys, rows, strict=True) if row is None]
        moved = await info.context.loaders.current_ids(cls.__model__.__tablename__, missing)
        if moved:
            survivors = dict(zip(moved, await loader.load_many(list(moved.values())), strict=True))
            rows = [
                survivors.get(key) if row is None else row
                for key, row in zip(keys, rows, strict=True)
            ]
        nodes = [None if row is None else cls.from_row(row) for row in rows]
        if required and None in nodes:
            missing_ids = [key for key, node in zip(node_ids, nodes, strict=True) if node is None]
            raise UserError(f"no {cls.__name__} with id {', '.join(missing_ids)}")
        return nodes


@strawberry.interface(
    name="Entity", description="A node of the graph, built from one or more feed records."
)
class MappedNode(MappedRelayNode):
    """A node of the graph read from one model class, which knows the source records that
    built it (an ingest run, say, is a Relay node but no such node)."""

    @strawberry.field(
        description="The feed records this node was built from: those of its own kind that "
        "describe it, and those that name it. A node made from a name lists the records that "
        "name it: a condition the trials, products and projects that give its name; an "
        "institution the records that name it as sponsor, collaborator, partner, party, lead, "
        "owner or maker; a person the agreements they signed."
    )
    async def sources(
        self, info: Info
    ) -> list[Annotated["SourceRecord", strawberry.lazy("atmp_graph.schema.provenance")]]:
        entity_type = self.__model__.__tablename__
        rows = await info.context.loaders.sources(entity_type).load(self.id)  # type: ignore[attr-defined]
        return _TYPES[m.SourceRecord].from_rows(rows)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Each field its sources give: every source's value and when it was read, "
        "which one is shown (by the precedence rule) and whether they disagree. A field asked "
        "for that they do not give comes back with a note saying so, and which fields they give."
    )
    async def provenance(
        self,
        info: Info,
        fields: Annotated[
            list[str] | None, strawberry.argument(description="Only these fields (camelCase).")
        ] = None,
    ) -> list[Annotated["FieldProvenance", strawberry.lazy("atmp_graph.schema.field_provenance")]]:
        return await field_provenance(
            info,
            self.__model__,
            self.id,  # type: ignore[attr-defined]
            fields,
            node_type=type(self),
        )


async def entity(info: Info, entity_type: str, entity_id: int) -> Any:
    """The node of this table and id (or its survivor), as its GraphQL type."""
    node_type = _TYPES[kinds.model_for(entity_type)]
    nodes = await node_type.resolve_nodes(info=info, node_ids=[str(entity_id)])
    return nodes[0]


def global_id(entity_type: str, entity_id: int) -> relay.GlobalID:
    return relay.GlobalID(_TYPES[kinds.model_for(entity_type)].__name__, str(entity_id))


def model_of(type_name: str) -> type[Base]:
    """The model class behind a GraphQL type name (from a global id)."""
    for model, node_type in _TYPES.items():
        if node_type.__name__ == type_name:
            return model
    raise UserError(f"{type_name!r} is not a type of this schema")


def related(relation: InstrumentedAttribute[Any], *, description: str) -> Any:
    """A field that follows `relation`; its GraphQL type comes from the field's annotation.

    A list gets `first`, `orderBy` and `filter`, and a connection beside it (schema/nested.py)."""
    prop = relation.property
    assert isinstance(prop, RelationshipProperty)
    if prop.uselist:
        target = prop.mapper.class_
        return nested_list(
            relation, description=description, node_type=functools.partial(node_type_of, target)
        )

    async def resolve_one(root: Any, info: Info) -> Any:
        rows = await info.context.loaders.by_relation(relation).load(root.id)
        return _TYPES[prop.mapper.class_].from_row(rows[0]) if rows else None

    return strawberry.field(
        resolver=resolve_one, description=description, metadata={RELATION: relation}
    )


def node_type_of(model: type[Base]) -> type[Any]:
    """The GraphQL type rows of `model` appear as."""
    return _TYPES[model]


def mapped_types() -> list[type[Any]]:
    """Every GraphQL type read from a model class."""
    return list(_TYPES.values())


def maps(model: type[Base]) -> Any:
    """Class decorator: this GraphQL type is how `model` rows appear."""

    def register(node_type: type[Any]) -> type[Any]:
        node_type.__model__ = model
        _TYPES[model] = node_type
        return node_type

    return register
