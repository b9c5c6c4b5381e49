"""Leiden University Medical Center: one JSON export (export.json).

camelCase English field names, nested objects, dates as DD-MM-YYYY and timestamps in ISO 8601
with offsets; `lastModified` on each study is the incremental-sync cursor.  LUMC's values are
translated here; anything the tables below do not know passes through unchanged, so validation
names it in the quarantine.  A record's `row` is its 1-based position within its own list
(`studies`, `products`, ...), since a JSON document has no rows of its own.
"""

import datetime as dt
import re
import reprlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from atmp_graph import Identifier, NoConfig, SourceRow, Stream, hookimpl, kept_text
from atmp_graph.plugins.builtin.json_document import (
    JsonDocument,
    UnreadableJson,
    file_text,
    load_json,
    readable_text,
)
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.builtin.vocabulary import translate

ATMP_GRAPH_CONTRACT = "1.0"

FEED = "lumc"
EXPORT = "export.json"
# LUMC speaks for itself: it leads its projects, originates its products, signs its deals.
LUMC = {"ror": "05xvt9f17", "name": "Leiden University Medical Center"}

TRIAL_PHASES = {
    "Early Phase 1": "EARLY_PHASE1",
    "Phase 1": "PHASE1",
    "Phase 1/2": "PHASE1_PHASE2",
    "Phase 2": "PHASE2",
    "Phase 2/3": "PHASE2_PHASE3",
    "Phase 3": "PHASE3",
    "Phase 4": "PHASE4",
    "not applicable": "NA",
}
TRIAL_STATUSES = {
    "planned": "NOT_YET_RECRUITING",
    "recruiting": "RECRUITING",
    "active": "ACTIVE_NOT_RECRUITING",
    "suspended": "SUSPENDED",
    "terminated": "TERMINATED",
    "completed": "COMPLETED",
    "withdrawn": "WITHDRAWN",
}
ATMP_CLASSES = {
    "gene therapy": "GTMP",
    "somatic cell therapy": "SCTMP",
    "tissue engineered": "TEP",
    "combined": "COMBINED",
}
PRODUCT_STAGES = {
    "preclinical": "PRECLINICAL",
    "clinical": "CLINICAL",
    "phase 1": "PHASE1",
    "phase 2": "PHASE2",
    "phase 3": "PHASE3",
    "authorised": "AUTHORISED",
}
AREAS = {
    "research": "RESEARCH",
    "researcher exchange": "RESEARCHER_EXCHANGE",
    "education": "EDUCATION",
    "clinical studies": "CLINICAL_STUDIES",
    "product development": "PRODUCT_DEVELOPMENT",
    "industry collaboration": "INDUSTRY_COLLABORATION",
    "care delivery": "CARE_DELIVERY",
}
PROJECT_STATUSES = {"planned": "PLANNED", "active": "ONGOING", "completed": "COMPLETED"}
PARTNERSHIP_KINDS = {
    "licensing": "LICENSING",
    "sponsored research": "SPONSORED_RESEARCH",
    "collaborative research": "COLLABORATIVE_RESEARCH",
    "co-development": "CO_DEVELOPMENT",
    "manufacturing": "MANUFACTURING",
    "spin-out": "SPIN_OUT",
}
PARTNERSHIP_STATUSES = {"negotiation": "NEGOTIATION", "active": "ACTIVE", "ended": "ENDED"}
REGISTRIES = (
    # LUMC's registration key, record field, identifier scheme
    ("clinicaltrials.gov", "nct_id", "nct"),
    ("eudract", "eudract_id", "eudract"),
    ("euct", "euct_id", "euct"),
)
DUTCH_DATE = re.compile(r"(?P<day>\d{2})-(?P<month>\d{2})-(?P<year>\d{4})")


def _text(value: Any) -> str | None:
    """The value as stripped text; None when it is missing or blank."""
    if value is None:
        return None
    return str(value).strip() or None


def _date(value: Any) -> Any:
    """DD-MM-YYYY becomes ISO text when it is a real date; anything else passes through, so
    validation quarantines it showing LUMC's own value (31-02-2025, not 2025-02-31)."""
    match = DUTCH_DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return value
    try:
        return dt.date(int(match["year"]), int(match["month"]), int(match["day"])).isoformat()
    except ValueError:
        return value


def _timestamp(field: str, value: Any) -> dt.datetime:
    """An ISO 8601 timestamp with its offset; without one its moment is unknown."""
    try:
        moment = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"{field} {value!r} is not a timestamp with an offset (ISO 8601)")
    return moment


