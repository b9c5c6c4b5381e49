"""Nordvik's export goes in; its good trials are stored, its bad ones quarantined with reasons."""

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import atmp_graph.model as m
from atmp_graph.ingest import ingest
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.manager import build_plugin_host
from atmp_nordvik.plugin import SAMPLE, NordvikFeed


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'nordvik.db'}"
    upgrade(url)
    return make_engine(url)


def test_sample_goes_in_with_bad_trials_quarantined(engine: Engine) -> None:
    host = build_plugin_host()

    report = ingest(engine, host.feeds()["nordvik"], SAMPLE, host=host)

    assert (report.read, report.created, report.quarantined) == (5, 3, 2)
    assert [entry.message() for entry in report.quarantine] == [
        "nordvik: export.xml row 4 (NV-T-002): phase '7' is not a trial phase (EARLY_PHASE1, "
        "PHASE1, PHASE1_PHASE2, PHASE2, PHASE2_PHASE3, PHASE3, PHASE4, NA); enrolment 'many' is "
        "not a whole number",
        "nordvik: export.xml row 5 (NV-T-003): sponsor is required for Nordvik trials",
    ]
    with Session(engine) as session:
        trial = session.scalars(select(m.ClinicalTrial)).one()
    # The WHO form of the EudraCT number is read as the number itself.
    assert (trial.nct_id, trial.eudract_id) == ("NCT09999901", "2024-000111-22")


def test_the_plugin_claims_its_own_exports_only() -> None:
    host = build_plugin_host()
    assert host.claim(str(SAMPLE)) == "nordvik"
    assert NordvikFeed().name == "nordvik"
