"""The quarantine shows what is still wrong: a record quarantined by an earlier run stays open
until a later run stores it or an admin discards it, whatever the runs in between read."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.lumc import LumcFeed
from tests.api.test_cli import _one_sentence_error, run
from tests.conftest import GraphQLClient, api_key

CART = "lumc: export.json row 2 (P24.311): phase 'Phase 5' is not a trial phase (EARLY_PHASE1, "
CART += "PHASE1, PHASE1_PHASE2, PHASE2, PHASE2_PHASE3, PHASE3, PHASE4, NA)"
QUARANTINE = """query ($status: QuarantineStatus) {
  quarantinedRecords(filter: { feed: "lumc", status: $status }) {
    totalCount
    nodes { sourceId reason status run { id } resolvedAt resolvedBy { id }
            discardedAt discardedBy discardReason }
  }
}"""


def _write_export(path: Path, *studies: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"studies": list(studies)}), encoding="utf-8")
    return path


RAG1 = {"studyId": "P19.045", "title": "RAG1-SCID", "lastModified": "2026-10-02T11:20:00+02:00"}
# Older than RAG1, so an incremental run after the first does not read it again.
CART_T = {
    "studyId": "P24.311",
    "title": "Academic CAR-T",
    "phase": "Phase 5",
    "lastModified": "2026-09-01T10:00:00+02:00",
}


@pytest.fixture
def client(reference_engine: Engine, database_url: str) -> Iterator[GraphQLClient]:
    """A curator's GraphQL client, over a database with the reference data."""
    settings = Settings(database_url=database_url)
    headers = {"Authorization": f"Bearer {api_key(database_url, Role.CURATOR)}"}
    with TestClient(create_app(settings), headers=headers) as http:
        yield GraphQLClient(http)


def _quarantine(client: GraphQLClient, status: str | None = None) -> list[dict[str, Any]]:
    return list(client.execute(QUARANTINE, {"status": status})["quarantinedRecords"]["nodes"])


def test_a_record_stays_open_until_a_later_run_stores_it(
    reference_engine: Engine, client: GraphQLClient, tmp_path: Path
) -> None:
    export = _write_export(tmp_path / "export.json", RAG1, CART_T)
    first = ingest(reference_engine, LumcFeed(), export)
    # The next incremental run reads nothing new: P24.311 is older than the state.
    second = ingest(reference_engine, LumcFeed(), export)
    assert (second.read, second.quarantined) == (0, 0)

    still_wrong = _quarantine(client)

    assert [(q["sourceId"], q["reason"], q["status"]) for q in still_wrong] == [
        ("P24.311", CART, "OPEN")
    ]
    assert still_wrong[0]["run"] == {"id": client_run_id(client, first.run_id)}

    fixed = {**CART_T, "phase": "Phase 1", "lastModified": "2026-11-01T08:00:00+01:00"}
    third = ingest(reference_engine, LumcFeed(), _write_export(export, RAG1, fixed))

    assert _quarantine(client) == []
    (resolved,) = _quarantine(client, "RESOLVED")
    assert (resolved["sourceId"], resolved["status"]) == ("P24.311", "RESOLVED")
    assert resolved["resolvedBy"] == {"id": client_run_id(client, third.run_id)}
    assert resolved["resolvedAt"] is not None


def client_run_id(client: GraphQLClient, run_id: int | None) -> str:
    """The global id of ingest run `run_id`, as the API names it."""
    runs = client.execute("{ ingestRuns(first: 100) { nodes { id read } } }")["ingestRuns"]
    ids = [node["id"] for node in runs["nodes"]]
    assert run_id is not None
    return str(ids[run_id - 1])


def test_a_record_read_again_and_still_wrong_is_listed_once(
    reference_engine: Engine, client: GraphQLClient, tmp_path: Path
) -> None:
    export = _write_export(tmp_path / "export.json", RAG1, CART_T)
    ingest(reference_engine, LumcFeed(), export)
    ingest(reference_engine, LumcFeed(), export, full=True)

    assert [(q["sourceId"], q["status"]) for q in _quarantine(client)] == [("P24.311", "OPEN")]
    assert [q["sourceId"] for q in _quarantine(client, "SUPERSEDED")] == ["P24.311"]


def test_a_curator_discards_a_record_with_a_reason(
    reference_engine: Engine, client: GraphQLClient, database_url: str, tmp_path: Path
) -> None:
    ingest(reference_engine, LumcFeed(), _write_export(tmp_path / "export.json", RAG1, CART_T))
    listed = client.execute('{ quarantinedRecords(filter: { feed: "lumc" }) { nodes { id } } }')
    number = listed["quarantinedRecords"]["nodes"][0]["id"]
    discard = """mutation ($id: Int!) {
      discardQuarantinedRecord(id: $id, reason: "LUMC withdrew the study") {
        sourceId status discardedBy discardReason
      }
    }"""

    partner = {"Authorization": f"Bearer {api_key(database_url, Role.PARTNER)}"}
    refused = client.http.post(
        "/graphql", json={"query": discard, "variables": {"id": number}}, headers=partner
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"] == "only curators and admins may see this"
    assert [q["status"] for q in _quarantine(client)] == ["OPEN"]

    discarded = client.execute(discard, {"id": number})["discardQuarantinedRecord"]

    assert discarded == {
        "sourceId": "P24.311",
        "status": "DISCARDED",
        "discardedBy": discarded["discardedBy"],
        "discardReason": "LUMC withdrew the study",
    }
    assert "(curator of institution" in discarded["discardedBy"]
    assert _quarantine(client) == []
    again = client.post(discard, {"id": number})
    assert again["errors"][0]["message"] == (
        f"quarantined record {number} is discarded already: only open records can be discarded"
    )


def test_quarantine_list_and_discard_at_the_terminal(
    reference_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    ingest(reference_engine, LumcFeed(), _write_export(tmp_path / "export.json", RAG1, CART_T))

    listed = run("quarantine", "list", url=database_url)

    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    number = line.split()[0]
    assert line == f"{number}  open  run 2  {CART}"

    discarded = run(
        "quarantine", "discard", number, "--reason", "withdrawn", "--by", "ana", url=database_url
    )

    assert discarded.stdout.strip() == f"quarantined record {number}: discarded (withdrawn)"
    assert run("quarantine", "list", url=database_url).stdout.strip() == (
        "nothing open in the quarantine"
    )
    everything = run("quarantine", "list", "--status", "all", url=database_url).stdout
    assert everything.strip() == f"{number}  discarded by ana: withdrawn  run 2  {CART}"
    assert _one_sentence_error(
        run("quarantine", "discard", "999", "--reason", "x", url=database_url)
    ) == ("Error: there is no quarantined record 999")
