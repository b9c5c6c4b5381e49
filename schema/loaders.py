"""Request-scoped DataLoaders: one SQL statement per relation and level, never one per row."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty, aliased
from strawberry.dataloader import DataLoader

from atmp_graph.model import Base, EntityRedirect, EntitySource, FieldConflict, SourceRecord


class Loaders:
    """Made fresh for each request, so nothing cached outlives it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._by_id: dict[type[Base], DataLoader[int, Any]] = {}
        self._by_relation: dict[
            tuple[InstrumentedAttribute[Any], int | None], DataLoader[int, list[Any]]
        ] = {}
        self._sources: dict[str, DataLoader[int, list[SourceRecord]]] = {}
        self._conflicts: dict[str, DataLoader[int, set[str]]] = {}

    def by_id(self, model: type[Base]) -> DataLoader[int, Any]:
        """Rows of `model` by primary key (None where there is none)."""
        if model not in self._by_id:

            async def load(ids: list[int]) -> Sequence[Any]:
                async with self._sessions() as session:
                    table: Any = model
                    rows = await session.scalars(select(table).where(table.id.in_(ids)))
                    found = {row.id: row for row in rows}
                return [found.get(key) for key in ids]

            self._by_id[model] = DataLoader(load_fn=load)
        return self._by_id[model]

    def by_relation(
        self, relation: InstrumentedAttribute[Any], *, most: int | None = None
    ) -> DataLoader[int, list[Any]]:
        """The rows at the end of an ORM relationship, for many parent ids at once: for each
        parent, its first `most` in primary-key order (all of them when `most` is None)."""
        key = (relation, most)
        if key not in self._by_relation:
            self._by_relation[key] = DataLoader(load_fn=self._relation_loader(relation, most))
        return self._by_relation[key]

    def sources(self, entity_type: str) -> DataLoader[int, list[SourceRecord]]:
        """The source records that built each entity of `entity_type`."""
        if entity_type not in self._sources:

            async def load(ids: list[int]) -> Sequence[list[SourceRecord]]:
                statement = (
                    select(EntitySource.entity_id, SourceRecord)
                    .join(SourceRecord)
                    .where(EntitySource.entity_type == entity_type)
                    .where(EntitySource.entity_id.in_(ids))
                    .order_by(SourceRecord.id)
                )
                grouped: dict[int, list[SourceRecord]] = defaultdict(list)
                async with self._sessions() as session:
                    for entity_id, record in await session.execute(statement):
                        grouped[entity_id].append(record)
                return [grouped.get(key, []) for key in ids]

            self._sources[entity_type] = DataLoader(load_fn=load)
        return self._sources[entity_type]

    def conflicts(self, entity_type: str) -> DataLoader[int, set[str]]:
        """The fields on which each node's sources disagree."""
        if entity_type not in self._conflicts:

            async def load(ids: list[int]) -> Sequence[set[str]]:
                statement = select(FieldConflict.entity_id, FieldConflict.field).where(
                    FieldConflict.entity_type == entity_type, FieldConflict.entity_id.in_(ids)
                )
                grouped: dict[int, set[str]] = defaultdict(set)
                async with self._sessions() as session:
                    for entity_id, field in await session.execute(statement):
                        grouped[entity_id].add(field)
                return [grouped.get(key, set()) for key in ids]

            self._conflicts[entity_type] = DataLoader(load_fn=load)
        return self._conflicts[entity_type]

    async def current_ids(self, entity_type: str, ids: Sequence[int]) -> dict[int, int]:
        """Where merged-away ids went: {old id: surviving id} for those that were redirected."""
        if not ids:
            return {}
        statement = select(EntityRedirect.old_id, EntityRedirect.new_id).where(
            EntityRedirect.entity_type == entity_type, EntityRedirect.old_id.in_(ids)
        )
        async with self._sessions() as session:
            return {row.old_id: row.new_id for row in await session.execute(statement)}

    def _relation_loader(self, relation: InstrumentedAttribute[Any], most: int | None) -> Any:
        prop = relation.property
        assert isinstance(prop, RelationshipProperty)
        parent = prop.parent.class_
        target_class = prop.mapper.class_
        # Aliased, so a relation from a table to itself (institution part_of) joins cleanly.
        target = aliased(target_class)
        key_names = [
            prop.mapper.get_property_by_column(column).key for column in prop.mapper.primary_key
        ]
        target_keys = [getattr(target, name) for name in key_names]

        def statement(ids: list[int]) -> Any:
            if most is None:
                return (
                    select(parent.id, target)
                    .join(relation.of_type(target))
                    .where(parent.id.in_(ids))
                    .order_by(parent.id, *target_keys)
                )
            # Numbered per parent in the database, so no parent's rows come back past `most`.
            position = func.row_number().over(partition_by=parent.id, order_by=target_keys)
            numbered = (
                select(parent.id.label("_parent_id"), target, position.label("_position"))
                .join(relation.of_type(target))
                .where(parent.id.in_(ids))
                .subquery()
            )
            row = aliased(target_class, numbered)
            return (
                select(numbered.c._parent_id, row)
                .where(numbered.c._position <= most)
                .order_by(numbered.c._parent_id, numbered.c._position)
            )

        async def load(ids: list[int]) -> Sequence[list[Any]]:
            grouped: dict[int, list[Any]] = defaultdict(list)
            async with self._sessions() as session:
                for parent_id, row in await session.execute(statement(ids)):
                    grouped[parent_id].append(row)
            return [grouped.get(key, []) for key in ids]

        return load
