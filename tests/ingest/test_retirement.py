"""Upstream deletions reach the graph: a record a complete full read no longer sends, or one an
incremental feed says it deleted, is retired (hidden from the lists, kept with when and by which
run), comes back if the feed sends it again, and a link a feed stops sending leaves the node.
A run that would retire too much stops and writes nothing."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

import atmp_graph.model as m
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import IngestRunStatus
from atmp_graph.ingest import IngestError, ingest
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.builtin.samples import sample_path
from tests.api.test_cli import run
from tests.conftest import GraphQLClient, admin_headers, row_counts
from tests.ingest.json_feed import JsonTrials, write_trials

NODE = """query ($id: ID!) {
  node(id: $id) {
    ... on Project { code retiredAt retiredBy { id } sources { retiredAt retiredBy { id } } }
    ... on ClinicalTrial { title retiredAt retiredBy { id } sources { retiredAt retiredBy { id } } }
  }
}"""


@pytest.fixture
def client(reference_engine: Engine, database_url: str) -> Iterator[GraphQLClient]:
    with TestClient(
        create_app(Settings(database_url=database_url)), headers=admin_headers(database_url)
    ) as http:
        yield GraphQLClient(http)


def _lund_skane(tmp_path: Path, *, without: tuple[str, ...] = (), edit: Any = None) -> Path:
    """A copy of the Lund/Skåne sample, without the rows of these source ids."""
    export = tmp_path / "lund_skane"
    shutil.rmtree(export, ignore_errors=True)
    shutil.copytree(sample_path("lund_skane"), export)
    for path in export.glob("*.csv"):
        lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
        kept = [line for line in lines if line.split(";")[0] not in without]
        text = "".join(kept)
        path.write_text("\ufeff" + (edit(path.name, text) if edit else text), encoding="utf-8")
    return export


def _listed(client: GraphQLClient, field: str, key: str) -> dict[str, str]:
    page = client.execute(f"{{ {field}(first: 100) {{ nodes {{ id {key} }} }} }}")[field]
    return {node[key]: node["id"] for node in page["nodes"]}


def _run_id(client: GraphQLClient, run_id: int | None) -> str:
    runs = client.execute("{ ingestRuns(first: 100) { nodes { id } } }")["ingestRuns"]["nodes"]
    assert run_id is not None
    return str(runs[run_id - 1]["id"])


@pytest.mark.parametrize(
    "listed",
    [("LU-P-0003", "projects", "code"), ("CCTU0263", "trials", "localId")],
    ids=["project", "trial"],
)
def test_a_record_a_complete_read_no_longer_sends_is_retired_and_comes_back(
    reference_engine: Engine, client: GraphQLClient, tmp_path: Path, listed: tuple[str, str, str]
) -> None:
    source_id, field, key = listed  # the record, the list it is in, the field naming it there
    ingest(reference_engine, LundSkaneFeed(), _lund_skane(tmp_path))
    node_id = _listed(client, field, key)[source_id]

    dropped = ingest(reference_engine, LundSkaneFeed(), _lund_skane(tmp_path, without=(source_id,)))

    assert source_id not in _listed(client, field, key)
    assert dropped.retired == 1
    node = client.execute(NODE, {"id": node_id})["node"]
    retired_by = {"id": _run_id(client, dropped.run_id)}
    assert node["retiredAt"] is not None
    assert node["retiredBy"] == retired_by
    assert [(s["retiredAt"] is not None, s["retiredBy"]) for s in node["sources"]] == [
        (True, retired_by)
    ]

    back = ingest(reference_engine, LundSkaneFeed(), _lund_skane(tmp_path))

    assert _listed(client, field, key)[source_id] == node_id
    assert (back.updated, back.retired) == (1, 0)
    node = client.execute(NODE, {"id": node_id})["node"]
    assert (node["retiredAt"], node["retiredBy"]) == (None, None)


def test_a_narrowed_read_retires_nothing(reference_engine: Engine, tmp_path: Path) -> None:
    ingest(reference_engine, CtGovFeed(), sample_path("ctgov"))
    before = row_counts(reference_engine)
    only_stem_pd = tmp_path / "ctgov"
    only_stem_pd.mkdir()
    shutil.copy(sample_path("ctgov") / "NCT05635409.json", only_stem_pd)

    for config in ({"query": "Parkinson"}, {"max_pages": 1}):
        report = ingest(reference_engine, CtGovFeed(), only_stem_pd, config=config, full=True)
        assert report.retired == 0

    assert row_counts(reference_engine) == before
    with Session(reference_engine) as session:
        retired = session.scalars(
            select(m.ClinicalTrial.nct_id).where(m.ClinicalTrial.retired_at.is_not(None))
        ).all()
    assert retired == []


STEM_PD = """{ trial(registryId: "NCT05635409") {
  retiredAt sites { name } conditions { name } collaborators { name } products { name }
} }"""


def test_links_a_feed_stops_sending_leave_the_trial(
    reference_engine: Engine, client: GraphQLClient, tmp_path: Path
) -> None:
    """STEM-PD is one trial from two feeds; each link stays while some feed still sends it."""
    ingest(reference_engine, LundSkaneFeed(), _lund_skane(tmp_path))
    ingest(reference_engine, CtGovFeed(), sample_path("ctgov"))
    registry = tmp_path / "ctgov"
    registry.mkdir()
    shutil.copy(sample_path("ctgov") / "NCT05635409.json", registry)
    study = registry / "NCT05635409.json"
    document = json.loads(study.read_text(encoding="utf-8"))
    protocol = document["protocolSection"]
    protocol["conditionsModule"]["conditions"] = ["Parkinson Disease, idiopathic"]
    sponsors = protocol["sponsorCollaboratorsModule"]
    sponsors["collaborators"] = [
        c for c in sponsors["collaborators"] if c["name"] != "University of Cambridge"
    ]
    study.write_text(json.dumps(document), encoding="utf-8")

    ingest(reference_engine, CtGovFeed(), registry, config={"query": "STEM-PD"})

    trial = client.execute(STEM_PD)["trial"]
    assert [c["name"] for c in trial["conditions"]] == [
        "Parkinsons sjukdom",
        "Parkinson Disease, idiopathic",
    ]
    assert "University of Cambridge" not in [c["name"] for c in trial["collaborators"]]

    def drop_site_and_product(file: str, text: str) -> str:
        if file != "trials.csv":
            return text
        return text.replace("|Addenbrooke's Hospital, Cambridge", "").replace(";LU-ATMP-01;", ";;")

    ingest(reference_engine, LundSkaneFeed(), _lund_skane(tmp_path, edit=drop_site_and_product))

    trial = client.execute(STEM_PD)["trial"]
    # The registry still names Addenbrooke's; the partner's product is no longer the trial's.
    assert [s["name"] for s in trial["sites"]] == [
        "Skånes universitetssjukhus",
        "Addenbrooke's Hospital, Cambridge University Hospitals",
    ]
    assert [p["name"] for p in trial["products"]] == ["STEM-PD"]
    assert trial["retiredAt"] is None


def test_a_trial_two_feeds_build_retires_only_when_neither_sends_it(
    reference_engine: Engine, client: GraphQLClient, tmp_path: Path
) -> None:
    ingest(reference_engine, LundSkaneFeed(), _lund_skane(tmp_path))
    ingest(reference_engine, CtGovFeed(), sample_path("ctgov"))

    ingest(reference_engine, LundSkaneFeed(), _lund_skane(tmp_path, without=("CCTU0263",)))

    trial = client.execute(STEM_PD)["trial"]
    assert trial["retiredAt"] is None
    # Only the registry's word is left: its site names, its condition, its product.
    assert [c["name"] for c in trial["conditions"]] == ["Parkinson Disease"]
    assert [p["name"] for p in trial["products"]] == ["STEM-PD"]
    assert "NCT05635409" in _listed(client, "trials", "nctId")

    registry = tmp_path / "ctgov"
    registry.mkdir()
    shutil.copy(sample_path("ctgov") / "NCT04797260.json", registry)
    ingest(reference_engine, CtGovFeed(), registry, max_retired_share=1.0)

    assert client.execute(STEM_PD)["trial"]["retiredAt"] is not None
    assert "NCT05635409" not in _listed(client, "trials", "nctId")


def test_a_deletion_record_retires_the_trial(
    reference_engine: Engine, client: GraphQLClient, tmp_path: Path
) -> None:
    export = tmp_path / "trials.json"
    first = {"id": "T-1", "title": "First", "updated": "2026-01-01T00:00:00Z"}
    second = {"id": "T-2", "title": "Second", "updated": "2026-01-02T00:00:00Z"}
    ingest(reference_engine, JsonTrials(), write_trials(export, first, second))
    titles = _listed(client, "trials", "title")
    deletion = {"id": "T-1", "updated": "2026-02-01T00:00:00Z", "deleted": True}
    report = ingest(reference_engine, JsonTrials(), write_trials(export, first, second, deletion))

    assert (report.read, report.deleted, report.retired) == (1, 1, 0)
    assert report.summary().splitlines() == [
        "json_trials: read 1, created 0, updated 0, unchanged 0, quarantined 0",
        "json_trials: retired 1 record the source deleted",
    ]
    assert set(_listed(client, "trials", "title")) == {"Second"}
    node = client.execute(NODE, {"id": titles["First"]})["node"]
    assert node["retiredBy"] == {"id": _run_id(client, report.run_id)}

    again = {**first, "title": "First, again", "updated": "2026-03-01T00:00:00Z"}
    ingest(reference_engine, JsonTrials(), write_trials(export, again))

    assert set(_listed(client, "trials", "title")) == {"First, again", "Second"}


def test_a_run_that_would_retire_too_much_stops_and_writes_nothing(
    reference_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    ingest(reference_engine, LundSkaneFeed(), _lund_skane(tmp_path))
    before = row_counts(reference_engine)
    truncated = _lund_skane(tmp_path, without=("LU-P-0003", "LU-P-0004", "LU-P-0005"))

    with pytest.raises(IngestError) as stopped:
        ingest(reference_engine, LundSkaneFeed(), truncated)

    assert str(stopped.value) == (
        f"lund_skane: ingest of {truncated} stopped: it would retire 3 of the feed's 13 records "
        "(23 %), more than the 20 % allowed, so nothing was written; if the source really "
        "dropped them, run again with --max-retired 24"
    )
    assert row_counts(reference_engine) == before
    with Session(reference_engine) as session:
        last = session.scalars(select(m.IngestRun).order_by(m.IngestRun.id.desc())).first()
    assert last is not None
    # It read the export, and kept nothing of it.
    assert (last.status, last.read, last.unchanged, last.quarantined, last.retired) == (
        IngestRunStatus.FAILED,
        19,
        0,
        0,
        0,
    )

    refused = run("ingest", "lund_skane", str(truncated), url=database_url)
    assert refused.returncode == 1
    allowed = run("ingest", "lund_skane", str(truncated), "--max-retired", "24", url=database_url)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines()[:2] == [
        "lund_skane: read 19, created 0, updated 0, unchanged 10, quarantined 9",
        "lund_skane: retired 3 records the source no longer sends",
    ]
