"""A node's values, chosen field by field from its records' claims by the precedence rule.

The winner of a field is the best-ranked claim that gives a value, so the result depends on
the set of records, never on the order they arrived in.  Fields whose claims disagree are
kept in `field_conflict`, which the `conflicts` query reads.  A node's sites and links are
every claim's, so a site or link no record claims any more goes.  Only the claims of live
records count; a node whose records are all retired is chosen from those, and so stays what it
was (its disagreements are no longer listed).
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.orm import Session

from atmp_graph.identity import lookup
from atmp_graph.identity.claims import Claim, claims_for, decode
from atmp_graph.identity.lookup_cache import LookupCache
from atmp_graph.identity.precedence import CURATION, Precedence
from atmp_graph.identity.sites import Site, site_rows
from atmp_graph.model import change_tracking, kinds, links
from atmp_graph.model.base import Base
from atmp_graph.model.identity import FieldConflict
from atmp_graph.model.trials import ClinicalTrial, TrialSite

# Kinds whose values also come from feeds that only name them (a sponsor's ROR id, a
# company's registration number): a field no record of their own gives keeps that value.
ALSO_NAMED = {"institution"}
# Claim keys that are not columns of their own name.
INSTITUTION_REFS = {"clinical_trial": {"sponsor": "sponsor_id"}}
SITES = "sites"
# Claims that are links, not fields: relation -> (claim key, what a claimed value names).  A
# condition is named by its name, an institution by a reference, a product by its source id
# in the claiming record's feed.
LINKS: dict[str, dict[str, tuple[str, str]]] = {
    "clinical_trial": {
        "conditions": ("conditions", "condition"),
        "collaborators": ("collaborators", "institution"),
        "products": ("product_ids", "product"),
    },
    "product": {"indications": ("indications", "condition")},
}


def _not_fields(entity_type: str) -> set[str]:
    return {SITES, *(key for key, _ in LINKS.get(entity_type, {}).values())}


# A trial no record gives a title is named by the first of these it has (as plugins/records.py
# names a record without one), so a real title from any feed always wins over a stand-in.
TITLE_STAND_INS = ("acronym", "nct_id", "eudract_id", "euct_id")


@dataclass(frozen=True)
class FieldView:
    """One field of a node: every claim that gives it, best first, and the winning value."""

    field: str
    ranked: tuple[Claim, ...]
    winner: Claim | None

    @property
    def value(self) -> Any:
        return None if self.winner is None else self.winner.values[self.field]


def field_views(
    entity_type: str, claims: Sequence[Claim], precedence: Precedence
) -> list[FieldView]:
    """Each field the claims speak of (sites and links aside), ranked by the precedence rule."""
    names = sorted({name for claim in claims for name in claim.values} - _not_fields(entity_type))
    views = []
    for name in names:
        ranked = tuple(
            sorted(
                (claim for claim in claims if name in claim.values),
                key=lambda claim: (precedence.rank(entity_type, name, claim.feed), claim.source_id),
            )
        )
        winner = next((claim for claim in ranked if claim.values[name] is not None), None)
        views.append(FieldView(name, ranked, winner))
    return views


def _targets(
    session: Session, lookups: LookupCache, kind: str, claims: Sequence[Claim], key: str
) -> list[list[int]]:
    """The ids of what each claim's `key` names (those found), in the claims' order: a query
    per kind (and feed) for all of them."""
    named = [list(claim.values.get(key) or []) for claim in claims]
    if kind == "condition":
        lookups.find_conditions({name for names in named for name in names})
        found = [[lookups.condition_id(name) for name in names] for names in named]
    elif kind == "institution":
        found = [[lookups.institution_id(ref) for ref in refs] for refs in named]
    else:
        by_feed: dict[str, set[str]] = defaultdict(set)
        for claim, source_ids in zip(claims, named, strict=True):
            by_feed[claim.feed].update(source_ids)
        built = {
            feed: lookup.built_entity_ids(session, feed=feed, entity_type=kind, source_ids=ids)
            for feed, ids in by_feed.items()
        }
        found = [
            [built[claim.feed].get(source_id) for source_id in source_ids]
            for claim, source_ids in zip(claims, named, strict=True)
        ]
    return [[target for target in ids if target is not None] for ids in found]


def resolve(session: Session, entity: Base, precedence: Precedence) -> None:
    """Set `entity`'s claimed fields to their winning values and record its conflicts."""
    session.flush()
    resolve_many(session, type(entity), [entity.id], precedence)  # type: ignore[attr-defined]
    session.expire(entity)


