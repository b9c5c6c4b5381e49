"""What a validated record claims about the node it builds, field by field.

The claims are stored on the record's source record; the node's values are then chosen from
all of its records' claims by the precedence rule (identity/resolution.py), and its links are
those its records claim (identity/resolution.LINKS), so a link no feed sends any more goes.
Record types without an entry here build nodes that only their own feed describes.
"""

from collections.abc import Callable
from typing import Any

from atmp_graph.identity.claims import encode
from atmp_graph.plugins.records import (
    InstitutionRecord,
    InstitutionRef,
    ProductRecord,
    Record,
    TrialRecord,
)

TRIAL_FIELDS = (
    "nct_id", "eudract_id", "euct_id", "local_id", "title", "acronym", "phase", "status",
    "start_date", "completion_date", "enrollment", "study_type",
)  # fmt: skip


def _reference(ref: InstitutionRef | None) -> dict[str, Any] | None:
    """An institution as a claim names it: what finds it again, not how to create it."""
    if ref is None:
        return None
    names = {"name": ref.name, "ror": ref.ror, "key": ref.key}
    return {k: v for k, v in {**names, "registration_number": ref.registration_number}.items() if v}


def _trial(record: TrialRecord) -> dict[str, Any]:
    claims = {
        **{name: getattr(record, name) for name in TRIAL_FIELDS},
        "sponsor": _reference(record.sponsor),
        "sites": [[site.name, site.city, site.country] for site in record.sites],
        # Links: conditions by name, collaborators as references, products by source id.
        "conditions": list(record.conditions),
        "collaborators": [_reference(ref) for ref in record.collaborators],
        "product_ids": list(record.product_ids),
    }
    if record.title_from is not None:
        # The record gives no title, only a stand-in: any feed's real title wins over it.
        claims["title"] = None
    if record.interventions:
        # No column: the trial's interventions are read from its records' claims.
        claims["interventions"] = [i.model_dump() for i in record.interventions]
    return claims


def _product(record: ProductRecord) -> dict[str, Any]:
    return {
        "code": record.source_id,
        "name": record.name,
        "atmp_class": record.atmp_class,
        "modality": record.modality,
        "stage": record.stage,
        "intervention_type": record.intervention_type,
        "indications": list(record.indications),
    }


def _institution(record: InstitutionRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "key": record.key,
        "short_name": record.short_name,
        "kind": record.kind,
        "country": record.country,
        "city": record.city,
        "ror_id": record.ror,
        "registration_number": record.registration_number,
    }


CLAIMS: dict[type[Record], Callable[[Any], dict[str, Any]]] = {
    TrialRecord: _trial,
    ProductRecord: _product,
    InstitutionRecord: _institution,
}


def claims_of(record: Record) -> dict[str, Any] | None:
    """The record's claims, JSON-ready; None for kinds that only one feed describes."""
    build = CLAIMS.get(type(record))
    return None if build is None else {k: encode(v) for k, v in build(record).items()}
