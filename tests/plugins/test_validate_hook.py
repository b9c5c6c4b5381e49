"""A plugin's `atmp_graph_validate_record` hook: it sees every record, and one it could not
check never goes in."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

import atmp_graph.model as m
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.hookspecs import hookimpl
from atmp_graph.plugins.manager import build_plugin_host
from atmp_graph.plugins.records import Record, SourceRow
from atmp_graph.plugins.report import Problem
from tests.conftest import GraphQLClient, admin_headers
from tests.plugins.installed import install_plugin

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
RAISING = """
    from atmp_graph import hookimpl

    ATMP_GRAPH_CONTRACT = "1.0"

    @hookimpl
    def atmp_graph_validate_record(record):
        raise ValueError("rules file missing")
"""
# What the listings say of it once an ingest of lund_skane ran it on the 14 records that pass
# the built-in checks.
LISTED = (
    "atmp_graph_validate_record raised ValueError: rules file missing in the latest lund_skane "
    "ingest (run 1), which quarantined 14 records it could not check: fix the hook, then read "
    "them again with `atmp-graph ingest --full lund_skane SOURCE`"
)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path to install plugins into; its modules are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_a_record_a_raising_hook_could_not_check_is_quarantined(engine: Engine) -> None:
    class Raising:
        @hookimpl
        def atmp_graph_validate_record(self, record: Record) -> list[tuple[str, str]]:
            raise ValueError("rules file missing")

    host = build_plugin_host(load_entry_points=False)
    host.manager.register(Raising(), name="raising")

    report = ingest(engine, host.feeds()["lund_skane"], sample_path("lund_skane"), host=host)

    # Nothing went in unchecked: the 13 records the built-in checks pass are quarantined too.
    assert (report.read, report.stored, report.quarantined) == (22, 0, 22)
    assert report.quarantine[0].message() == (
        "lund_skane: products.csv row 2 (LU-ATMP-01): plugin 'raising' could not check it: "
        "atmp_graph_validate_record raised ValueError: rules file missing"
    )
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(m.SourceRecord)) == 0
        assert session.scalar(select(func.count()).select_from(m.Product)) == 0
    # The host reports the hook once, however many records it raised on.
    assert [failure.message() for failure in host.failures] == [
        "plugin 'raising': atmp_graph_validate_record raised ValueError: rules file missing; "
        "the records it cannot check are quarantined: make the hook return (field, reason) "
        "pairs instead of raising"
    ]
    (info,) = [info for info in host.describe() if info.name == "raising"]
    assert info.errors == (host.failures[0].reason,)


def run(*args: str, url: str, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATMP_DATABASE_URL": url, "PYTHONPATH": str(site)}
    return subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_the_plugin_listings_show_a_hook_that_raised_during_an_ingest(
    site: Path, database_url: str
) -> None:
    install_plugin(site, "raising", RAISING)
    run("db", "upgrade", url=database_url, site=site)
    ingested = run(
        "ingest", "lund_skane", str(sample_path("lund_skane")), url=database_url, site=site
    )
    assert ingested.stdout.splitlines()[0] == (
        "lund_skane: read 22, created 0, updated 0, unchanged 0, quarantined 22"
    )

    # A later command, and the server, know of it from what the ingest quarantined.
    listing = run("plugins", url=database_url, site=site)
    assert listing.stderr == ""
    (row,) = [line for line in listing.stdout.splitlines() if line.startswith("raising ")]
    assert row.endswith(f"error: {LISTED}")
    with TestClient(
        create_app(Settings(database_url=database_url)), headers=admin_headers(database_url)
    ) as client:
        data = GraphQLClient(client).execute("{ plugins { name errors } }")
    assert {"name": "raising", "errors": [LISTED]} in data["plugins"]
    assert {"name": "lund_skane", "errors": []} in data["plugins"]


def test_a_hook_that_names_the_row_sees_every_record_with_its_cursor(engine: Engine) -> None:
    seen: list[tuple[Any, ...]] = []
    old_style: list[str] = []

    class Ccmo:
        """A rule of the Dutch ethics committee: every LUMC trial is registered with it."""

        @hookimpl
        def atmp_graph_validate_record(
            self, record: Record | None, row: SourceRow, problems: tuple[Problem, ...]
        ) -> list[tuple[str, str]]:
            if row.entity != "clinical_trial":
                return []
            seen.append(
                (row.source_id, row.cursor, record is None, [p.sentence() for p in problems])
            )
            return [("local_id", "is not a CCMO registration (NL and digits)")]

    class OldStyle:
        """Written for contract 1.0: it names only the record, so it gets valid ones only."""

        @hookimpl
        def atmp_graph_validate_record(self, record: Record) -> None:
            old_style.append(record.source_id)

    host = build_plugin_host(load_entry_points=False)
    host.manager.register(Ccmo(), name="ccmo")
    host.manager.register(OldStyle(), name="old_style")

    report = ingest(engine, host.feeds()["lumc"], sample_path("lumc"), host=host)

    assert seen == [
        ("P19.045", "2026-10-02T09:20:00+00:00", False, []),
        ("P10.102", "2024-05-13T07:00:00+00:00", False, []),
        (None, "2026-09-01T08:00:00+00:00", True, ["studyId is empty"]),
        (
            "P24.311",
            "2026-11-01T07:00:00+00:00",
            True,
            [
                "phase 'Phase 5' is not a trial phase (EARLY_PHASE1, PHASE1, PHASE1_PHASE2, "
                "PHASE2, PHASE2_PHASE3, PHASE3, PHASE4, NA)",
                "firstPatientIn '31-02-2025' is not a date (YYYY-MM-DD)",
            ],
        ),
    ]
    # The plugin's reasons come after the built-in ones, in the feed's words (studyId).
    trials = [e.message() for e in report.quarantine if e.entity == "clinical_trial"]
    assert trials[3] == (
        "lumc: export.json row 4 (P24.311): phase 'Phase 5' is not a trial phase (EARLY_PHASE1, "
        "PHASE1, PHASE1_PHASE2, PHASE2, PHASE2_PHASE3, PHASE3, PHASE4, NA); firstPatientIn "
        "'31-02-2025' is not a date (YYYY-MM-DD); studyId is not a CCMO registration (NL and "
        "digits)"
    )
    assert len(trials) == 4
    assert "P24.311" not in old_style
    assert len(old_style) == 11
    assert host.failures == []
