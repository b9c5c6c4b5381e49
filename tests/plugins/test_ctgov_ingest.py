"""ClinicalTrials.gov studies go in, from files or the API; the trials land as registered."""

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

import atmp_graph.model as m
from atmp_graph.ingest import IngestError, ingest
from atmp_graph.plugins.builtin.ctgov import CtGovFeed, atmp_graph_claim_source, atmp_graph_feeds
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.feeds import ConfigError, FeedAdapter
from atmp_graph.plugins.report import IngestReport
from tests.conftest import row_counts

SAMPLES = sample_path("ctgov")
PAGES = Path(__file__).with_name("ctgov_pages")
STEM_PD = "NCT05635409"
RAG1_SCID = "NCT04797260"

EXPECTED = {
    STEM_PD: {
        "local_id": "CCTU0263",
        "eudract_id": "2021-001366-38",
        "euct_id": None,
        "title": "A Trial to Determine the Safety and Tolerability of Transplanted Stem Cell "
        "Derived Dopamine Neurons to the Brains of Individuals With Parkinson's Disease",
        "acronym": "STEM-PD",
        "phase": "PHASE1",
        "status": "ACTIVE_NOT_RECRUITING",
        "start_date": None,
        "completion_date": None,
        "enrollment": 8,
        "study_type": "INTERVENTIONAL",
        # "Region Skane" in the registry is the reference data's "Region Skåne".
        "sponsor": ("Region Skåne", "region-skane", None),
        "collaborators": [
            ("Lund University", "lund-university", "012a77v79"),
            ("Cambridge University Hospitals NHS Foundation Trust", None, None),
            ("University of Cambridge", None, None),
        ],
        "sites": [
            ("Skåne University Hospital", "Lund", "SE", "Skåne University Hospital"),
            ("Addenbrooke's Hospital, Cambridge University Hospitals", "Cambridge", "GB", None),
        ],
        "conditions": ["Parkinson Disease"],
        "products": [("STEM-PD", "NCT05635409/STEM-PD", "BIOLOGICAL", None)],
    },
    RAG1_SCID: {
        "local_id": None,
        "eudract_id": "2019-002343-14",
        "euct_id": None,
        "title": "Phase I/II Clinical Trial Stem Cell Gene Therapy in RAG1-Deficient SCID",
        "acronym": "RAG1-SCID",
        "phase": "PHASE1_PHASE2",
        "status": "RECRUITING",
        "start_date": None,
        "completion_date": None,
        "enrollment": None,
        "study_type": "INTERVENTIONAL",
        "sponsor": ("Leiden University Medical Center", "lumc", "05xvt9f17"),
        "collaborators": [
            ("ZonMw: The Netherlands Organisation for Health Research and Development", None, None),
            ("Horizon 2020 - European Commission", None, None),
        ],
        "sites": [
            (
                "Leiden University Medical Center",
                "Leiden",
                "NL",
                "Leiden University Medical Center",
            ),
        ],
        "conditions": ["Severe Combined Immunodeficiency Due to RAG1 Deficiency"],
        "products": [("Gene therapy", "NCT04797260/Gene therapy", "GENETIC", None)],
    },
}