def _cursor(value: Any) -> str | None:
    """In UTC, so that cursors from any offset compare as text."""
    if _text(value) is None:
        return None
    return _timestamp("lastModified", value).astimezone(dt.UTC).isoformat()


def _registrations(item: Mapping[str, Any]) -> Mapping[str, Any]:
    return item.get("registrations") or {}


def _product(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": item.get("name"),
        "atmp_class": translate(ATMP_CLASSES, item.get("atmpType")),
        "stage": translate(PRODUCT_STAGES, item.get("stage")),
        "manufacturing_site": item.get("manufacturedAt"),
        "originator": LUMC,
    }


def _site(site: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": site.get("name"), "city": site.get("place"), "country": site.get("country")}


def _trial(item: Mapping[str, Any]) -> dict[str, Any]:
    registrations = _registrations(item)
    sponsor = _text(item.get("principalSponsor"))
    return {
        "local_id": item.get("studyId"),
        **{field: registrations.get(key) for key, field, _ in REGISTRIES},
        "title": item.get("title"),
        "acronym": item.get("shortName"),
        "phase": translate(TRIAL_PHASES, item.get("phase")),
        "status": translate(TRIAL_STATUSES, item.get("state")),
        "sponsor": {"name": sponsor} if sponsor else None,
        "conditions": [disease.get("label") for disease in item.get("diseases") or []],
        "product_ids": [item["productCode"]] if _text(item.get("productCode")) else [],
        "sites": [_site(site) for site in item.get("sites") or []],
        "start_date": _date(item.get("firstPatientIn")),
    }


def _project(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": item.get("name"),
        "area": translate(AREAS, item.get("theme")),
        "status": translate(PROJECT_STATUSES, item.get("status")),
        "start_date": _date(item.get("from")),
        "end_date": _date(item.get("until")),
        "lead": LUMC,
        "partners": [{"name": name} for name in item.get("partners") or []],
    }


def _terms(terms: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if terms is None:
        return None
    amount = terms.get("valueEUR")
    # An absent flag keeps the model's default: terms are confidential unless LUMC says not.
    confidential = {"confidential": terms["confidential"]} if "confidential" in terms else {}
    return {
        "value_amount": amount,
        "currency": "EUR" if amount is not None else None,
        **confidential,
    }


def _partnership(item: Mapping[str, Any]) -> dict[str, Any]:
    company = item.get("company") or {}
    return {
        "partner": {"name": company.get("name"), "registration_number": company.get("kvk")},
        "kind": translate(PARTNERSHIP_KINDS, item.get("kind")),
        "status": translate(PARTNERSHIP_STATUSES, item.get("status")),
        "start_date": _date(item.get("from")),
        "institutions": [LUMC],
        "product_ids": item.get("products") or [],
        "terms": _terms(item.get("terms")),
    }


def _identifiers(item: Mapping[str, Any]) -> tuple[Identifier, ...]:
    registrations = _registrations(item)
    pairs = ((scheme, _text(registrations.get(key))) for key, _, scheme in REGISTRIES)
    return tuple(Identifier(scheme, value) for scheme, value in pairs if value)


@dataclass(frozen=True)
class Section:
    """One list in the export: the entity it holds, its id (and cursor) field, its mapping,
    and labels (record field -> LUMC field) so that errors speak LUMC's language."""

    key: str
    entity: str
    id_field: str
    cursor_field: str | None
    to_record: Callable[[Mapping[str, Any]], dict[str, Any]]
    labels: Mapping[str, str]


# In reference order: products before the studies and collaborations that name them.
SECTIONS: tuple[Section, ...] = (
    Section(
        "products",
        "product",
        "code",
        None,
        _product,
        {
            "name": "name",
            "atmp_class": "atmpType",
            "stage": "stage",
            "manufacturing_site": "manufacturedAt",
        },
    ),
    Section(
        "studies",
        "clinical_trial",
        "studyId",
        "lastModified",
        _trial,
        {
            "local_id": "studyId",
            **{field: f"registrations.{key}" for key, field, _ in REGISTRIES},
            "title": "title",
            "acronym": "shortName",
            "phase": "phase",
            "status": "state",
            "sponsor": "principalSponsor",
            "conditions": "diseases",
            "product_ids": "productCode",
            "sites": "sites",
            "start_date": "firstPatientIn",
        },
    ),
    Section(
        "projects",
        "project",
        "id",
        None,
        _project,
        {
            "title": "name",
            "area": "theme",
            "status": "status",
            "start_date": "from",
            "end_date": "until",
            "partners": "partners",
        },
    ),
    Section(
        "collaborations",
        "partnership",
        "id",
        None,
        _partnership,
        {
            "partner": "company",
            "partner.name": "company.name",
            "partner.registration_number": "company.kvk",
            "kind": "kind",
            "status": "status",
            "start_date": "from",
            "product_ids": "products",
            "terms.value_amount": "terms.valueEUR",
            "terms.confidential": "terms.confidential",
        },
    ),
)


class LumcFeed:
    name = FEED
    title = "Leiden University Medical Center JSON export"
    version = "1.0"
    # Annotated as the FeedAdapter protocol declares them, so a LumcFeed type-checks as one.
    institution_ror: str | None = "05xvt9f17"
    streams = tuple(
        Stream(section.entity, primary_key=section.id_field, cursor_field=section.cursor_field)
        for section in SECTIONS
    )
    config_model: type[BaseModel] = NoConfig

    def sample(self) -> str:
        return str(sample_path(FEED) / EXPORT)

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        """Read export.json (or the directory holding it); studies not modified since
        `state["clinical_trial"]` are skipped."""
        path = Path(source) / EXPORT if Path(source).is_dir() else Path(source)
        data = path.read_bytes()
        try:
            parsed = load_json(data)
        except UnreadableJson as error:
            yield _unreadable_file(path.name, data, str(error))
            return
        document = parsed.value
        if not isinstance(document, dict):
            yield _unreadable_file(path.name, data, parsed.explain("is not a JSON object"))
            return
        exported = document.get("exportedAt")
        extracted_at = _timestamp("exportedAt", exported) if _text(exported) else None
        for section in SECTIONS:
            since = state.get(section.entity, "") if section.cursor_field else ""
            for position, item in enumerate(document.get(section.key) or [], start=1):
                row = self._row(section, item, parsed, file=path.name, position=position)
                # A study without lastModified cannot be placed in time, so it is always read.
                if row.cursor is not None and row.cursor <= since:
                    continue
                yield replace(row, extracted_at=extracted_at)

    def _row(
        self, section: Section, item: Any, document: JsonDocument, *, file: str, position: int
    ) -> SourceRow:
        problem, kept = document.check(item)
        if problem is not None:
            # Kept without a cursor: a record that could not be read does not move the state.
            source_id = item.get(section.id_field) if isinstance(item, Mapping) else None
            return SourceRow(
                entity=section.entity,
                source_id=readable_text(source_id),
                raw=kept or (item if isinstance(item, Mapping) else {"value": item}),
                file=file,
                row=position,
                problem=problem.reason,
                problem_field=problem.field,
            )
        if not isinstance(item, Mapping):
            return SourceRow(
                entity=section.entity,
                source_id=None,
                raw={"value": item},
                file=file,
                row=position,
                problem=f"is not a JSON object: {reprlib.repr(item)}",
            )
        row = SourceRow(
            entity=section.entity,
            source_id=_text(item.get(section.id_field)),
            raw=item,
            labels={"source_id": section.id_field, **section.labels},
            identifiers=_identifiers(item),
            file=file,
            row=position,
        )
        try:
            cursor = _cursor(item.get(section.cursor_field)) if section.cursor_field else None
        except ValueError as error:
            return replace(row, problem=str(error))
        return replace(row, cursor=cursor, data=section.to_record(item))


def _unreadable_file(file: str, data: bytes, reason: str) -> SourceRow:
    """An export that is not JSON at all: one quarantined record, the file's text."""
    return SourceRow(
        entity=SECTIONS[0].entity,
        source_id=None,
        raw=kept_text(file_text(data)),
        file=file,
        problem=reason,
    )


@hookimpl
def atmp_graph_feeds() -> list[LumcFeed]:
    return [LumcFeed()]


@hookimpl
def atmp_graph_claim_source(source: str) -> str | None:
    """LUMC's export says where it comes from in its first few hundred bytes."""
    path = Path(source)
    path = path / "export.json" if path.is_dir() else path
    if path.suffix != ".json" or not path.is_file():
        return None
    # Bytes that are not UTF-8 are the reader's to report, not a reason for this hook to fail.
    with path.open(encoding="utf-8", errors="replace") as export:
        head = export.read(512)
    return FEED if '"source": "LUMC research administration"' in head else None
