"""Write helpers the ingest pipeline composes: identity lookups, links, provenance.

Every helper takes the session; none commits.  The caller (one ingest batch) owns the
transaction, so a batch lands whole or not at all.
"""

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from atmp_graph.model.base import Base
from atmp_graph.model.collaboration import (
    Facility,
    FacilityAlias,
    Institution,
    InstitutionAlias,
)
from atmp_graph.model.enums import InstitutionKind, SuggestionStatus
from atmp_graph.model.identity import MatchSuggestion
from atmp_graph.model.provenance import EntitySource, FeedState, PendingLink, SourceRecord
from atmp_graph.model.research import Condition, ConditionAlias, Product
from atmp_graph.model.trials import TrialSite

M = TypeVar("M", bound=Base)


def entity_type_of(model: type[Base]) -> str:
    return str(model.__tablename__)


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def model_for(entity_type: str) -> type[Base]:
    """The model class whose table is `entity_type`."""
    for mapper in Base.registry.mappers:
        if entity_type_of(mapper.class_) == entity_type:
            return mapper.class_
    raise ValueError(f"{entity_type!r} is not a kind of node")


def find_institution(
    session: Session,
    *,
    folded_names: Sequence[str] = (),
    ror_id: str | None = None,
    key: str | None = None,
    registration_number: str | None = None,
) -> Institution | None:
    """The institution with this ROR id, key or registration number, else one of these names."""
    for column, value in (
        (Institution.ror_id, ror_id),
        (Institution.key, key),
        (Institution.registration_number, registration_number),
    ):
        if value:
            found = session.scalars(select(Institution).where(column == value)).first()
            if found:
                return found
    if folded_names:
        return session.scalars(
            select(Institution)
            .join(InstitutionAlias)
            .where(InstitutionAlias.normalized.in_(folded_names))
            .order_by(Institution.id)
        ).first()
    return None


def institutions_matching(
    session: Session,
    *,
    folded_names: Sequence[str],
    ror_id: str | None,
    key: str | None,
    registration_number: str | None,
) -> list[int]:
    """Every institution with one of these identifiers or names, oldest first."""
    conditions = [
        column == value
        for column, value in (
            (Institution.ror_id, ror_id),
            (Institution.key, key),
            (Institution.registration_number, registration_number),
        )
        if value
    ]
    ids = (
        set(session.scalars(select(Institution.id).where(or_(*conditions))))
        if conditions
        else set()
    )
    if folded_names:
        ids |= set(
            session.scalars(
                select(InstitutionAlias.institution_id).where(
                    InstitutionAlias.normalized.in_(folded_names)
                )
            )
        )
    return sorted(ids)


def described(session: Session, model: type[Base], ids: Iterable[int]) -> set[int]:
    """Those of `ids` that a record of their own kind built (not only named in passing)."""
    entity_type = entity_type_of(model)
    return set(
        session.scalars(
            select(EntitySource.entity_id)
            .join(SourceRecord)
            .where(
                EntitySource.entity_type == entity_type,
                EntitySource.entity_id.in_(list(ids)),
                SourceRecord.entity_type == entity_type,
            )
        )
    )


def place_at_facility(session: Session, institution_ids: Sequence[int], facility_id: int) -> None:
    """Products made by, and trial sites at, these institutions are at this facility."""
    session.flush()
    session.execute(
        update(Product)
        .where(
            Product.manufacturer_id.in_(institution_ids),
            Product.manufacturing_facility_id.is_(None),
        )
        .values(manufacturing_facility_id=facility_id)
    )
    session.execute(
        update(TrialSite)
        .where(TrialSite.institution_id.in_(institution_ids), TrialSite.facility_id.is_(None))
        .values(facility_id=facility_id)
    )


def trials_at_sites(session: Session, folded_names: Sequence[str]) -> list[int]:
    """The trials with a site of one of these (folded) names."""
    return sorted(
        set(
            session.scalars(
                select(TrialSite.trial_id).where(TrialSite.normalized.in_(folded_names))
            )
        )
    )


def find_facility(session: Session, *, folded_names: Sequence[str]) -> Facility | None:
    return session.scalars(
        select(Facility)
        .join(FacilityAlias)
        .where(FacilityAlias.normalized.in_(folded_names))
        .order_by(Facility.id)
    ).first()


# node type -> (its alias table, the alias table's column naming the node)
AliasTable = type[InstitutionAlias] | type[FacilityAlias] | type[ConditionAlias]
ALIASES: dict[type[Base], tuple[AliasTable, str]] = {
    Institution: (InstitutionAlias, "institution_id"),
    Facility: (FacilityAlias, "facility_id"),
    Condition: (ConditionAlias, "condition_id"),
}