@dataclass
class RecordedApi:
    """The registry's stand-in: its studies URL and the query of every request it answered."""

    url: str
    queries: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def ctgov_api() -> Iterator[RecordedApi]:
    """Serves the recorded pages on 127.0.0.1: no pageToken is page 1, "p2" is page 2."""
    api = RecordedApi(url="")

    class Registry(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            api.queries.append(query)
            page = {None: "page-1.json", "p2": "page-2.json"}.get(query.get("pageToken"))
            if parts.path != "/api/v2/studies" or page is None:
                self._answer(404, b'{"message": "not found"}')
            else:
                self._answer(200, (PAGES / page).read_bytes())

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_port}/api/v2/studies"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _study(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def _write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _landed(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every stored trial, as the graph answers for it."""
    with Session(engine) as session:
        trials = session.scalars(
            select(m.ClinicalTrial)
            .order_by(m.ClinicalTrial.nct_id)
            .options(
                selectinload(m.ClinicalTrial.sponsor),
                selectinload(m.ClinicalTrial.collaborators),
                selectinload(m.ClinicalTrial.sites).selectinload(m.TrialSite.institution),
                selectinload(m.ClinicalTrial.conditions),
                selectinload(m.ClinicalTrial.products),
            )
        ).all()
        return {
            str(trial.nct_id): {
                "local_id": trial.local_id,
                "eudract_id": trial.eudract_id,
                "euct_id": trial.euct_id,
                "title": trial.title,
                "acronym": trial.acronym,
                "phase": trial.phase and trial.phase.value,
                "status": trial.status and trial.status.value,
                "start_date": trial.start_date,
                "completion_date": trial.completion_date,
                "enrollment": trial.enrollment,
                "study_type": trial.study_type,
                "sponsor": trial.sponsor
                and (trial.sponsor.name, trial.sponsor.key, trial.sponsor.ror_id),
                "collaborators": [(c.name, c.key, c.ror_id) for c in trial.collaborators],
                "sites": [
                    (s.name, s.city, s.country, s.institution and s.institution.name)
                    for s in trial.sites
                ],
                "conditions": [c.name for c in trial.conditions],
                "products": [
                    (p.name, p.code, p.intervention_type, p.atmp_class) for p in trial.products
                ],
            }
            for trial in trials
        }


def _numbers(report: IngestReport) -> tuple[int, int, int, int, int]:
    return report.read, report.created, report.updated, report.unchanged, report.quarantined


def _sources(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> list[str]:
    """The two sample studies as each kind of source the adapter reads."""
    if kind == "study files":
        return [str(SAMPLES / f"{STEM_PD}.json"), str(SAMPLES / f"{RAG1_SCID}.json")]
    if kind == "page file":
        page = {"studies": [_study(f"{STEM_PD}.json"), _study(f"{RAG1_SCID}.json")]}
        return [str(_write_json(tmp_path / "page.json", page))]
    if kind == "directory":
        return [str(SAMPLES)]
    api: RecordedApi = request.getfixturevalue("ctgov_api")
    return [api.url]


@pytest.mark.parametrize("kind", ["study files", "page file", "directory", "api"])
def test_every_kind_of_source_lands_the_same_trials(
    reference_engine: Engine, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    reports = [
        ingest(reference_engine, CtGovFeed(), source)
        for source in _sources(kind, tmp_path, request)
    ]

    # Per study: one product (its one intervention), then the trial.
    assert sum(report.read for report in reports) == 4
    assert sum(report.created for report in reports) == 4
    assert [entry.message() for report in reports for entry in report.quarantine] == []
    assert _landed(reference_engine) == EXPECTED
    with Session(reference_engine) as session:
        names = session.scalars(select(m.Institution.name)).all()
    assert names.count("Region Skåne") == 1
    assert "Region Skane" not in names


def test_the_api_is_read_page_by_page(reference_engine: Engine, ctgov_api: RecordedApi) -> None:
    report = ingest(reference_engine, CtGovFeed(), ctgov_api.url)

    assert _numbers(report) == (4, 4, 0, 0, 0)
    assert ctgov_api.queries == [{"pageSize": "100"}, {"pageSize": "100", "pageToken": "p2"}]
    with Session(reference_engine) as session:
        uris = session.scalars(
            select(m.SourceRecord.source_uri).where(m.SourceRecord.feed == "ctgov")
        ).all()
    # Each page's study: its product and its trial.
    assert sorted(uris) == [
        f"{ctgov_api.url}?pageSize=100",
        f"{ctgov_api.url}?pageSize=100",
        f"{ctgov_api.url}?pageSize=100&pageToken=p2",
        f"{ctgov_api.url}?pageSize=100&pageToken=p2",
    ]


def test_config_goes_into_the_api_query(reference_engine: Engine, ctgov_api: RecordedApi) -> None:
    config = {"page_size": 1, "query": "stem cell", "max_pages": 1}

    report = ingest(reference_engine, CtGovFeed(), ctgov_api.url, config=config)

    assert ctgov_api.queries == [{"pageSize": "1", "query.term": "stem cell"}]
    assert _numbers(report) == (2, 2, 0, 0, 0)
    assert list(_landed(reference_engine)) == [STEM_PD]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"page_size": 0}, "page_size: input should be greater than or equal to 1"),
        ({"page_size": 1001}, "page_size: input should be less than or equal to 1000"),
        ({"max_pages": 0}, "max_pages: input should be greater than or equal to 1"),
        ({"pages": 3}, "pages: extra inputs are not permitted"),
    ],
)
def test_invalid_config_is_refused_before_anything_is_read(
    engine: Engine, config: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        ingest(engine, CtGovFeed(), SAMPLES, config=config)

    assert str(refused.value) == f"ctgov: configuration: {reason}"
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(m.IngestRun)) == 0


