"""Request-scoped DataLoaders: one SQL statement per relation and level, never one per row."""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty, aliased
from strawberry.dataloader import DataLoader

from atmp_graph.model import Base, EntityRedirect, EntitySource, FieldConflict, SourceRecord
from atmp_graph.schema.filtering import filter_conditions
from atmp_graph.schema.keyset import after_condition, order_clauses, plain
from atmp_graph.schema.ordering import order_keys


@dataclass(frozen=True)
class RelatedPage:
    """What one nested list asks of a relation, for every parent alike: its first `most`
    rows in the order of `order_by` that match `filter`, after the key values `after`; for a
    connection, one more (is there a next page?) and how many match in all."""

    most: int
    order_by: Any = None
    filter: Any = None
    after: tuple[Any, ...] | None = None
    connection: bool = False

    def key(self) -> str:
        """The same page asked twice is loaded once (inputs are not hashable, their data is)."""
        parts = [self.most, self.order_by, self.filter, self.after, self.connection]
        return json.dumps(plain(parts), sort_keys=True)


@dataclass
class RelatedRows:
    """One parent's rows of a RelatedPage, each with its sort-key values."""

    rows: list[Any] = field(default_factory=list)
    keys: list[list[Any]] = field(default_factory=list)
    total: int = 0


class Loaders:
    """Made fresh for each request, so nothing cached outlives it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._by_id: dict[type[Base], DataLoader[int, Any]] = {}
        self._by_relation: dict[InstrumentedAttribute[Any], DataLoader[int, list[Any]]] = {}
        self._pages: dict[tuple[InstrumentedAttribute[Any], str], DataLoader[int, RelatedRows]] = {}
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

    def by_relation(self, relation: InstrumentedAttribute[Any]) -> DataLoader[int, list[Any]]:
        """All the rows at the end of an ORM relationship, for many parent ids at once, in
        primary-key order."""
        if relation not in self._by_relation:
            self._by_relation[relation] = DataLoader(load_fn=self._relation_loader(relation))
        return self._by_relation[relation]

    def related_page(
        self, relation: InstrumentedAttribute[Any], page: RelatedPage
    ) -> DataLoader[int, RelatedRows]:
        """A page of a to-many relation (see RelatedPage), for many parent ids at once."""
        key = (relation, page.key())
        if key not in self._pages:
            self._pages[key] = DataLoader(load_fn=self._page_loader(relation, page))
        return self._pages[key]

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

    def _relation_loader(self, relation: InstrumentedAttribute[Any]) -> Any:
        prop = relation.property
        assert isinstance(prop, RelationshipProperty)
        parent = prop.parent.class_
        # Aliased, so a relation from a table to itself (institution part_of) joins cleanly.
        target = aliased(prop.mapper.class_)
        key_names = [
            prop.mapper.get_property_by_column(column).key for column in prop.mapper.primary_key
        ]
        target_keys = [getattr(target, name) for name in key_names]

        async def load(ids: list[int]) -> Sequence[list[Any]]:
            statement = (
                select(parent.id, target)
                .join(relation.of_type(target))
                .where(parent.id.in_(ids))
                .order_by(parent.id, *target_keys)
            )
            grouped: dict[int, list[Any]] = defaultdict(list)
            async with self._sessions() as session:
                for parent_id, row in await session.execute(statement):
                    grouped[parent_id].append(row)
            return [grouped.get(key, []) for key in ids]

        return load

    def _page_loader(self, relation: InstrumentedAttribute[Any], page: RelatedPage) -> Any:
        prop = relation.property
        assert isinstance(prop, RelationshipProperty)
        parent = prop.parent.class_
        target_class = prop.mapper.class_
        target = aliased(target_class)
        keys = order_keys(target, page.order_by)
        where = filter_conditions(target, page.filter)
        # Numbered per parent in the database, so no parent's rows come back past the page;
        # with `after`, the rows after the cursor are numbered apart from those before it.
        partition: list[Any] = [parent.id]
        after = None
        if page.after is not None:
            after = case((after_condition(keys, page.after), 1), else_=0)
            partition.append(after)
        position = func.row_number().over(partition_by=partition, order_by=order_clauses(keys))
        columns = [key.expression.label(f"_key{i}") for i, key in enumerate(keys)]
        if page.connection:
            columns.append(func.count().over(partition_by=parent.id).label("_total"))
        if after is not None:
            columns.append(after.label("_after"))
        numbered = (
            select(parent.id.label("_parent_id"), target, position.label("_position"), *columns)
            .join(relation.of_type(target))
            .where(*where)
        )
        # A connection reads one row more than it shows: whether there is a next page.
        most = page.most + 1 if page.connection else page.most

        async def load(ids: list[int]) -> Sequence[RelatedRows]:
            inner = numbered.where(parent.id.in_(ids)).subquery()
            row = aliased(target_class, inner)
            values = [inner.c[f"_key{i}"] for i in range(len(keys))]
            total = inner.c._total if page.connection else literal(0)
            shown = inner.c._position <= most
            before: ColumnElement[Any] = literal(0)
            ordered = [inner.c._parent_id, inner.c._position]
            if after is not None:
                # The rows before the cursor stay out, but for their first: it carries the
                # count of a parent whose rows all come before the cursor.
                before = inner.c._after == 0
                shown = (~before & shown) | (before & (inner.c._position == 1))
                ordered.insert(1, inner.c._after)
            statement = select(inner.c._parent_id, row, total, before, *values).where(shown)
            grouped: dict[int, RelatedRows] = defaultdict(RelatedRows)
            async with self._sessions() as session:
                result = await session.execute(statement.order_by(*ordered))
                for parent_id, found, count, is_before, *key_values in result:
                    rows = grouped[parent_id]
                    rows.total = count
                    if not is_before:
                        rows.rows.append(found)
                        rows.keys.append(key_values)
            return [grouped.get(key, RelatedRows()) for key in ids]

        return load
