"""One ClinicalTrials.gov API v2 study → its medicinal interventions (products), then the trial.

Every intervention the study lists is one of the trial's interventions (name, type,
description); only drugs, biologicals, gene therapies and combination products are products
too.  A procedure, device, behavioural or radiation intervention, a dietary supplement, a
diagnostic test or "other" (placebo, standard care, "no intervention") is not, and a control
arm with no intervention gives nothing.  Each product row names the trial as its parent, so it
is written only with the trial.

Values pass through as the registry gives them (its upper-case enums are the model's own);
what the tables below do not know passes through unchanged, so validation names it in the
quarantine with the registry's field path.  A missing module or field is null, never an error.
"""

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pycountry

from atmp_graph import EU_CT_NUMBER, EUDRACT_NUMBER, Identifier, SourceRow, canonical_eudract
from atmp_graph.plugins.builtin.ctgov.sources import Origin

PROTOCOL = "protocolSection"
IDENTIFICATION = f"{PROTOCOL}.identificationModule"
STATUS = f"{PROTOCOL}.statusModule"
SPONSORS = f"{PROTOCOL}.sponsorCollaboratorsModule"
DESIGN = f"{PROTOCOL}.designModule"
CONDITIONS = f"{PROTOCOL}.conditionsModule.conditions"
INTERVENTIONS = f"{PROTOCOL}.armsInterventionsModule.interventions"
LOCATIONS = f"{PROTOCOL}.contactsLocationsModule.locations"
CURSOR_FIELD = f"{STATUS}.lastUpdatePostDateStruct.date"

# Country names the registry uses that pycountry does not know (older ISO short names).
COUNTRIES = {
    "Turkey": "TR",
    "Macedonia, The Former Yugoslav Republic of": "MK",
    "Palestinian Territory, occupied": "PS",
    "Libyan Arab Jamahiriya": "LY",
    "Virgin Islands (U.S.)": "VI",
    "Swaziland": "SZ",
    "Cape Verde": "CV",
    "Burma": "MM",
    "Kosovo": "XK",  # not in ISO 3166, but the code the EU and the registry's partners use
    "Netherlands Antilles": "AN",  # ISO 3166-3: dissolved in 2010, still on old records
    "Former Serbia and Montenegro": "CS",  # ISO 3166-3: likewise
}
# The intervention types that are medicinal products (a combination product is a drug or
# biological with a device, as a combined ATMP is); the others stay interventions only.
MEDICINAL = frozenset({"DRUG", "BIOLOGICAL", "GENETIC", "COMBINATION_PRODUCT"})
# Sponsor classes → institution kinds, used only for an institution nobody has named before.
SPONSOR_KINDS = {"INDUSTRY": "COMPANY"}
# The registry gives some dates to the month only ("2022-02"); the model has no precision
# column, so those are stored as the first of the month.
MONTH = re.compile(r"^\d{4}-\d{2}$")

TRIAL_LABELS = {
    "source_id": f"{IDENTIFICATION}.nctId",
    "nct_id": f"{IDENTIFICATION}.nctId",
    "local_id": f"{IDENTIFICATION}.orgStudyIdInfo.id",
    "eudract_id": f"{IDENTIFICATION}.secondaryIdInfos",
    "euct_id": f"{IDENTIFICATION}.secondaryIdInfos",
    "title": f"{IDENTIFICATION}.briefTitle",
    "acronym": f"{IDENTIFICATION}.acronym",
    "status": f"{STATUS}.overallStatus",
    "start_date": f"{STATUS}.startDateStruct.date",
    "completion_date": f"{STATUS}.completionDateStruct.date",
    "phase": f"{DESIGN}.phases",
    "enrollment": f"{DESIGN}.enrollmentInfo.count",
    "study_type": f"{DESIGN}.studyType",
    "sponsor": f"{SPONSORS}.leadSponsor.name",
    "collaborators": f"{SPONSORS}.collaborators",
    "conditions": CONDITIONS,
    "sites": LOCATIONS,
    "product_ids": INTERVENTIONS,
    "interventions": INTERVENTIONS,
}


