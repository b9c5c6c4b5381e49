"""How a record's references resolve while it is written: to other records of its feed
(stored, parked until a quarantined one arrives, or unknown), and to institutions and
conditions by identifier, name or alias (each remembered in `named`, so the record is among
the sources of what it names: ingest/named.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from atmp_graph.enums import InstitutionKind
from atmp_graph.identity import aliases, lookup
from atmp_graph.identity.precedence import Precedence
from atmp_graph.identity.resolution import resolve_many
from atmp_graph.ingest import source_records
from atmp_graph.ingest.named import Named
from atmp_graph.model import (
    Base,
    ClinicalTrial,
    Institution,
    PendingLink,
    QuarantinedRecord,
    kinds,
    links,
)
from atmp_graph.normalize import fold_name
from atmp_graph.plugins.records import InstitutionRef


class UnknownReference(Exception):
    """The record points at a record its feed never sent."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


@dataclass
class FeedReferences:
    """References from one record to other records of the same feed, resolved or parked."""

    resolved: dict[str, list[int]] = field(default_factory=dict)
    parked: list[tuple[str, str, str]] = field(default_factory=list)  # relation, entity, id


@dataclass
class WriteContext:
    session: Session
    feed: str
    precedence: Precedence
    quarantined: set[tuple[str, str]] = field(default_factory=set)
    # The institutions, people and conditions the record being written names.
    named: Named = field(default_factory=Named)

    def references(self, wanted: Sequence[tuple[str, str, str, Sequence[str]]]) -> FeedReferences:
        """Resolve (record field, relation, target entity, source ids) before anything is written.

        A target the feed stored links now; one it quarantined is parked until it arrives
        valid; one it never sent rejects the record.
        """
        references = FeedReferences()
        for record_field, relation, target_entity, source_ids in wanted:
            ids = references.resolved.setdefault(relation, [])
            for source_id in source_ids:
                target = lookup.built_entity_id(
                    self.session, feed=self.feed, entity_type=target_entity, source_id=source_id
                )
                if target is not None:
                    ids.append(target)
                elif self._is_quarantined(target_entity, source_id):
                    references.parked.append((relation, target_entity, source_id))
                else:
                    raise UnknownReference(
                        record_field,
                        source_id,
                        f"{source_id!r} names no {target_entity.replace('_', ' ')} in this feed",
                    )
        return references

    def _is_quarantined(self, entity: str, source_id: str) -> bool:
        if (entity, source_id) in self.quarantined:
            return True
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        QuarantinedRecord.feed == self.feed,
                        QuarantinedRecord.entity_type == entity,
                        QuarantinedRecord.source_id == source_id,
                    )
                )
            )
        )

    def link(self, owner: Base, references: FeedReferences) -> None:
        """Set the owner's many-to-many links to its feed's records; park the rest."""
        owner_id: int = owner.id  # type: ignore[attr-defined]
        for relation, ids in references.resolved.items():
            links.replace_links(self.session, type(owner), owner_id, relation, ids)
        self.park(owner, references)

    def park(self, owner: Base, references: FeedReferences) -> None:
        """Links to records of the feed that are quarantined wait until they arrive valid."""
        owner_type = type(owner)
        owner_id: int = owner.id  # type: ignore[attr-defined]
        for relation, target_entity, source_id in references.parked:
            source_records.park_link(
                self.session,
                PendingLink(
                    feed=self.feed,
                    entity_type=kinds.entity_type_of(owner_type),
                    entity_id=owner_id,
                    relation=relation,
                    target_entity_type=target_entity,
                    target_source_id=source_id,
                ),
            )

    def institution(self, ref: InstitutionRef) -> Institution:
        """The institution `ref` means: by id, then name or alias, then a facility's owner.

        An institution nobody has named before is created, with its name as its first alias.
        """
        found = lookup.institution_for(self.session, ref.model_dump(exclude_none=True))
        if found is not None:
            if ref.name and (ref.ror or ref.key or ref.registration_number):
                # The name a feed gives with the id finds it next time, without the id.
                aliases.add_aliases(self.session, found, alias_pairs([ref.name]))
            _fill_gaps(found, ref)
            self.named.nodes.append(found)
            return found
        institution = lookup.new_institution(
            self.session, name=ref.name or ref.key or ref.ror or "?", kind=ref.kind
        )
        institution.key, institution.ror_id = ref.key, ref.ror
        institution.registration_number = ref.registration_number
        institution.country, institution.city = ref.country, ref.city
        if ref.name:
            names = alias_pairs([ref.name])
            aliases.add_aliases(self.session, institution, names)
            # Sites of that name, placed when nothing had it, are this institution's.
            place_sites_again(self.session, names, self.precedence)
        self.named.nodes.append(institution)
        return institution

    def institution_ids(self, refs: Sequence[InstitutionRef]) -> list[int]:
        institutions = [self.institution(ref) for ref in refs]
        self.session.flush()
        return [institution.id for institution in institutions]

    def maybe_institution(self, ref: InstitutionRef | None) -> Institution | None:
        return None if ref is None else self.institution(ref)

    def conditions(self, names: Sequence[str]) -> list[int]:
        ids = lookup.condition_ids(self.session, alias_pairs(names))
        self.named.condition_ids.extend(ids)
        return ids


def _fill_gaps(institution: Institution, ref: InstitutionRef) -> None:
    """What one feed says of an institution that another named first, where nothing is known:
    the graph ends up the same whichever feed named it first.  (An identifier here is free:
    a holder of it would have been found first.)"""
    for column, value in (
        ("ror_id", ref.ror),
        ("key", ref.key),
        ("registration_number", ref.registration_number),
        ("country", ref.country),
        ("city", ref.city),
    ):
        if value and getattr(institution, column) is None:
            setattr(institution, column, value)
    if ref.kind and institution.kind in (None, InstitutionKind.OTHER):
        institution.kind = ref.kind


def place_sites_again(
    session: Session, names: Sequence[tuple[str, str]], precedence: Precedence
) -> None:
    """Trials with sites under these names, placed before the names were known, are placed
    again (and sites that turn out to be one place become one)."""
    trial_ids = lookup.trials_at_sites(session, [folded for _, folded in names])
    if trial_ids:
        resolve_many(session, ClinicalTrial, trial_ids, precedence)


def alias_pairs(names: Sequence[str]) -> list[tuple[str, str]]:
    return [(name, fold_name(name)) for name in names if fold_name(name)]
