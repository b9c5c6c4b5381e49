"""Which fields of a node a curator may set, and their values checked as a feed's are.

A curator may set the plain fields a feed's record claims for that kind (ingest/claims.py),
each checked by the record type's own field (plugins/records.py), so a curated phase is a
phase as surely as a feed's.  Links, sites and references stay the feeds', and so do the
codes each feed gives a node of its own (a trial's local id, a product's code, an
institution's reference-data key), which feeds find it by.
"""

from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from atmp_graph.identity.claims import encode
from atmp_graph.identity.curation import CURATED_KINDS, InvalidInput
from atmp_graph.ingest.claims import TRIAL_FIELDS
from atmp_graph.plugins.records import InstitutionRecord, ProductRecord, Record, TrialRecord

# kind -> (its record type, claim field -> the record field that checks it), for each kind of
# identity/curation.CURATED_KINDS
CURATABLE: dict[str, tuple[type[Record], dict[str, str]]] = {
    "clinical_trial": (TrialRecord, {name: name for name in TRIAL_FIELDS if name != "local_id"}),
    "product": (
        ProductRecord,
        {name: name for name in ("name", "atmp_class", "modality", "stage", "intervention_type")},
    ),
    "institution": (
        InstitutionRecord,
        {
            **{name: name for name in ("name", "short_name", "kind", "country", "city")},
            "ror_id": "ror",
            "registration_number": "registration_number",
        },
    ),
}


@cache
def _adapter(record_type: type[Record], field: str) -> TypeAdapter[Any]:
    info = record_type.model_fields[field]
    # The field's type with its validators (a phase in any case, a date as YYYY-MM-DD).
    annotated: Any = Annotated[info.annotation, *info.metadata]
    return TypeAdapter(annotated)


def _reason(error: ValidationError) -> str:
    detail = error.errors()[0]
    cause = (detail.get("ctx") or {}).get("error")
    return str(cause) if cause is not None else str(detail["msg"]).lower()


def check_curated_values(
    entity_type: str, values: Mapping[str, Any], *, name: Callable[[str], str] = str
) -> dict[str, Any]:
    """`values` (by claim field) checked for a node of `entity_type`, as claims hold them;
    InvalidInput names each bad field (as `name` spells it) and why."""
    if entity_type not in CURATABLE:
        named = ", ".join(CURATED_KINDS)
        raise InvalidInput([("node", f"{entity_type} nodes have no curated fields (only {named})")])
    record_type, fields = CURATABLE[entity_type]
    if not values:
        raise InvalidInput([("values", "is empty: give at least one field and its value")])
    checked: dict[str, Any] = {}
    problems = []
    for field, value in values.items():
        if field not in fields:
            allowed = ", ".join(name(f) for f in fields)
            problems.append((name(field), f"is not a field curators may set here ({allowed})"))
            continue
        try:
            valid = _adapter(record_type, fields[field]).validate_python(value)
        except ValidationError as error:
            problems.append((name(field), _reason(error)))
            continue
        if valid is None:
            problems.append((name(field), "is empty: clearCuratedFields removes a curated value"))
            continue
        checked[field] = encode(valid)
    if problems:
        raise InvalidInput(problems)
    return checked