def test_second_ingest_changes_nothing(reference_engine: Engine) -> None:
    first = ingest(reference_engine, CtGovFeed(), SAMPLES)
    before = row_counts(reference_engine)

    again = ingest(reference_engine, CtGovFeed(), SAMPLES)

    assert _numbers(first) == (4, 4, 0, 0, 0)
    # The samples carry no lastUpdatePostDate, so they are read again, and nothing changes.
    assert _numbers(again) == (4, 0, 0, 4, 0)
    assert row_counts(reference_engine) == before


@pytest.mark.parametrize("kind", ["directory", "api"])
def test_incremental_run_reads_only_newer_studies(
    reference_engine: Engine, request: pytest.FixtureRequest, kind: str
) -> None:
    api: RecordedApi | None = request.getfixturevalue("ctgov_api") if kind == "api" else None
    source = api.url if api else str(PAGES)
    first = ingest(reference_engine, CtGovFeed(), source)
    before = row_counts(reference_engine)

    again = ingest(reference_engine, CtGovFeed(), source)
    full = ingest(reference_engine, CtGovFeed(), source, full=True)

    assert _numbers(first) == (4, 4, 0, 0, 0)
    assert _numbers(again) == (0, 0, 0, 0, 0)
    assert _numbers(full) == (4, 0, 0, 4, 0)
    assert row_counts(reference_engine) == before
    if api is not None:
        # The API is asked only for studies updated since the newest one already read.
        newer = "AREA[LastUpdatePostDate]RANGE[2024-05-02,MAX]"
        assert [query.get("filter.advanced") for query in api.queries] == [
            None,
            None,
            newer,
            newer,
            None,
            None,
        ]


def test_an_updated_study_is_read_again(reference_engine: Engine, tmp_path: Path) -> None:
    export = tmp_path / "pages"
    shutil.copytree(PAGES, export)
    ingest(reference_engine, CtGovFeed(), export)
    page = json.loads((export / "page-2.json").read_text(encoding="utf-8"))
    status = page["studies"][0]["protocolSection"]["statusModule"]
    status["lastUpdatePostDateStruct"]["date"] = "2024-06-10"
    page["studies"][0]["protocolSection"]["designModule"]["enrollmentInfo"] = {"count": 3}
    _write_json(export / "page-2.json", page)

    report = ingest(reference_engine, CtGovFeed(), export)

    # Only RAG1-SCID is newer than the last run: its product is unchanged, the trial updated.
    assert _numbers(report) == (2, 0, 1, 1, 0)
    assert _landed(reference_engine)[RAG1_SCID]["enrollment"] == 3