def at(document: Any, path: str) -> Any:
    """The value at a dotted path, or None where any step is missing or not an object."""
    for key in path.split("."):
        if not isinstance(document, Mapping):
            return None
        document = document.get(key)
    return document


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _listed(study: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each object in the list at `path`, with its own path (`...locations[2]`) for labels."""
    items = at(study, path)
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, Mapping):
            yield f"{path}[{index}]", item


def last_update(study: Any) -> str | None:
    """The study's cursor: the date its last update was posted (ISO text)."""
    return _text(at(study, CURSOR_FIELD))


@functools.cache
def country_code(name: str) -> str:
    """The ISO alpha-2 code of a country name; an unknown name passes through to validation."""
    if name in COUNTRIES:
        return COUNTRIES[name]
    try:
        return str(pycountry.countries.lookup(name).alpha_2)
    except LookupError:
        return name


def _date(value: Any) -> Any:
    return f"{value.strip()}-01" if isinstance(value, str) and MONTH.match(value.strip()) else value


def _phase(phases: Any) -> Any:
    """["PHASE1", "PHASE2"] is PHASE1_PHASE2: the model spells combined phases out."""
    if isinstance(phases, list):
        return "_".join(sorted(str(phase) for phase in phases)) or None
    return phases


def _registry_ids(study: Any) -> dict[str, tuple[str, str]]:
    """EudraCT and EU CT numbers among the secondary ids: scheme → (value, its field path).

    The shape decides where the registry's type does not: transitioned trials list their EU CT
    number as EUDRACT_NUMBER.  A malformed id typed EudraCT or CTIS passes through to validation.
    """
    found: dict[str, tuple[str, str]] = {}
    for where, info in _listed(study, f"{IDENTIFICATION}.secondaryIdInfos"):
        value = _text(info.get("id"))
        if value is None:
            continue
        value = canonical_eudract(value)  # also `EUCTR2019-002343-14-NL`, as WHO writes it
        kind = info.get("type")
        if EU_CT_NUMBER.match(value) or (kind == "CTIS" and not EUDRACT_NUMBER.match(value)):
            found.setdefault("euct", (value, f"{where}.id"))
        elif EUDRACT_NUMBER.match(value) or kind == "EUDRACT_NUMBER":
            found.setdefault("eudract", (value, f"{where}.id"))
    return found


def _institution(party: Any) -> dict[str, Any] | None:
    if not isinstance(party, Mapping) or (name := _text(party.get("name"))) is None:
        return None
    return {"name": name, "kind": SPONSOR_KINDS.get(str(party.get("class")))}


def _site(location: Mapping[str, Any]) -> dict[str, Any] | None:
    """A location; one without a facility name is named by its city (or country)."""
    city, country = _text(location.get("city")), _text(location.get("country"))
    name = _text(location.get("facility")) or city or country
    if name is None:
        return None
    return {"name": name, "city": city, "country": country_code(country) if country else None}


def _interventions(study: Any, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every named intervention, as the registry lists it (its labels go into `labels`)."""
    found: list[dict[str, Any]] = []
    for where, intervention in _listed(study, INTERVENTIONS):
        if (name := _text(intervention.get("name"))) is None:
            continue
        for field in ("name", "type", "description"):
            labels[f"interventions.{len(found)}.{field}"] = f"{where}.{field}"
        found.append(
            {
                "name": name,
                "type": intervention.get("type"),
                "description": intervention.get("description"),
            }
        )
    return found


def _trial(study: Any, product_ids: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The trial record's fields, and labels naming each in the registry's words."""
    labels = dict(TRIAL_LABELS)
    ids = _registry_ids(study)
    for scheme, field in (("eudract", "eudract_id"), ("euct", "euct_id")):
        if scheme in ids:
            labels[field] = ids[scheme][1]
    title = _text(at(study, f"{IDENTIFICATION}.briefTitle"))
    if title is None:
        title = at(study, f"{IDENTIFICATION}.officialTitle")
        labels["title"] = f"{IDENTIFICATION}.officialTitle"
    collaborators: list[dict[str, Any]] = []
    for where, party in _listed(study, f"{SPONSORS}.collaborators"):
        if (ref := _institution(party)) is not None:
            labels[f"collaborators.{len(collaborators)}"] = f"{where}.name"
            collaborators.append(ref)
    sites: list[dict[str, Any]] = []
    for where, location in _listed(study, LOCATIONS):
        if (site := _site(location)) is not None:
            index = len(sites)
            labels[f"sites.{index}"] = where
            for field, key in (("name", "facility"), ("city", "city"), ("country", "country")):
                labels[f"sites.{index}.{field}"] = f"{where}.{key}"
            sites.append(site)
    data = {
        "nct_id": at(study, f"{IDENTIFICATION}.nctId"),
        "local_id": at(study, f"{IDENTIFICATION}.orgStudyIdInfo.id"),
        "eudract_id": ids["eudract"][0] if "eudract" in ids else None,
        "euct_id": ids["euct"][0] if "euct" in ids else None,
        "title": title,
        "acronym": at(study, f"{IDENTIFICATION}.acronym"),
        "status": at(study, f"{STATUS}.overallStatus"),
        "start_date": _date(at(study, f"{STATUS}.startDateStruct.date")),
        "completion_date": _date(at(study, f"{STATUS}.completionDateStruct.date")),
        "phase": _phase(at(study, f"{DESIGN}.phases")),
        "enrollment": at(study, f"{DESIGN}.enrollmentInfo.count"),
        "study_type": at(study, f"{DESIGN}.studyType"),
        "sponsor": _institution(at(study, f"{SPONSORS}.leadSponsor")),
        "collaborators": collaborators,
        "sites": sites,
        "conditions": [text for item in _list(at(study, CONDITIONS)) if (text := _text(item))],
        "product_ids": product_ids,
        "interventions": _interventions(study, labels),
    }
    return data, labels


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _identifiers(nct_id: str | None, study: Any) -> tuple[Identifier, ...]:
    registry_ids = [(scheme, value) for scheme, (value, _) in _registry_ids(study).items()]
    pairs = [("nct", nct_id), *registry_ids]
    return tuple(Identifier(scheme, value) for scheme, value in pairs if value)


def _row(origin: Origin, **fields: Any) -> SourceRow:
    return SourceRow(
        file=origin.file, source_uri=origin.uri, extracted_at=origin.fetched_at, **fields
    )


def study_rows(study: Any, *, origin: Origin, cursor: str | None) -> Iterator[SourceRow]:
    """The study's products (one per named medicinal intervention), then the trial that
    tests them."""
    if not isinstance(study, Mapping):
        problem = "is not a study (a JSON object with a protocolSection)"
        yield _row(
            origin, entity="clinical_trial", source_id=None, raw={"study": study}, problem=problem
        )
        return
    nct_id = _text(at(study, f"{IDENTIFICATION}.nctId"))
    product_ids: list[str] = []
    for path, intervention in _listed(study, INTERVENTIONS):
        if str(intervention.get("type") or "").upper() not in MEDICINAL:
            continue
        name = _text(intervention.get("name"))
        source_id = f"{nct_id}/{name}" if nct_id and name else None
        labels = {
            # Without the study's nctId no product id can be made: blame the nctId.
            "source_id": f"{path}.name" if nct_id else TRIAL_LABELS["nct_id"],
            "name": f"{path}.name",
            "intervention_type": f"{path}.type",
        }
        data = {"name": name, "intervention_type": intervention.get("type")}
        if source_id and source_id not in product_ids:
            product_ids.append(source_id)
        yield _row(
            origin,
            entity="product",
            source_id=source_id,
            data=data,
            raw=intervention,
            labels=labels,
            cursor=cursor,
            parent=("clinical_trial", nct_id) if nct_id else None,
        )
    data, labels = _trial(study, product_ids)
    yield _row(
        origin,
        entity="clinical_trial",
        source_id=nct_id,
        data=data,
        raw=study,
        labels=labels,
        identifiers=_identifiers(nct_id, study),
        cursor=cursor,
    )
