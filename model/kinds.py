"""The one registry of node kinds: model class ↔ table ↔ entity type.

An entity type is the table name (`clinical_trial`); it is what source records, redirects,
suggestions and global ids store.  Node kinds are the models whose ids are never handed out
again (`NodeIdMixin`): only they can merge.
"""

import functools
from typing import TypeVar

from sqlalchemy import Table

from atmp_graph.model.base import Base, NodeIdMixin

M = TypeVar("M", bound=Base)


def entity_type_of(model: type[Base]) -> str:
    return str(model.__tablename__)


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


@functools.cache
def _by_entity_type() -> dict[str, type[Base]]:
    return {entity_type_of(mapper.class_): mapper.class_ for mapper in Base.registry.mappers}


def model_for(entity_type: str) -> type[Base]:
    """The model class whose table is `entity_type`."""
    try:
        return _by_entity_type()[entity_type]
    except KeyError:
        raise ValueError(f"{entity_type!r} is not a kind of node") from None


def node_kinds() -> tuple[type[Base], ...]:
    """The kinds that are nodes of the graph and can merge, by entity type."""
    return tuple(
        model for _, model in sorted(_by_entity_type().items()) if issubclass(model, NodeIdMixin)
    )
