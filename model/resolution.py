"""A node's values, chosen field by field from its records' claims by the precedence rule.

The winner of a field is the best-ranked claim that gives a value, so the result depends on
the set of records, never on the order they arrived in.  Fields whose claims disagree are
kept in `field_conflict`, which the `conflicts` query reads.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from model import store
from model.base import Base
from model.claims import Claim, claims_of, decode
from model.collaboration import Institution
from model.identity import FieldConflict
from model.normalize import fold_name
from model.precedence import Precedence
from model.sites import Site, site_place, site_rows
from model.trials import ClinicalTrial, TrialSite

# Claim keys that are not columns of their own name.
INSTITUTION_REFS = {"clinical_trial": {"sponsor": "sponsor_id"}}
SITES = "sites"


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


def institution_for(session: Session, ref: dict[str, Any]) -> Institution | None:
    """The institution a claimed reference ({"name", "ror", "key", ...}) means now."""
    name = ref.get("name")
    return store.find_institution(
        session,
        folded_names=[fold_name(name)] if name else [],
        ror_id=ref.get("ror"),
        key=ref.get("key"),
        registration_number=ref.get("registration_number"),
    )


def _comparable(session: Session, entity_type: str, field: str) -> Callable[[Any], Any]:
    """What two claims of `field` are compared by: references by the node they mean."""
    if field in INSTITUTION_REFS.get(entity_type, {}):

        def node_id(ref: Any) -> Any:
            found = institution_for(session, ref)
            return found.id if found else repr(sorted(ref.items()))

        return node_id
    return repr


def resolve(session: Session, entity: Base, precedence: Precedence) -> None:
    """Set `entity`'s claimed fields to their winning values and record its conflicts."""
    model = type(entity)
    entity_type = store.entity_type_of(model)
    session.flush()
    entity_id: int = entity.id  # type: ignore[attr-defined]
    claims = claims_of(session, entity_type, entity_id)
    if not claims:
        return
    refs = INSTITUTION_REFS.get(entity_type, {})
    conflicting = []
    for view in field_views(entity_type, claims, precedence):
        if view.field in refs:
            found = institution_for(session, view.value) if view.value else None
            setattr(entity, refs[view.field], found.id if found else None)
        elif view.value is not None or model.__table__.c[view.field].nullable:
            setattr(entity, view.field, decode(model, view.field, view.value))
        if precedence.can_conflict(entity_type, view.field):
            compare = _comparable(session, entity_type, view.field)
            given = {
                compare(c.values[view.field])
                for c in view.ranked
                if c.values[view.field] is not None
            }
            if len(given) > 1:
                conflicting.append(view.field)
    session.execute(
        delete(FieldConflict).where(
            FieldConflict.entity_type == entity_type, FieldConflict.entity_id == entity_id
        )
    )
    if conflicting:
        session.execute(
            insert(FieldConflict),
            [{"entity_type": entity_type, "entity_id": entity_id, "field": f} for f in conflicting],
        )
    if model is ClinicalTrial:
        _resolve_sites(session, entity_id, claims, precedence)


def _resolve_sites(
    session: Session, trial_id: int, claims: Sequence[Claim], precedence: Precedence
) -> None:
    """A trial's sites are every feed's sites, the best-ranked feed's name for a shared one."""
    ranked = sorted(
        claims, key=lambda c: (precedence.rank("clinical_trial", SITES, c.feed), c.source_id)
    )
    sites = [Site(*site) for claim in ranked for site in claim.values.get(SITES, [])]
    rows = site_rows(trial_id, [(site, site_place(session, site.name)) for site in sites])
    session.execute(delete(TrialSite).where(TrialSite.trial_id == trial_id))
    if rows:
        session.execute(insert(TrialSite), rows)
