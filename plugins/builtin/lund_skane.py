"""Lund University / Skåne University Hospital: four Swedish CSV exports.

UTF-8 with a byte-order mark, `;` between fields, `|` between values in one field, dates as
YYYY-MM-DD, amounts in SEK with spaces between thousands.  Swedish column names and values are
translated here; anything the tables below do not know passes through unchanged, so validation
names it in the quarantine.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from atmp_graph import Identifier, NoConfig, SourceRow, Stream, hookimpl, kept_text
from atmp_graph.plugins.builtin.csv_records import CsvRecord, csv_records
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.builtin.vocabulary import translate

ATMP_GRAPH_CONTRACT = "1.0"

FEED = "lund_skane"
# The export covers both institutions and does not say which signed each agreement.
PARTIES = ({"key": "lund-university"}, {"key": "skane-university-hospital"})

AREAS = {
    "Forskning": "RESEARCH",
    "Forskarutbyte": "RESEARCHER_EXCHANGE",
    "Utbildning": "EDUCATION",
    "Klinisk studie": "CLINICAL_STUDIES",
    "Produktutveckling": "PRODUCT_DEVELOPMENT",
    "Industrisamverkan": "INDUSTRY_COLLABORATION",
    "Vårdleverans": "CARE_DELIVERY",
}
PROJECT_STATUSES = {"Planerad": "PLANNED", "Pågående": "ONGOING", "Avslutad": "COMPLETED"}
TRIAL_STATUSES = {
    "Planerad": "NOT_YET_RECRUITING",
    "Rekryterar": "RECRUITING",
    "Pågående, rekryterar ej": "ACTIVE_NOT_RECRUITING",
    "Avslutad": "COMPLETED",
    "Avbruten": "TERMINATED",
}
TRIAL_PHASES = {
    "I": "PHASE1",
    "I/II": "PHASE1_PHASE2",
    "II": "PHASE2",
    "II/III": "PHASE2_PHASE3",
    "III": "PHASE3",
    "IV": "PHASE4",
}
PRODUCT_STAGES = {
    "Preklinisk": "PRECLINICAL",
    "Klinisk": "CLINICAL",
    "Fas I": "PHASE1",
    "Fas II": "PHASE2",
    "Fas III": "PHASE3",
    "Godkänd": "AUTHORISED",
}
ATMP_CLASSES = {"combined ATMP": "COMBINED", "kombinerad": "COMBINED"}
PARTNERSHIP_KINDS = {
    "Licensavtal": "LICENSING",
    "Tillverkningsavtal": "MANUFACTURING",
    "Samarbetsforskning": "COLLABORATIVE_RESEARCH",
    "Uppdragsforskning": "SPONSORED_RESEARCH",
    "Samutveckling": "CO_DEVELOPMENT",
    "Avknoppning": "SPIN_OUT",
}
PARTNERSHIP_STATUSES = {
    "Aktivt": "ACTIVE",
    "Under förhandling": "NEGOTIATION",
    "Avslutat": "ENDED",
}
YES_NO = {"Ja": True, "Nej": False}
# "STEM-PD: säkerhet och ..." carries the trial's acronym before the colon.
ACRONYM = re.compile(r"^(?P<acronym>[A-Z0-9][A-Z0-9-]{1,19}):\s")


def _values(cell: str) -> list[str]:
    return [value.strip() for value in cell.split("|") if value.strip()]


def _site(cell: str) -> dict[str, str | None]:
    name, _, city = cell.rpartition(",")
    return {"name": name.strip(), "city": city.strip()} if name else {"name": cell.strip()}


def _product(row: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": row["Namn"],
        "atmp_class": translate(ATMP_CLASSES, row["ATMP-klass"]),
        "modality": row["Modalitet"],
        "stage": translate(PRODUCT_STAGES, row["Utvecklingsfas"]),
        "indications": _values(row["Indikation"]),
        "manufacturing_site": row["Tillverkningsställe"],
    }


def _project(row: Mapping[str, str]) -> dict[str, Any]:
    return {
        "title": row["Titel"],
        "area": translate(AREAS, row["Område"]),
        "status": translate(PROJECT_STATUSES, row["Status"]),
        "start_date": row["Start"],
        "end_date": row["Slut"],
        "lead_unit": row["Ansvarig enhet"],
        "lead": {"name": row["Ansvarig enhet"]} if row["Ansvarig enhet"].strip() else None,
        "partners": [{"ror": ror} for ror in _values(row["Partner-ROR"])],
        "conditions": _values(row["Diagnos"]),
        "product_ids": _values(row["Produkt-ID"]),
    }


def _trial(row: Mapping[str, str]) -> dict[str, Any]:
    acronym = ACRONYM.match(row["Titel"])
    return {
        "local_id": row["Studie-ID"],
        "nct_id": row["NCT"],
        "eudract_id": row["EudraCT"],
        "title": row["Titel"],
        "acronym": acronym["acronym"] if acronym else None,
        "phase": translate(TRIAL_PHASES, row["Fas"]),
        "status": translate(TRIAL_STATUSES, row["Status"]),
        "sponsor": {"name": row["Sponsor"]} if row["Sponsor"].strip() else None,
        "enrollment": row["Antal patienter"],
        "conditions": _values(row["Diagnos"]),
        "product_ids": _values(row["Produkt-ID"]),
        "sites": [_site(site) for site in _values(row["Prövningsställen"])],
        "start_date": row["Startdatum"],
    }


def _partnership(row: Mapping[str, str]) -> dict[str, Any]:
    return {
        "partner": {"name": row["Företag"], "registration_number": row["Organisationsnummer"]},
        "kind": translate(PARTNERSHIP_KINDS, row["Avtalstyp"]),
        "status": translate(PARTNERSHIP_STATUSES, row["Status"]),
        "start_date": row["Start"],
        "end_date": row["Slut"],
        "institutions": list(PARTIES),
        "project_ids": _values(row["Projekt-ID"]),
        "terms": {
            "value_amount": row["Avtalsvärde (SEK)"],
            "currency": "SEK",
            "confidential": translate(YES_NO, row["Konfidentiellt"]),
        },
    }


def _identifiers(raw: Mapping[str, str]) -> tuple[Identifier, ...]:
    pairs = (
        ("nct", raw.get("NCT")),
        ("eudract", raw.get("EudraCT")),
        ("ror", raw.get("Partner-ROR")),
    )
    return tuple(
        Identifier(scheme, value.strip()) for scheme, value in pairs if value and value.strip()
    )


# file, entity, id column, mapper, labels (record field -> column), in reference order.
Table = tuple[str, str, str, Callable[[Mapping[str, str]], dict[str, Any]], dict[str, str]]
TABLES: tuple[Table, ...] = (
    (
        "products.csv",
        "product",
        "Produkt-ID",
        _product,
        {
            "name": "Namn",
            "atmp_class": "ATMP-klass",
            "modality": "Modalitet",
            "stage": "Utvecklingsfas",
            "indications": "Indikation",
            "manufacturing_site": "Tillverkningsställe",
        },
    ),
    (
        "projects.csv",
        "project",
        "Projekt-ID",
        _project,
        {
            "title": "Titel",
            "area": "Område",
            "status": "Status",
            "start_date": "Start",
            "end_date": "Slut",
            "lead": "Ansvarig enhet",
            "lead_unit": "Ansvarig enhet",
            "partners": "Partner-ROR",
            "conditions": "Diagnos",
            "product_ids": "Produkt-ID",
        },
    ),
    (
        "trials.csv",
        "clinical_trial",
        "Studie-ID",
        _trial,
        {
            "local_id": "Studie-ID",
            "nct_id": "NCT",
            "eudract_id": "EudraCT",
            "title": "Titel",
            "phase": "Fas",
            "status": "Status",
            "sponsor": "Sponsor",
            "enrollment": "Antal patienter",
            "conditions": "Diagnos",
            "product_ids": "Produkt-ID",
            "sites": "Prövningsställen",
            "start_date": "Startdatum",
        },
    ),
    (
        "partnerships.csv",
        "partnership",
        "Avtals-ID",
        _partnership,
        {
            "partner": "Företag",
            "partner.name": "Företag",
            "partner.registration_number": "Organisationsnummer",
            "kind": "Avtalstyp",
            "status": "Status",
            "start_date": "Start",
            "end_date": "Slut",
            "project_ids": "Projekt-ID",
            "terms.value_amount": "Avtalsvärde (SEK)",
            "terms.confidential": "Konfidentiellt",
        },
    ),
)


class LundSkaneFeed:
    name = FEED
    title = "Lund University / Skåne University Hospital CSV export"
    version = "1.0"
    institution_ror: str | None = "012a77v79"
    # The export has no change timestamps: every run reads it whole.
    streams: tuple[Stream, ...] = tuple(
        Stream(entity, primary_key=id_column) for _, entity, id_column, _, _ in TABLES
    )
    config_model: type[BaseModel] = NoConfig

    def sample(self) -> str:
        return str(sample_path("lund_skane"))

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        """Read the export's files from a directory (or one file), in reference order."""
        for file, entity, id_column, to_record, labels in TABLES:
            path = Path(source) / file if Path(source).is_dir() else Path(source)
            if path.name != file or not path.exists():
                continue
            yield from self._read_table(path, entity, id_column, to_record, labels)

    def _read_table(
        self,
        path: Path,
        entity: str,
        id_column: str,
        to_record: Callable[[Mapping[str, str]], dict[str, Any]],
        labels: dict[str, str],
    ) -> Iterator[SourceRow]:
        """Every record of one file, each on its own: one that cannot be read, or is over a
        limit, is a row with its problem, and the records after it are read as usual."""
        labels = {"source_id": id_column, **labels}
        records = csv_records(path, delimiter=";")
        head = next(records, None)
        header = list(head.cells) if head else []
        missing = [name for name in dict.fromkeys(labels.values()) if name not in header]
        for record in records:
            if record.problem is None and not any(cell.strip() for cell in record.cells):
                continue
            raw = dict(zip(header, record.cells, strict=False))
            common: dict[str, Any] = {
                "entity": entity,
                "source_id": raw.get(id_column, "").strip() or None,
                "labels": labels,
                "file": path.name,
                "row": record.line,
            }
            if record.problem is not None:
                yield _unreadable(record, header, id_column, **common)
            elif missing:
                names = ", ".join(missing)
                column = "columns" if len(missing) > 1 else "column"
                yield SourceRow(raw=raw, problem=f"the header has no {column} {names}", **common)
            elif len(record.cells) != len(header):
                problem = f"row has {len(record.cells)} fields, the header has {len(header)}"
                yield SourceRow(raw=raw, problem=problem, **common)
            else:
                yield SourceRow(
                    raw=raw, identifiers=_identifiers(raw), data=to_record(raw), **common
                )


def _unreadable(record: CsvRecord, header: list[str], id_column: str, **common: Any) -> SourceRow:
    """A record the reader could not take apart: kept as its text, its problem in the field
    it is in; its source id only where that was read whole."""
    field = None
    if record.column is not None:
        column = record.column
        field = header[column] if column < len(header) else f"field {column + 1}"
    if field == id_column:
        common["source_id"] = None
    return SourceRow(
        raw=kept_text(record.text, length=record.size),
        problem=record.problem,
        problem_field=field,
        **common,
    )


@hookimpl
def atmp_graph_feeds() -> list[LundSkaneFeed]:
    return [LundSkaneFeed()]


@hookimpl
def atmp_graph_claim_source(source: str) -> str | None:
    path = Path(source)
    files = {file for file, *_ in TABLES}
    if path.name in files or any((path / file).is_file() for file in files):
        return FEED
    return None
