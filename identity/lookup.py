"""Finding the node a record or a reference means: by identifier, alias, or its records."""

from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from atmp_graph.enums import InstitutionKind, SuggestionStatus
from atmp_graph.identity.aliases import add_aliases, alias_owner
from atmp_graph.model.base import Base
from atmp_graph.model.collaboration import (
    Facility,
    FacilityAlias,
    Institution,
    InstitutionAlias,
)
from atmp_graph.model.identity import MatchSuggestion
from atmp_graph.model.kinds import M, entity_type_of
from atmp_graph.model.provenance import EntitySource, SourceRecord
from atmp_graph.model.research import Condition
from atmp_graph.model.trials import TrialSite


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


def built_entity(session: Session, model: type[M], record: SourceRecord) -> M | None:
    """The `model` row that `record` built before, so an update changes it in place."""
    entity_id = session.scalars(
        select(EntitySource.entity_id).where(
            EntitySource.source_record_id == record.id,
            EntitySource.entity_type == entity_type_of(model),
        )
    ).first()
    return None if entity_id is None else session.get(model, entity_id)


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
