"""The Lund/Skåne export goes in; every good row is queryable, every bad row quarantined."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import atmp_graph.model as m
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.builtin.samples import sample_path
from tests.conftest import assert_quarantined, row_counts

EXPECTED_QUARANTINE = [
    # file, row, source id, field, message; a repeated id is found when its batch is written,
    # after the rows that fail on their own
    (
        "products.csv", 6, "LU-ATMP-05", "ATMP-klass",
        "lund_skane: products.csv row 6 (LU-ATMP-05): ATMP-klass 'XTMP' is not an ATMP class "
        "(GTMP, SCTMP, TEP, COMBINED)",
    ),
    (
        "projects.csv", 7, "LU-P-0006", "Start",
        "lund_skane: projects.csv row 7 (LU-P-0006): Start '2024-13-01' is not a date (YYYY-MM-DD)",
    ),
    (
        "projects.csv", 8, "LU-P-0007", "Titel",
        "lund_skane: projects.csv row 8 (LU-P-0007): Titel is empty",
    ),
    (
        "projects.csv", 9, "LU-P-0008", "Slut",
        "lund_skane: projects.csv row 9 (LU-P-0008): Slut '2023-12-31' is before the start date "
        "2024-01-01",
    ),
    (
        "projects.csv", 11, "LU-P-0009", None,
        "lund_skane: projects.csv row 11 (LU-P-0009): row has 5 fields, the header has 10",
    ),
    (
        "projects.csv", 10, "LU-P-0002", "Projekt-ID",
        "lund_skane: projects.csv row 10 (LU-P-0002): Projekt-ID repeats 'LU-P-0002' on row 3 "
        "with different content",
    ),
    (
        "trials.csv", 3, "SUS-CART-01", "EudraCT",
        "lund_skane: trials.csv row 3 (SUS-CART-01): EudraCT '2023-1234-56' is not a EudraCT "
        "number (YYYY-NNNNNN-CC)",
    ),
    (
        "trials.csv", 4, "SUS-GT-02", "NCT",
        "lund_skane: trials.csv row 4 (SUS-GT-02): NCT 'NCT0563540' is not an NCT id (NCT and 8 "
        "digits); Antal patienter 'abc' is not a whole number",
    ),
    (
        "partnerships.csv", 5, "LU-A-104", "Företag",
        "lund_skane: partnerships.csv row 5 (LU-A-104): Företag is empty",
    ),
]  # fmt: skip


def test_sample_report_counts_every_record(reference_engine: Engine) -> None:
    report = ingest(reference_engine, LundSkaneFeed(), sample_path("lund_skane"))

    assert (report.read, report.created, report.updated, report.unchanged) == (22, 13, 0, 0)
    assert report.quarantined == 9
    assert report.read == report.stored + report.quarantined


def test_each_bad_row_is_quarantined_with_its_reason(reference_engine: Engine) -> None:
    report = ingest(reference_engine, LundSkaneFeed(), sample_path("lund_skane"))

    stored = assert_quarantined(reference_engine, report, EXPECTED_QUARANTINE)
    # Nothing is lost: the row is kept exactly as read.
    assert stored[1].raw is not None
    assert stored[1].raw["Start"] == "2024-13-01"


def test_second_ingest_changes_nothing(reference_engine: Engine) -> None:
    ingest(reference_engine, LundSkaneFeed(), sample_path("lund_skane"))
    before = row_counts(reference_engine)

    again = ingest(reference_engine, LundSkaneFeed(), sample_path("lund_skane"))

    assert (again.created, again.updated, again.unchanged, again.quarantined) == (0, 0, 13, 9)
    assert row_counts(reference_engine) == before


def test_dry_run_writes_nothing(reference_engine: Engine) -> None:
    before = row_counts(reference_engine)

    report = ingest(reference_engine, LundSkaneFeed(), sample_path("lund_skane"), dry_run=True)

    assert (report.created, report.quarantined, report.run_id) == (13, 9, None)
    assert row_counts(reference_engine) == before
    with Session(reference_engine) as session:
        assert session.scalar(select(func.count()).select_from(m.IngestRun)) == 1


def test_a_changed_row_updates_its_node_in_place(reference_engine: Engine, tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(sample_path("lund_skane"), export)
    ingest(reference_engine, LundSkaneFeed(), export)
    trials = export / "trials.csv"
    trials.write_text(
        trials.read_text(encoding="utf-8-sig").replace(";8;Parkinsons", ";12;Parkinsons"),
        encoding="utf-8-sig",
    )

    report = ingest(reference_engine, LundSkaneFeed(), export)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 12)
    with Session(reference_engine) as session:
        trial = session.scalars(select(m.ClinicalTrial)).one()
        assert (trial.nct_id, trial.enrollment) == ("NCT05635409", 12)


def test_reference_to_a_quarantined_row_waits_for_the_fix(
    reference_engine: Engine, tmp_path: Path
) -> None:
    """LU-A-101 points at project LU-P-0006, whose start date is wrong: the agreement is
    stored now and linked to the project as soon as a corrected export brings it."""
    export = tmp_path / "export"
    shutil.copytree(sample_path("lund_skane"), export)
    ingest(reference_engine, LundSkaneFeed(), export)
    with Session(reference_engine) as session:
        waiting = session.scalars(select(m.PendingLink)).one()
        assert (waiting.relation, waiting.target_source_id) == ("projects", "LU-P-0006")

    projects = export / "projects.csv"
    projects.write_text(
        projects.read_text(encoding="utf-8-sig").replace("2024-13-01", "2024-01-13"),
        encoding="utf-8-sig",
    )
    report = ingest(reference_engine, LundSkaneFeed(), export)

    assert report.created == 1
    assert report.quarantined == 8
    with Session(reference_engine) as session:
        assert session.scalars(select(m.PendingLink)).all() == []
        linked = session.execute(
            select(m.Partnership.code, m.Project.code).join(m.Partnership.projects)
        ).all()
    assert ("LU-A-101", "LU-P-0006") in linked


def test_unknown_reference_is_quarantined(reference_engine: Engine, tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(sample_path("lund_skane") / "partnerships.csv", export)
    partnerships = export / "partnerships.csv"
    partnerships.write_text(
        partnerships.read_text(encoding="utf-8-sig").replace(
            ";;556000-0004", ";Acme AB;556000-0004"
        ),
        encoding="utf-8-sig",
    )

    report = ingest(reference_engine, LundSkaneFeed(), export)

    messages = [entry.message() for entry in report.quarantine]
    assert (
        "lund_skane: partnerships.csv row 5 (LU-A-104): Projekt-ID 'LU-P-0099' names no project "
        "in this feed"
    ) in messages
    # Without projects.csv, every agreement points at a project the feed never sent.
    assert report.quarantined == 4
    assert report.created == 0


@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
def test_a_repeat_batches_later_is_still_caught(
    reference_engine: Engine, tmp_path: Path, dry_run: bool
) -> None:
    """The first LU-P-0001 is unchanged since the last run; its changed twin comes batches
    later, after the first batch was written (and, writing, committed)."""
    export = tmp_path / "export"
    shutil.copytree(sample_path("lund_skane"), export)
    ingest(reference_engine, LundSkaneFeed(), export)
    projects = export / "projects.csv"
    lines = projects.read_text(encoding="utf-8-sig").splitlines()
    twin = lines[1].replace("Stamcellsbaserad", "Annan")
    projects.write_text("\n".join([*lines, twin]) + "\n", encoding="utf-8-sig")

    report = ingest(reference_engine, LundSkaneFeed(), export, dry_run=dry_run, batch_size=2)

    assert (
        "lund_skane: projects.csv row 12 (LU-P-0001): Projekt-ID repeats 'LU-P-0001' on row 2 "
        "with different content"
    ) in [entry.message() for entry in report.quarantine]
    assert (report.updated, report.quarantined) == (0, 10)
