"""Many-to-many links between rows: replace, delete, add, insert in bulk, read."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from atmp_graph.model.base import Base


def _link_columns(owner: type[Base], relation: str) -> tuple[Any, Any, Any]:
    prop = owner.__mapper__.relationships[relation]
    table = prop.secondary
    assert table is not None, f"{owner.__name__}.{relation} is not a many-to-many relation"
    (local,) = [c for c in table.columns if c.references(owner.__table__.c.id)]
    (remote,) = [c for c in table.columns if c is not local]
    return table, local, remote


def replace_links(
    session: Session, owner: type[Base], owner_id: int, relation: str, target_ids: Iterable[int]
) -> None:
    """Make the many-to-many `relation` of one row hold exactly `target_ids`."""
    table, local, remote = _link_columns(owner, relation)
    session.execute(delete(table).where(local == owner_id))
    rows = [{local.name: owner_id, remote.name: target} for target in dict.fromkeys(target_ids)]
    if rows:
        session.execute(insert(table), rows)


def delete_links(
    session: Session, owner: type[Base], relation: str, owner_ids: Sequence[int]
) -> None:
    """Empty the many-to-many `relation` of these rows."""
    if owner_ids:
        table, local, _ = _link_columns(owner, relation)
        session.execute(delete(table).where(local.in_(owner_ids)))


def add_link(
    session: Session, owner: type[Base], owner_id: int, relation: str, target_id: int
) -> None:
    table, local, remote = _link_columns(owner, relation)
    exists = session.execute(select(local).where(local == owner_id, remote == target_id)).first()
    if exists is None:
        session.execute(insert(table).values({local.name: owner_id, remote.name: target_id}))


def linked_pairs(
    session: Session, owner: type[Base], relation: str, owner_ids: Sequence[int]
) -> set[tuple[int, int]]:
    """The (owner id, target id) rows these owners already have in `relation`."""
    _, local, remote = _link_columns(owner, relation)
    rows = session.execute(select(local, remote).where(local.in_(owner_ids)))
    return {(row[0], row[1]) for row in rows}


def insert_links(
    session: Session, owner: type[Base], relation: str, pairs: Sequence[tuple[int, int]]
) -> None:
    """Add many (owner id, target id) rows to a many-to-many relation at once."""
    if pairs:
        table, local, remote = _link_columns(owner, relation)
        rows = [{local.name: left, remote.name: right} for left, right in dict.fromkeys(pairs)]
        session.execute(insert(table), rows)