def test_every_registry_shape_is_mapped_and_bad_values_are_quarantined(
    reference_engine: Engine, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    export.mkdir()
    _write_json(
        export / "a-details.json",
        {
            "protocolSection": {
                "identificationModule": {
                    "nctId": "NCT00000001",
                    "officialTitle": "An Official Title Only",
                    "secondaryIdInfos": [
                        {"id": "R01 HL000001", "type": "NIH"},
                        {"id": "EUCTR2019-002343-14-NL", "type": "REGISTRY"},
                        {"id": "2023-503456-12-00", "type": "CTIS"},
                    ],
                },
                "statusModule": {
                    "overallStatus": "COMPLETED",
                    "startDateStruct": {"date": "2022-02"},
                    "completionDateStruct": {"date": "2023-11-30"},
                },
                "designModule": {"phases": ["NA"], "studyType": "OBSERVATIONAL"},
                "contactsLocationsModule": {
                    "locations": [{"city": "Leiden", "country": "Netherlands"}]
                },
            }
        },
    )
    _write_json(
        export / "b-atlantis.json",
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT00000002", "briefTitle": "Lost City"},
                "contactsLocationsModule": {
                    "locations": [{"facility": "Poseidon Clinic", "country": "Atlantis"}]
                },
            }
        },
    )
    (export / "c-broken.json").write_text("{not json", encoding="utf-8")

    report = ingest(reference_engine, CtGovFeed(), export)

    assert _numbers(report) == (3, 1, 0, 0, 2)
    assert [entry.message() for entry in report.quarantine] == [
        "ctgov: b-atlantis.json (NCT00000002): "
        "protocolSection.contactsLocationsModule.locations[0].country 'Atlantis' is not an "
        "ISO 3166 country code (SE, NL, ...)",
        "ctgov: c-broken.json: is not a JSON document: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1)",
    ]
    trial = _landed(reference_engine)["NCT00000001"]
    assert trial["title"] == "An Official Title Only"
    assert (trial["eudract_id"], trial["euct_id"]) == ("2019-002343-14", "2023-503456-12-00")
    # Month precision is stored as the first of the month.
    assert (str(trial["start_date"]), str(trial["completion_date"])) == ("2022-02-01", "2023-11-30")
    assert (trial["phase"], trial["status"], trial["study_type"]) == (
        "NA",
        "COMPLETED",
        "OBSERVATIONAL",
    )
    # A location without a facility is named by its city.
    assert trial["sites"] == [("Leiden", "Leiden", "NL", None)]
    with Session(reference_engine) as session:
        identifiers = session.scalars(
            select(m.SourceRecord.identifiers).where(m.SourceRecord.source_id == "NCT00000001")
        ).one()
    assert identifiers == [
        ["nct", "NCT00000001"],
        ["eudract", "2019-002343-14"],
        ["euct", "2023-503456-12-00"],
    ]


def test_an_unreadable_api_stops_the_run_with_the_reason(
    reference_engine: Engine, ctgov_api: RecordedApi
) -> None:
    missing = ctgov_api.url.replace("/studies", "/nothing")

    with pytest.raises(IngestError, match=r"^ctgov: ingest of .* stopped: GET .* answered 404"):
        ingest(reference_engine, CtGovFeed(), missing)


def test_the_feed_keeps_the_contract() -> None:
    feed = atmp_graph_feeds()[0]

    assert isinstance(feed, FeedAdapter)
    assert (feed.name, feed.version, feed.institution_ror) == ("ctgov", "1.0", None)
    assert [stream.entity for stream in feed.streams] == ["product", "clinical_trial"]
    assert feed.sample() == str(SAMPLES)
    assert sorted(path.name for path in SAMPLES.iterdir()) == [
        "NCT04797260.json",
        "NCT05635409.json",
        "README.md",
    ]


@pytest.mark.parametrize(
    ("source", "feed"),
    [
        (str(SAMPLES), "ctgov"),
        (str(SAMPLES / f"{STEM_PD}.json"), "ctgov"),
        ("https://clinicaltrials.gov/api/v2/studies?query.term=ATMP", "ctgov"),
        (str(PAGES / "page-1.json"), None),
        (str(sample_path("lund_skane")), None),
        ("/nowhere/at/all.xml", None),
    ],
)
def test_the_feed_claims_the_registry_and_its_study_files(source: str, feed: str | None) -> None:
    assert atmp_graph_claim_source(source) == feed
