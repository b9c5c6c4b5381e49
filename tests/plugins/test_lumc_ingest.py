"""The LUMC export goes in on top of the reference data; its studies, products, projects and
collaborations attach to the institutions and facilities already known, bad studies are
quarantined, and only studies modified since the last run are read again."""

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

import atmp_graph.model as m
from atmp_graph.enums import (
    AtmpClass,
    CollaborationArea,
    DevelopmentStage,
    InstitutionKind,
    PartnershipKind,
    PartnershipStatus,
    ProjectStatus,
    TrialPhase,
    TrialStatus,
)
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.lumc import LumcFeed
from atmp_graph.plugins.feeds import NoConfig
from tests.conftest import assert_quarantined, row_counts

LUMC = "Leiden University Medical Center"
EXPECTED_QUARANTINE = [
    # file, row (position in `studies`), source id, field, message
    (
        "export.json", 3, None, "studyId",
        "lumc: export.json row 3: studyId is empty",
    ),
    (
        "export.json", 4, "P24.311", "phase",
        "lumc: export.json row 4 (P24.311): phase 'Phase 5' is not a trial phase (EARLY_PHASE1, "
        "PHASE1, PHASE1_PHASE2, PHASE2, PHASE2_PHASE3, PHASE3, PHASE4, NA); firstPatientIn "
        "'31-02-2025' is not a date (YYYY-MM-DD)",
    ),
]  # fmt: skip


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A copy of the sample export that a test may edit."""
    copy = tmp_path / "lumc"
    copy.mkdir()
    shutil.copy(LumcFeed().sample(), copy / "export.json")
    return copy


def _edit_study(export: Path, study_id: str, **changes: Any) -> None:
    path = export / "export.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    study = next(item for item in document["studies"] if item["studyId"] == study_id)
    study.update(changes)
    path.write_text(json.dumps(document), encoding="utf-8")


def test_rows_come_in_reference_order_with_utc_cursors() -> None:
    rows = list(LumcFeed().read(LumcFeed().sample(), state={}, config=NoConfig()))

    assert [(row.entity, row.source_id, row.row) for row in rows] == [
        ("product", "LUMC-GT-RAG1", 1),
        ("product", "LUMC-MSC-01", 2),
        ("product", "LUMC-CART-19", 3),
        ("product", "LUMC-TE-01", 4),
        ("clinical_trial", "P19.045", 1),
        ("clinical_trial", "P10.102", 2),
        ("clinical_trial", None, 3),
        ("clinical_trial", "P24.311", 4),
        ("project", "LUMC-PRJ-7", 1),
        ("project", "LUMC-PRJ-8", 2),
        ("project", "LUMC-PRJ-9", 3),
        ("partnership", "LUMC-C-55", 1),
        ("partnership", "LUMC-C-56", 2),
    ]
    assert [row.cursor for row in rows if row.entity == "clinical_trial"] == [
        "2026-10-02T09:20:00+00:00",
        "2024-05-13T07:00:00+00:00",
        "2026-09-01T08:00:00+00:00",
        "2026-11-01T07:00:00+00:00",
    ]
    exported = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)
    assert {row.extracted_at for row in rows} == {exported}
    assert {row.file for row in rows} == {"export.json"}


@pytest.mark.parametrize("source", ["directory", "file"])
def test_source_is_the_export_or_its_directory(export: Path, source: str) -> None:
    path = export if source == "directory" else export / "export.json"

    rows = list(LumcFeed().read(str(path), state={}, config=NoConfig()))

    assert len(rows) == 13


def test_sample_report_counts_every_record(reference_engine: Engine) -> None:
    report = ingest(reference_engine, LumcFeed(), LumcFeed().sample())

    assert (report.read, report.created, report.updated, report.unchanged) == (13, 11, 0, 0)
    assert report.quarantined == 2
    assert report.read == report.stored + report.quarantined


def test_each_wrong_study_is_quarantined_with_its_reason(reference_engine: Engine) -> None:
    report = ingest(reference_engine, LumcFeed(), LumcFeed().sample())

    stored = assert_quarantined(reference_engine, report, EXPECTED_QUARANTINE)
    # Nothing is lost: the study is kept exactly as LUMC exported it.
    assert stored[1].raw is not None
    assert stored[1].raw["firstPatientIn"] == "31-02-2025"


def test_rag1_scid_attaches_to_the_reference_data(reference_engine: Engine) -> None:
    ingest(reference_engine, LumcFeed(), LumcFeed().sample())

    with Session(reference_engine) as session:
        trial = session.scalars(
            select(m.ClinicalTrial)
            .where(m.ClinicalTrial.nct_id == "NCT04797260")
            .options(
                selectinload(m.ClinicalTrial.sponsor),
                selectinload(m.ClinicalTrial.products),
                selectinload(m.ClinicalTrial.sites),
                selectinload(m.ClinicalTrial.conditions),
            )
        ).one()
        lumc = session.scalars(select(m.Institution).where(m.Institution.key == "lumc")).one()
        institutions = session.scalar(
            select(func.count()).select_from(m.Institution).where(m.Institution.name == LUMC)
        )

    assert (trial.eudract_id, trial.local_id, trial.acronym) == (
        "2019-002343-14",
        "P19.045",
        "RAG1-SCID",
    )
    assert (trial.phase, trial.status, trial.start_date) == (
        TrialPhase.PHASE1_PHASE2,
        TrialStatus.RECRUITING,
        dt.date(2021, 3, 1),
    )
    assert trial.sponsor is not None
    assert (trial.sponsor.id, trial.sponsor.name) == (lumc.id, LUMC)
    assert institutions == 1  # the sponsor resolved to the reference institution, not a copy
    assert [product.name for product in trial.products] == ["RAG1 LV CD34+ cells"]
    assert [(s.name, s.city, s.country, s.institution_id) for s in trial.sites] == [
        (LUMC, "Leiden", "NL", lumc.id)
    ]
    assert [condition.name for condition in trial.conditions] == [
        "Severe Combined Immunodeficiency Due to RAG1 Deficiency"
    ]


@pytest.mark.parametrize(
    ("code", "atmp_class", "stage", "facility"),
    [
        ("LUMC-GT-RAG1", AtmpClass.GTMP, DevelopmentStage.CLINICAL, "lumc-gmp"),
        ("LUMC-MSC-01", AtmpClass.SCTMP, DevelopmentStage.CLINICAL, "lumc-gmp"),
        ("LUMC-CART-19", AtmpClass.GTMP, DevelopmentStage.CLINICAL, "lumc-gmp"),
        ("LUMC-TE-01", AtmpClass.TEP, DevelopmentStage.PRECLINICAL, None),
    ],
)
def test_products_are_lumc_s_own_and_made_in_its_gmp_facility(
    reference_engine: Engine,
    code: str,
    atmp_class: AtmpClass,
    stage: DevelopmentStage,
    facility: str | None,
) -> None:
    ingest(reference_engine, LumcFeed(), LumcFeed().sample())

    with Session(reference_engine) as session:
        product = session.scalars(
            select(m.Product)
            .where(m.Product.code == code)
            .options(
                selectinload(m.Product.originator),
                selectinload(m.Product.manufacturer),
                selectinload(m.Product.manufacturing_facility),
            )
        ).one()

    assert (product.atmp_class, product.stage) == (atmp_class, stage)
    assert product.originator is not None
    assert product.originator.key == "lumc"
    made_at = product.manufacturing_facility
    assert (made_at.key if made_at else None) == facility
    maker = product.manufacturer
    assert (maker.key if maker else None) == ("lumc" if facility else None)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # area, status, start, end, partners (reference-data keys)
        (
            "LUMC-PRJ-7",
            (CollaborationArea.EDUCATION, ProjectStatus.ONGOING, dt.date(2023, 9, 1),
             dt.date(2024, 6, 30), ["lund-university"]),
        ),
        (
            "LUMC-PRJ-8",
            (CollaborationArea.RESEARCHER_EXCHANGE, ProjectStatus.PLANNED, dt.date(2025, 1, 1),
             None, ["skane-university-hospital"]),
        ),
        (
            "LUMC-PRJ-9",
            (CollaborationArea.PRODUCT_DEVELOPMENT, ProjectStatus.ONGOING, dt.date(2022, 1, 1),
             None, []),
        ),
    ],
)  # fmt: skip
def test_projects_are_led_by_lumc_with_partners_from_the_reference_data(
    reference_engine: Engine, code: str, expected: tuple[Any, ...]
) -> None:
    ingest(reference_engine, LumcFeed(), LumcFeed().sample())

    with Session(reference_engine) as session:
        project = session.scalars(
            select(m.Project)
            .where(m.Project.code == code)
            .options(selectinload(m.Project.lead_institution), selectinload(m.Project.partners))
        ).one()

    assert (
        project.area,
        project.status,
        project.start_date,
        project.end_date,
        [partner.key for partner in project.partners],
    ) == expected
    assert project.lead_institution is not None
    assert project.lead_institution.key == "lumc"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # company, its kind and KvK number, kind, status, start, products, terms
        (
            "LUMC-C-55",
            ("Leiden Vector Works B.V.", InstitutionKind.COMPANY, "00000001",
             PartnershipKind.CO_DEVELOPMENT, PartnershipStatus.ACTIVE, dt.date(2022, 4, 1),
             ["LUMC-GT-RAG1"], (Decimal(750000), "EUR", True)),
        ),
        (
            "LUMC-C-56",
            ("Nordic Cell Process AB", InstitutionKind.COMPANY, None,
             PartnershipKind.MANUFACTURING, PartnershipStatus.NEGOTIATION, dt.date(2026, 1, 1),
             ["LUMC-CART-19"], (None, None, False)),
        ),
    ],
)  # fmt: skip
def test_collaborations_make_companies_partners_of_lumc(
    reference_engine: Engine, code: str, expected: tuple[Any, ...]
) -> None:
    ingest(reference_engine, LumcFeed(), LumcFeed().sample())

    with Session(reference_engine) as session:
        partnership = session.scalars(
            select(m.Partnership)
            .where(m.Partnership.code == code)
            .options(
                selectinload(m.Partnership.partner),
                selectinload(m.Partnership.institutions),
                selectinload(m.Partnership.products),
                selectinload(m.Partnership.terms),
            )
        ).one()

    partner, terms = partnership.partner, partnership.terms
    assert terms is not None
    assert (
        partner.name,
        partner.kind,
        partner.registration_number,
        partnership.kind,
        partnership.status,
        partnership.start_date,
        [product.code for product in partnership.products],
        (terms.value_amount, terms.currency, terms.confidential),
    ) == expected
    assert [institution.key for institution in partnership.institutions] == ["lumc"]


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        # read, created, updated, unchanged, quarantined: the cursor skips three studies; the
        # fourth (P24.311, quarantined) is newer than every study stored, so it is read again
        # until it is fixed: a quarantined study never moves the cursor...
        (False, (10, 0, 0, 9, 1)),
        # ...unless the run is full: then they are read again, and nothing has changed.
        (True, (13, 0, 0, 11, 2)),
    ],
    ids=["incremental", "full"],
)
def test_second_ingest_changes_nothing(
    reference_engine: Engine, full: bool, expected: tuple[int, ...]
) -> None:
    ingest(reference_engine, LumcFeed(), LumcFeed().sample())
    before = row_counts(reference_engine)

    again = ingest(reference_engine, LumcFeed(), LumcFeed().sample(), full=full)

    assert (again.read, again.created, again.updated, again.unchanged, again.quarantined) == (
        expected
    )
    assert row_counts(reference_engine) == before


def test_only_studies_modified_since_the_last_run_are_read(
    reference_engine: Engine, export: Path
) -> None:
    ingest(reference_engine, LumcFeed(), export)
    _edit_study(export, "P19.045", state="active", lastModified="2026-11-19T10:00:00+01:00")

    report = ingest(reference_engine, LumcFeed(), export)

    # P19.045, and the quarantined P24.311, which is newer than every study stored before.
    assert (report.read, report.created, report.updated, report.unchanged) == (11, 0, 1, 9)
    assert [entry.source_id for entry in report.quarantine] == ["P24.311"]
    with Session(reference_engine) as session:
        trial = session.scalars(
            select(m.ClinicalTrial).where(m.ClinicalTrial.local_id == "P19.045")
        ).one()
        cursor = session.scalar(
            select(m.FeedState.cursor).where(
                m.FeedState.feed == "lumc", m.FeedState.stream == "clinical_trial"
            )
        )
    assert trial.status is TrialStatus.ACTIVE_NOT_RECRUITING
    assert cursor == "2026-11-19T09:00:00+00:00"


def test_missing_optional_fields_are_null(reference_engine: Engine, export: Path) -> None:
    path = export / "export.json"
    path.write_text(
        json.dumps({"studies": [{"studyId": "P26.001", "title": "A study with only a title"}]}),
        encoding="utf-8",
    )

    report = ingest(reference_engine, LumcFeed(), export)

    assert (report.created, report.quarantined) == (1, 0)
    with Session(reference_engine) as session:
        trial = session.scalars(
            select(m.ClinicalTrial).where(m.ClinicalTrial.local_id == "P26.001")
        ).one()
    assert (trial.nct_id, trial.phase, trial.status, trial.start_date, trial.sponsor_id) == (
        None,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("study", "message"),
    [
        (
            {"studyId": "P26.002", "title": "T", "lastModified": "yesterday"},
            "lumc: export.json row 1 (P26.002): lastModified 'yesterday' is not a timestamp "
            "with an offset (ISO 8601)",
        ),
        (
            {"studyId": "P26.003", "title": "T", "lastModified": "2026-10-02T11:20:00"},
            "lumc: export.json row 1 (P26.003): lastModified '2026-10-02T11:20:00' is not a "
            "timestamp with an offset (ISO 8601)",
        ),
        ("P26.004", "lumc: export.json row 1: is not a JSON object: 'P26.004'"),
    ],
    ids=["not-a-timestamp", "no-offset", "not-an-object"],
)
def test_a_study_the_adapter_cannot_read_is_quarantined(
    reference_engine: Engine, export: Path, study: object, message: str
) -> None:
    (export / "export.json").write_text(json.dumps({"studies": [study]}), encoding="utf-8")

    report = ingest(reference_engine, LumcFeed(), export)

    assert [entry.message() for entry in report.quarantine] == [message]