def resolve_many(
    session: Session,
    model: type[Base],
    ids: Sequence[int],
    precedence: Precedence,
    *,
    cache: LookupCache | None = None,
) -> None:
    """`resolve` for many nodes of one kind, with a handful of statements in all."""
    entity_type = kinds.entity_type_of(model)
    table = kinds.table_of(model)
    claims = claims_for(session, entity_type, ids)
    lookups = cache or LookupCache(session)
    refs = INSTITUTION_REFS.get(entity_type, {})
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    conflicts = []
    # What they were, for the change history, before the UPDATE below goes around the ORM.
    change_tracking.capture(session, model, ids)
    for entity_id, given in claims.items():
        values: dict[str, Any] = {}
        for view in field_views(entity_type, given, precedence):
            if view.field in refs:
                values[refs[view.field]] = (
                    lookups.institution_id(view.value) if view.value else None
                )
            elif view.field not in table.c:
                pass  # no column: read from the claims themselves (a trial's interventions)
            elif view.value is not None or (
                table.c[view.field].nullable and entity_type not in ALSO_NAMED
            ):
                values[view.field] = decode(model, view.field, view.value)
            if (
                given[0].retired_at is None
                and precedence.can_conflict(entity_type, view.field)
                # A field a curator set is settled, whatever the feeds say.
                and (view.winner is None or view.winner.feed != CURATION)
                and _disagree(view, lookups, refs)
            ):
                conflicts.append(
                    {"entity_type": entity_type, "entity_id": entity_id, "field": view.field}
                )
        if model is ClinicalTrial and "title" not in values:
            stand_in = next((values[f] for f in TITLE_STAND_INS if values.get(f)), None)
            if stand_in is not None:
                values["title"] = stand_in
        updates[tuple(sorted(values))].append({"_id": entity_id, **values})
    for columns, rows in updates.items():
        if columns:
            # executemany: one statement however many nodes.
            session.execute(
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in columns}),
                rows,
                execution_options={"synchronize_session": False},
            )
    session.execute(
        delete(FieldConflict).where(
            FieldConflict.entity_type == entity_type, FieldConflict.entity_id.in_(ids)
        )
    )
    if conflicts:
        session.execute(insert(FieldConflict), conflicts)
    if model is ClinicalTrial:
        _resolve_sites(session, claims, precedence, lookups)
    _resolve_links(session, model, claims, lookups)


def _resolve_links(
    session: Session, model: type[Base], claims: dict[int, list[Claim]], lookups: LookupCache
) -> None:
    """Each link relation of these nodes holds what their records claim.  A node with a
    record stored before records claimed links keeps the links it has, and gains the claimed
    ones: nobody can tell which of its links that record sent (it is written again, with its
    claims, the next time it is read)."""
    entity_type = kinds.entity_type_of(model)
    # Curators set fields, never links: their claims say nothing of a node's links.
    fed = {
        node_id: [claim for claim in given if claim.feed != CURATION]
        for node_id, given in claims.items()
    }
    claims = {node_id: given for node_id, given in fed.items() if given}
    owners = [(node_id, claim) for node_id, given in claims.items() for claim in given]
    for relation, (key, kind) in LINKS.get(entity_type, {}).items():
        targets = _targets(session, lookups, kind, [claim for _, claim in owners], key)
        claimed: dict[int, list[int]] = {node_id: [] for node_id in claims}
        for (node_id, _), ids in zip(owners, targets, strict=True):
            claimed[node_id] += ids
        exact = [
            node_id
            for node_id, given in claims.items()
            if all(key in claim.values for claim in given)
        ]
        pairs = [(node_id, t) for node_id, ids in claimed.items() for t in dict.fromkeys(ids)]
        links.delete_links(session, model, relation, exact)
        kept = links.linked_pairs(session, model, relation, sorted(set(claims) - set(exact)))
        links.insert_links(session, model, relation, [pair for pair in pairs if pair not in kept])


def _disagree(view: FieldView, lookups: LookupCache, refs: dict[str, str]) -> bool:
    """Whether the claims give different values; references compare by the node they mean."""
    given = [c.values[view.field] for c in view.ranked if c.values[view.field] is not None]
    if view.field in refs:
        return len({lookups.institution_id(ref) or _key(ref) for ref in given}) > 1
    return len({_key(value) for value in given}) > 1


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _resolve_sites(
    session: Session,
    claims: dict[int, list[Claim]],
    precedence: Precedence,
    lookups: LookupCache,
) -> None:
    """A trial's sites are every feed's sites, the best-ranked feed's name for a shared one."""
    rows = []
    for trial_id, given in claims.items():
        ranked = sorted(
            given, key=lambda c: (precedence.rank("clinical_trial", SITES, c.feed), c.source_id)
        )
        sites = [Site(*site) for claim in ranked for site in claim.values.get(SITES, [])]
        rows += site_rows(trial_id, [(site, lookups.place(site.name)) for site in sites])
    session.execute(delete(TrialSite).where(TrialSite.trial_id.in_(list(claims))))
    if rows:
        session.execute(insert(TrialSite), rows)