def alias_owner(session: Session, model: type[Base], folded: str) -> int | None:
    """The node of kind `model` that this folded name is an alias of."""
    alias_model, owner_column = ALIASES[model]
    return session.scalar(
        select(getattr(alias_model, owner_column)).where(alias_model.normalized == folded)
    )


def add_aliases(
    session: Session,
    owner: Institution | Facility | Condition,
    names: Iterable[tuple[str, str]],
    *,
    respell: bool = False,
) -> None:
    """Give `owner` each (alias, folded alias) it does not have yet; a taken alias stays put.

    With `respell`, an alias the owner has already takes this spelling ("Region Skåne" for
    "Region Skane"): the record that describes a node spells its names, not a passing mention.
    """
    alias_model, owner_column = ALIASES[type(owner)]
    session.flush()
    for alias, folded in names:
        taken = session.scalars(select(alias_model).where(alias_model.normalized == folded)).first()
        if taken is None:
            session.add(alias_model(alias=alias, normalized=folded, **{owner_column: owner.id}))
            session.flush()
        elif respell and getattr(taken, owner_column) == owner.id:
            taken.alias = alias  # type: ignore[attr-defined]


def remove_aliases(
    session: Session, model: type[Base], owner_id: int, folded: Sequence[str]
) -> int:
    """Take these folded names from the node's aliases; returns how many went."""
    alias_model, owner_column = ALIASES[model]
    result = session.execute(
        delete(alias_model).where(
            getattr(alias_model, owner_column) == owner_id, alias_model.normalized.in_(folded)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def new_institution(session: Session, *, name: str, kind: InstitutionKind | None) -> Institution:
    institution = Institution(name=name, kind=kind or InstitutionKind.OTHER)
    session.add(institution)
    return institution


def condition_ids(session: Session, names: Iterable[tuple[str, str]]) -> list[int]:
    """Ids of the conditions with these (name, folded name), creating the missing ones."""
    ids: list[int] = []
    for name, folded in names:
        condition_id = alias_owner(session, Condition, folded)
        if condition_id is None:
            condition = Condition(name=name, normalized=folded)
            session.add(condition)
            add_aliases(session, condition, [(name, folded)])
            condition_id = condition.id
        if condition_id not in ids:
            ids.append(condition_id)
    return ids


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


def add_link(
    session: Session, owner: type[Base], owner_id: int, relation: str, target_id: int
) -> None:
    table, local, remote = _link_columns(owner, relation)
    exists = session.execute(select(local).where(local == owner_id, remote == target_id)).first()
    if exists is None:
        session.execute(insert(table).values({local.name: owner_id, remote.name: target_id}))


def built_entity_id(session: Session, *, feed: str, entity_type: str, source_id: str) -> int | None:
    """The id of the `entity_type` row that a feed's record `source_id` built, if any."""
    return session.scalars(
        select(EntitySource.entity_id)
        .join(SourceRecord)
        .where(
            SourceRecord.feed == feed,
            SourceRecord.source_id == source_id,
            SourceRecord.entity_type == entity_type,
            EntitySource.entity_type == entity_type,
        )
    ).first()


def link_source(session: Session, record: SourceRecord, entity: Base) -> None:
    """Remember that `record` built `entity` (idempotent)."""
    session.flush()
    entity_type = entity_type_of(type(entity))
    entity_id = entity.id  # type: ignore[attr-defined]
    exists = session.get(EntitySource, (record.id, entity_type, entity_id))
    if exists is None:
        session.add(
            EntitySource(source_record_id=record.id, entity_type=entity_type, entity_id=entity_id)
        )


def built_entity(session: Session, model: type[M], record: SourceRecord) -> M | None:
    """The `model` row that `record` built before, so an update changes it in place."""
    entity_id = session.scalars(
        select(EntitySource.entity_id).where(
            EntitySource.source_record_id == record.id,
            EntitySource.entity_type == entity_type_of(model),
        )
    ).first()
    return None if entity_id is None else session.get(model, entity_id)


def park_link(session: Session, link: PendingLink) -> None:
    exists = session.scalars(
        select(PendingLink).where(
            PendingLink.feed == link.feed,
            PendingLink.entity_type == link.entity_type,
            PendingLink.entity_id == link.entity_id,
            PendingLink.relation == link.relation,
            PendingLink.target_source_id == link.target_source_id,
        )
    ).first()
    if exists is None:
        session.add(link)


def waiting_links(
    session: Session, *, feed: str, target_entity_type: str, target_source_id: str
) -> Sequence[PendingLink]:
    return session.scalars(
        select(PendingLink).where(
            PendingLink.feed == feed,
            PendingLink.target_entity_type == target_entity_type,
            PendingLink.target_source_id == target_source_id,
        )
    ).all()


def feed_state(session: Session, feed: str) -> dict[str, str]:
    """Each stream's cursor after the feed's last complete run."""
    rows = session.execute(select(FeedState.stream, FeedState.cursor).where(FeedState.feed == feed))
    return {row.stream: row.cursor for row in rows}


def advance_feed_state(session: Session, feed: str, cursors: dict[str, str]) -> None:
    """Move each stream's cursor forward (never back) to what this run read."""
    for stream, cursor in cursors.items():
        state = session.get(FeedState, (feed, stream))
        if state is None:
            session.add(FeedState(feed=feed, stream=stream, cursor=cursor))
        elif cursor > state.cursor:
            state.cursor = cursor


def known_source_records(
    session: Session, *, feed: str, entity_type: str, source_ids: Sequence[str]
) -> dict[str, SourceRecord]:
    """The source records a feed already has for these ids, in one query."""
    rows = session.scalars(
        select(SourceRecord).where(
            SourceRecord.feed == feed,
            SourceRecord.entity_type == entity_type,
            SourceRecord.source_id.in_(source_ids),
        )
    )
    return {row.source_id: row for row in rows}


def mark_read(session: Session, source_record_ids: Sequence[int], run_id: int | None) -> None:
    """Note that this run read these records (unchanged ones included)."""
    if source_record_ids:
        session.execute(
            update(SourceRecord)
            .where(SourceRecord.id.in_(source_record_ids))
            .values(run_id=run_id),
            execution_options={"synchronize_session": False},
        )


def built_entity_ids(
    session: Session, *, feed: str, entity_type: str, source_ids: Iterable[str]
) -> dict[str, int]:
    """The entities that a feed's records built, by source id, in one query."""
    wanted = list(set(source_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(SourceRecord.source_id, EntitySource.entity_id)
        .join(EntitySource)
        .where(
            SourceRecord.feed == feed,
            SourceRecord.entity_type == entity_type,
            SourceRecord.source_id.in_(wanted),
            EntitySource.entity_type == entity_type,
        )
    )
    return {row.source_id: row.entity_id for row in rows}


def waiting_target_ids(
    session: Session, *, feed: str, target_entity_type: str, source_ids: Sequence[str]
) -> set[str]:
    """Which of these records other records of the feed are waiting for."""
    return set(
        session.scalars(
            select(PendingLink.target_source_id).where(
                PendingLink.feed == feed,
                PendingLink.target_entity_type == target_entity_type,
                PendingLink.target_source_id.in_(source_ids),
            )
        )
    )


def linked_pairs(
    session: Session, owner: type[Base], relation: str, owner_ids: Sequence[int]
) -> set[tuple[int, int]]:
    """The (owner id, target id) rows these owners already have in `relation`."""
    _, local, remote = _link_columns(owner, relation)
    rows = session.execute(select(local, remote).where(local.in_(owner_ids)))
    return {(row[0], row[1]) for row in rows}


def feeds_of(session: Session, entity_type: str, ids: Iterable[int]) -> dict[int, set[str]]:
    """The feeds whose records built each of these nodes."""
    feeds: dict[int, set[str]] = {}
    rows = session.execute(
        select(EntitySource.entity_id, SourceRecord.feed)
        .join(SourceRecord)
        .where(EntitySource.entity_type == entity_type, EntitySource.entity_id.in_(list(ids)))
    )
    for entity_id, feed in rows:
        feeds.setdefault(entity_id, set()).add(feed)
    return feeds


def kept_apart(session: Session, entity_type: str, a: int, b: int) -> bool:
    """Whether an admin said these two are different things (rejected or split them)."""
    low, high = sorted((a, b))
    return bool(
        session.scalar(
            select(MatchSuggestion.id).where(
                MatchSuggestion.entity_type == entity_type,
                MatchSuggestion.entity_id == low,
                MatchSuggestion.other_id == high,
                MatchSuggestion.status == SuggestionStatus.REJECTED,
            )
        )
    )


def insert_links(
    session: Session, owner: type[Base], relation: str, pairs: Sequence[tuple[int, int]]
) -> None:
    """Add many (owner id, target id) rows to a many-to-many relation at once."""
    if pairs:
        table, local, remote = _link_columns(owner, relation)
        rows = [{local.name: left, remote.name: right} for left, right in dict.fromkeys(pairs)]
        session.execute(insert(table), rows)
