"""Finding the node a record or a reference means: by identifier, alias, or its records."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from atmp_graph.enums import InstitutionKind, SuggestionStatus
from atmp_graph.identity.aliases import add_aliases, alias_owner
from atmp_graph.identity.precedence import CURATION
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
from atmp_graph.model.trials import ClinicalTrial, TrialSite
from atmp_graph.normalize import fold_name


def institutions_matching(
    session: Session,
    *,
    names: Sequence[str] = (),
    ror_id: str | None = None,
    key: str | None = None,
    registration_number: str | None = None,
) -> list[int]:
    """Every institution these identifiers or names could mean, the surest first: the one with
    the ROR id, the key, the registration number, then those with one of the names among their
    aliases (compared folded), oldest first."""
    found: list[int] = []
    for column, value in (
        (Institution.ror_id, ror_id),
        (Institution.key, key),
        (Institution.registration_number, registration_number),
    ):
        if value:
            found += session.scalars(
                select(Institution.id).where(column == value).order_by(Institution.id)
            )
    folded = [name for name in (fold_name(name) for name in names) if name]
    if folded:
        found += session.scalars(
            select(InstitutionAlias.institution_id)
            .where(InstitutionAlias.normalized.in_(folded))
            .order_by(InstitutionAlias.institution_id)
        )
    return list(dict.fromkeys(found))


def institution_for(session: Session, ref: Mapping[str, Any]) -> Institution | None:
    """The institution a reference ({"name", "ror", "key", "registration_number"}) means now:
    the surest match, else the owner of a facility of that name.  The one lookup for the
    writers, for choosing values and for placing sites, so all of them find the same node."""
    name = ref.get("name")
    matching = institutions_matching(
        session,
        names=[name] if name else [],
        ror_id=ref.get("ror"),
        key=ref.get("key"),
        registration_number=ref.get("registration_number"),
    )
    if matching:
        return session.get(Institution, matching[0])
    facility = find_facility(session, folded_names=[fold_name(name)]) if name else None
    if facility is not None and facility.owner_id is not None:
        return session.get(Institution, facility.owner_id)
    return None


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
    """The feeds whose records built each of these nodes (a curator's values are no feed's)."""
    feeds: dict[int, set[str]] = {}
    rows = session.execute(
        select(EntitySource.entity_id, SourceRecord.feed)
        .join(SourceRecord)
        .where(
            EntitySource.entity_type == entity_type,
            EntitySource.entity_id.in_(list(ids)),
            SourceRecord.feed != CURATION,
        )
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


# A trial's registry ids by scheme: one trial, whichever feed or registry names it.
REGISTRY_COLUMNS = {
    "nct": ClinicalTrial.nct_id,
    "eudract": ClinicalTrial.eudract_id,
    "euct": ClinicalTrial.euct_id,
}
RegistryId = tuple[str, str]  # (scheme, canonical value)


def registry_ids_of(trial: Any) -> set[RegistryId]:
    """The (scheme, value) registry ids a trial record or row carries."""
    return {
        (scheme, value)
        for scheme in REGISTRY_COLUMNS
        if (value := getattr(trial, f"{scheme}_id", None))
    }


def trials_by_registry_id_statement(
    wanted: Iterable[RegistryId],
) -> Select[Any] | None:
    """The one statement that finds the trials holding any of these registry ids (None when
    there are none to look for).  Sync writers and the async API both run it."""
    by_scheme: dict[str, list[str]] = defaultdict(list)
    for scheme, value in wanted:
        by_scheme[scheme].append(value)
    if not by_scheme:
        return None
    columns: list[Any] = [ClinicalTrial.id, *REGISTRY_COLUMNS.values()]
    return (
        select(*columns)
        .where(or_(*(REGISTRY_COLUMNS[s].in_(values) for s, values in by_scheme.items())))
        .order_by(ClinicalTrial.id)
    )


def registry_id_owners(rows: Iterable[Sequence[Any]]) -> dict[RegistryId, int]:
    """From that statement's rows: the trial that holds each registry id (the oldest, if two
    ever do)."""
    owners: dict[RegistryId, int] = {}
    for trial_id, *values in rows:
        for scheme, value in zip(REGISTRY_COLUMNS, values, strict=True):
            if value:
                owners.setdefault((scheme, value), trial_id)
    return owners


def trials_by_registry_id(session: Session, wanted: Iterable[RegistryId]) -> dict[RegistryId, int]:
    """Which of these registry ids the graph knows, and the trial that holds each."""
    statement = trials_by_registry_id_statement(wanted)
    return {} if statement is None else registry_id_owners(session.execute(statement))


def matching_trial(session: Session, record: Any) -> int | None:
    """The trial a record means by its registry ids (NCT first, then EudraCT, then EU CT)."""
    wanted = registry_ids_of(record)
    owners = trials_by_registry_id(session, wanted)
    return next(
        (owners[pair] for pair in sorted(wanted, key=_scheme_order) if pair in owners), None
    )


def _scheme_order(pair: RegistryId) -> int:
    return list(REGISTRY_COLUMNS).index(pair[0])
