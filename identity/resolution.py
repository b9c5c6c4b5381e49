"""A node's values, chosen field by field from its records' claims by the precedence rule.

The winner of a field is the best-ranked claim that gives a value, so the result depends on
the set of records, never on the order they arrived in.  Fields whose claims disagree are
kept in `field_conflict`, which the `conflicts` query reads.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.orm import Session

from atmp_graph.identity.claims import Claim, claims_for, decode
from atmp_graph.identity.lookup_cache import LookupCache
from atmp_graph.identity.precedence import Precedence
from atmp_graph.identity.sites import Site, site_rows
from atmp_graph.model import kinds
from atmp_graph.model.base import Base
from atmp_graph.model.identity import FieldConflict
from atmp_graph.model.trials import ClinicalTrial, TrialSite

# Kinds whose values also come from feeds that only name them (a sponsor's ROR id, a
# company's registration number): a field no record of their own gives keeps that value.
ALSO_NAMED = {"institution"}
# Claim keys that are not columns of their own name.
INSTITUTION_REFS = {"clinical_trial": {"sponsor": "sponsor_id"}}
SITES = "sites"
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
    """Each field the claims speak of (sites aside), ranked by the precedence rule."""
    names = sorted({name for claim in claims for name in claim.values} - {SITES})
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
            if precedence.can_conflict(entity_type, view.field) and _disagree(view, lookups, refs):
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
