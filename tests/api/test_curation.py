"""A curator sets a trial's title by hand; the admin reads who did what in the audit log.

Trials come from a real feed (an incremental JSON list, tests/ingest/json_feed.py) through the
real ingest; the curator and the admin call the API over HTTP with their own keys.  A curated
value wins over every feed's, shows as the feed `curation` in provenance and outlives the
feed's next read; every mutation leaves an audit entry with who, what, before and after.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

import atmp_graph.model as m
from atmp_graph.access.viewer import Viewer
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from atmp_graph.ingest import ingest
from tests.api.test_cli import run
from tests.conftest import GraphQLClient, api_key
from tests.ingest.json_feed import JsonTrials, write_trials

FIRST = {"id": "T1", "title": "CAR-T in lymphoma", "updated": "2026-01-01T08:00:00Z"}
SECOND = {"id": "T2", "title": "Gene therapy for PD", "updated": "2026-01-02T08:00:00Z"}

EDIT = """
mutation Edit($node: ID!, $values: JSON!, $reason: String!) {
  editCuratedFields(node: $node, values: $values, reason: $reason) {
    id ... on ClinicalTrial { title phase }
  }
}"""
CLEAR = """
mutation Clear($node: ID!, $fields: [String!]) {
  clearCuratedFields(node: $node, fields: $fields, reason: "the registry is right again") {
    ... on ClinicalTrial { title }
  }
}"""
PROVENANCE = """
query Trial($id: ID!) {
  node(id: $id) {
    ... on ClinicalTrial {
      title
      provenance(fields: ["title"]) { value claims { feed value chosen } }
    }
  }
}"""
AUDIT = """
query Audit($filter: AuditFilter) {
  auditLog(filter: $filter) {
    totalCount
    nodes {
      operation who keyId role targetType targetId arguments before after
      institution { name }
    }
  }
}"""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return tmp_path / "trials.json"


@pytest.fixture
def trials(engine: Engine, export: Path) -> Engine:
    """Two trials, read from the feed once."""
    ingest(engine, JsonTrials(), write_trials(export, FIRST, SECOND))
    return engine


@pytest.fixture
def clients(database_url: str, engine: Engine) -> Iterator[dict[str, GraphQLClient]]:
    """A client per role, each with its own key (the partner, the curator and the admin are
    all of the same institution)."""
    app = create_app(Settings(database_url=database_url))
    made = {}
    with TestClient(app) as anonymous:
        made["anonymous"] = GraphQLClient(anonymous)
        for role in Role:
            headers = {"Authorization": f"Bearer {api_key(database_url, role)}"}
            made[role.value.lower()] = GraphQLClient(TestClient(app, headers=headers))
        yield made


def _trial_id(engine: Engine, source_id: str) -> str:
    """The trial's global id, as a client finds it."""
    with Session(engine) as session:
        trial_id = session.scalar(
            select(m.EntitySource.entity_id)
            .join(m.SourceRecord)
            .where(m.SourceRecord.feed == "json_trials", m.SourceRecord.source_id == source_id)
        )
    from atmp_graph.schema.mapping import global_id  # noqa: PLC0415

    return str(global_id("clinical_trial", trial_id))


def _curator(engine: Engine) -> Viewer:
    """The curator's key as the API names its holder."""
    with Session(engine) as session:
        key = session.scalars(select(m.ApiKey).where(m.ApiKey.role == Role.CURATOR)).one()
        return Viewer(role=key.role, institution_id=key.institution_id, key_id=key.id)


def _title(client: GraphQLClient, node: str) -> dict[str, Any]:
    return dict(client.execute(PROVENANCE, {"id": node})["node"])


def _audit(client: GraphQLClient, **filter: Any) -> dict[str, Any]:
    return dict(client.execute(AUDIT, {"filter": filter or None})["auditLog"])


def test_a_curated_title_wins_shows_in_provenance_and_outlives_the_feeds_next_read(
    clients: dict[str, GraphQLClient], trials: Engine, export: Path, database_url: str
) -> None:
    curator, admin = clients["curator"], clients["admin"]
    node = _trial_id(trials, "T1")

    edited = curator.execute(
        EDIT,
        {"node": node, "values": {"title": "  CAR-T in B-cell lymphoma "}, "reason": "typo"},
    )["editCuratedFields"]
    assert edited == {"id": node, "title": "CAR-T in B-cell lymphoma", "phase": None}
    shown = _title(admin, node)
    assert shown["title"] == "CAR-T in B-cell lymphoma"
    assert shown["provenance"] == [
        {
            "value": "CAR-T in B-cell lymphoma",
            "claims": [
                {"feed": "curation", "value": "CAR-T in B-cell lymphoma", "chosen": True},
                {"feed": "json_trials", "value": "CAR-T in lymphoma", "chosen": False},
            ],
        }
    ]

    # The feed sends the trial again, with a new title: the curator's still wins.
    renamed = {**FIRST, "title": "CAR-T for lymphoma", "updated": "2026-02-01T08:00:00Z"}
    report = ingest(trials, JsonTrials(), write_trials(export, renamed, SECOND))
    assert report.updated == 1
    again = _title(admin, node)
    assert again["title"] == "CAR-T in B-cell lymphoma"
    assert [(c["feed"], c["value"], c["chosen"]) for c in again["provenance"][0]["claims"]] == [
        ("curation", "CAR-T in B-cell lymphoma", True),
        ("json_trials", "CAR-T for lymphoma", False),
    ]

    cleared = curator.execute(CLEAR, {"node": node, "fields": ["title"]})["clearCuratedFields"]
    assert cleared == {"title": "CAR-T for lymphoma"}
    assert [c["feed"] for c in _title(admin, node)["provenance"][0]["claims"]] == ["json_trials"]

    log = _audit(admin, operation="editCuratedFields")
    assert log["totalCount"] == 1
    (entry,) = log["nodes"]
    key = _curator(trials)
    with Session(trials) as session:
        institution = session.get_one(m.Institution, key.institution_id)
    assert entry == {
        "operation": "editCuratedFields",
        "who": key.who,
        "keyId": key.key_id,
        "role": "CURATOR",
        "targetType": "clinical_trial",
        "targetId": _raw_id(node),
        "arguments": {
            "node": _raw_id(node),
            "kind": "clinical_trial",
            "values": {"title": "CAR-T in B-cell lymphoma"},
            "reason": "typo",
        },
        "before": {"curated": {"title": None}, "shown": {"title": "CAR-T in lymphoma"}},
        "after": {
            "curated": {"title": "CAR-T in B-cell lymphoma"},
            "shown": {"title": "CAR-T in B-cell lymphoma"},
        },
        "institution": {"name": institution.name},
    }
    (clear,) = _audit(admin, operation="clearCuratedFields")["nodes"]
    assert clear["before"]["shown"] == {"title": "CAR-T in B-cell lymphoma"}
    assert clear["after"] == {"curated": {"title": None}, "shown": {"title": "CAR-T for lymphoma"}}
    assert key.key_id is not None
    assert _audit(admin, keyId=key.key_id)["totalCount"] == 2
    assert _audit(admin, keyId=key.key_id + 1000)["totalCount"] == 0
    # `since` and `until` compare moments, whatever offset a client writes them in.
    times = admin.execute("{ auditLog { nodes { at } } }")["auditLog"]["nodes"]
    edited_at = dt.datetime.fromisoformat(times[0]["at"])
    in_stockholm = edited_at.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    assert _audit(admin, since=in_stockholm)["totalCount"] == 2
    assert _audit(admin, until=in_stockholm)["totalCount"] == 0
    assert _audit(admin, since="2999-01-01T00:00:00Z")["totalCount"] == 0


def _raw_id(node: str) -> int:
    from strawberry import relay  # noqa: PLC0415

    return int(relay.GlobalID.from_id(node).node_id)


def test_a_merge_and_its_split_keep_the_curated_value(
    clients: dict[str, GraphQLClient], trials: Engine
) -> None:
    curator, admin = clients["curator"], clients["admin"]
    first, second = _trial_id(trials, "T1"), _trial_id(trials, "T2")
    curator.execute(EDIT, {"node": second, "values": {"phase": "phase2"}, "reason": "protocol"})

    merged = curator.execute(
        'mutation($s: ID!, $m: ID!) { mergeNodes(survivor: $s, merged: $m, reason: "same") '
        "{ id } }",
        {"s": first, "m": second},
    )["mergeNodes"]
    phase = "query($id: ID!) { node(id: $id) { ... on ClinicalTrial { phase } } }"
    assert admin.execute(phase, {"id": first})["node"] == {"phase": "PHASE2"}

    curator.execute("mutation($id: Int!) { splitMerge(id: $id) { id } }", {"id": merged["id"]})
    assert admin.execute(phase, {"id": second})["node"] == {"phase": "PHASE2"}
    assert admin.execute(phase, {"id": first})["node"] == {"phase": None}
    operations = [e["operation"] for e in _audit(admin)["nodes"]]
    assert operations == ["editCuratedFields", "mergeNodes", "splitMerge"]


def test_a_quarantined_record_marked_for_reingest_is_read_again_by_the_next_run(
    clients: dict[str, GraphQLClient], engine: Engine, export: Path
) -> None:
    """T1 has no title and is quarantined; T2 moves the cursor past it.  The source fixes
    T1 without a newer timestamp, so an incremental run never reads it again, until a curator
    asks: the next run reads the stream whole and stores it."""
    untitled = {"id": "T1", "updated": "2026-01-01T08:00:00Z"}
    ingest(engine, JsonTrials(), write_trials(export, untitled, SECOND))
    write_trials(export, FIRST, SECOND)
    assert ingest(engine, JsonTrials(), export).read == 0
    curator, admin = clients["curator"], clients["admin"]
    listed = admin.execute("{ quarantinedRecords { nodes { id sourceId status } } }")
    ((entry),) = listed["quarantinedRecords"]["nodes"]
    assert entry["sourceId"] == "T1"

    requested = curator.execute(
        'mutation($id: Int!) { requestReingest(id: $id, reason: "fixed at the source") '
        "{ status reingestRequestedBy reingestReason reingestedBy { id } } }",
        {"id": entry["id"]},
    )["requestReingest"]
    assert requested["status"] == "OPEN"
    assert requested["reingestReason"] == "fixed at the source"
    assert requested["reingestRequestedBy"] == _curator(engine).who
    assert requested["reingestedBy"] is None

    report = ingest(engine, JsonTrials(), export)
    assert (report.read, report.created, report.unchanged) == (2, 1, 1)
    after = admin.execute(
        "query($f: QuarantineFilter) { quarantinedRecords(filter: $f) "
        "{ nodes { id status reingestedBy { id } } } }",
        {"f": {"status": "RESOLVED"}},
    )["quarantinedRecords"]["nodes"]
    assert [(e["id"], e["status"], e["reingestedBy"] is not None) for e in after] == [
        (entry["id"], "RESOLVED", True)
    ]
    # The request is done: the run after reads incrementally again.
    assert ingest(engine, JsonTrials(), export).read == 0
    (audit,) = _audit(admin, operation="requestReingest")["nodes"]
    assert audit["targetType"] == "quarantined_record"
    assert audit["before"]["status"] == audit["after"]["status"] == "OPEN"
    assert audit["after"]["reingest_reason"] == "fixed at the source"


def test_a_partner_may_not_curate_and_only_admins_read_the_audit_log(
    clients: dict[str, GraphQLClient], trials: Engine
) -> None:
    node = _trial_id(trials, "T1")
    for caller in ("partner", "anonymous"):
        response = clients[caller].http.post(
            "/graphql",
            json={"query": EDIT, "variables": {"node": node, "values": {"title": "x"},
                                               "reason": "r"}},
        )  # fmt: skip
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert _title(clients["admin"], node)["title"] == "CAR-T in lymphoma"

    refused = clients["curator"].post(AUDIT)
    assert refused["data"] == {"auditLog": None}
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "tier": "admin"}
    assert _audit(clients["admin"])["totalCount"] == 0


@pytest.mark.parametrize(
    ("node", "values", "reason", "problems"),
    [
        pytest.param(
            "T1",
            {"phase": "PHASE9", "startDate": "2024-13-01", "sponsor": "Lund", "enrollment": "x"},
            "protocol",
            [
                ("phase", "'PHASE9' is not a trial phase (EARLY_PHASE1, PHASE1, PHASE1_PHASE2, "
                 "PHASE2, PHASE2_PHASE3, PHASE3, PHASE4, NA)"),
                ("startDate", "'2024-13-01' is not a date (YYYY-MM-DD)"),
                ("sponsor", "is not a field curators may set here (nctId, eudractId, euctId, "
                 "title, acronym, phase, status, startDate, completionDate, enrollment, "
                 "studyType)"),
                ("enrollment", "'x' is not a whole number"),
            ],
            id="values a feed could not send",
        ),
        pytest.param(
            "T1", {"title": ""}, " ",
            [("reason", "is empty: say why, for the audit log"),
             ("title", "is empty: clearCuratedFields removes a curated value")],
            id="empty reason and value",
        ),
        pytest.param(
            "T1", ["title"], "r", [("values", "is not an object of field names and values")],
            id="values not an object",
        ),
        pytest.param(
            "T1", {}, "r", [("values", "is empty: give at least one field and its value")],
            id="no values",
        ),
        pytest.param(
            "ClinicalTrial:999999", {"title": "x"}, "r",
            [("node", "there is no clinical_trial 999999")], id="unknown node",
        ),
        pytest.param(
            "Widget:1", {"title": "x"}, "r", [("node", "{node} is not a node id of this API")],
            id="not a node id",
        ),
        pytest.param(
            "IngestRun:1", {"title": "x"}, "r",
            [("node", "ingest_run nodes have no curated fields (only clinical_trial, product, "
              "institution)")],
            id="a node of a kind without curated fields",
        ),
        pytest.param(
            "T1", {"nctId": "NCT01234567"}, "r",
            [("nctId", "'NCT01234567' already names clinical_trial {T2}: merge the two instead")],
            id="an identifier another node has",
        ),
        pytest.param(
            "T1", {"studyType": "x" * 41}, "r", [("studyType", "is longer than 40 characters")],
            id="longer than the column",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_each_field_and_why(  # noqa: PLR0917 (the cases' fields)
    clients: dict[str, GraphQLClient],
    trials: Engine,
    node: str,
    values: Any,
    reason: str,
    problems: list[tuple[str, str]],
) -> None:
    other = _raw_id(_trial_id(trials, "T2"))
    with Session(trials) as session, session.begin():
        # The other trial has an NCT id a curator might mistakenly give the first.
        session.get_one(m.ClinicalTrial, other).nct_id = "NCT01234567"
    if node == "T1":
        node = _trial_id(trials, "T1")
    elif ":" in node:
        from strawberry import relay  # noqa: PLC0415

        node = str(relay.GlobalID(*node.split(":")))
    body = clients["curator"].post(EDIT, {"node": node, "values": values, "reason": reason})
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": [
            {"field": field, "reason": why.format(T2=other, node=node)} for field, why in problems
        ],
    }
    assert body["data"] is None
    with Session(trials) as session:
        assert session.scalar(select(func.count()).select_from(m.AuditEntry)) == 0
        assert (
            session.scalar(
                select(func.count())
                .select_from(m.SourceRecord)
                .where(m.SourceRecord.feed == "curation")
            )
            == 0
        )


def test_accept_match_refuses_a_survivor_of_another_kind(
    demo_engine: Engine, database_url: str
) -> None:
    with Session(demo_engine) as session:
        suggestion = session.scalars(
            select(m.MatchSuggestion).where(m.MatchSuggestion.entity_type == "product")
        ).first()
        assert suggestion is not None
        trial_id = session.scalars(select(m.ClinicalTrial.id)).first()
    from strawberry import relay  # noqa: PLC0415

    headers = {"Authorization": f"Bearer {api_key(database_url, Role.CURATOR)}"}
    with TestClient(create_app(Settings(database_url=database_url)), headers=headers) as http:
        body = GraphQLClient(http).post(
            "mutation($id: Int!, $s: ID) { acceptMatch(id: $id, survivor: $s) { id } }",
            {"id": suggestion.id, "s": str(relay.GlobalID("ClinicalTrial", str(trial_id)))},
        )
    (error,) = body["errors"]
    assert error["extensions"]["fields"] == [
        {"field": "survivor", "reason": f"{relay.GlobalID('ClinicalTrial', str(trial_id))} is no "
         f"product, as suggestion {suggestion.id}'s are"}
    ]  # fmt: skip
    with Session(demo_engine) as session:
        assert session.get_one(m.MatchSuggestion, suggestion.id).status.value == "PENDING"
        assert session.scalar(select(func.count()).select_from(m.AuditEntry)) == 0


def test_the_command_line_writes_audit_entries_as_its_user(
    clients: dict[str, GraphQLClient], trials: Engine, database_url: str
) -> None:
    first, second = (_raw_id(_trial_id(trials, source)) for source in ("T1", "T2"))
    merged = run(
        "review", "merge", "clinical_trial", str(first), str(second), "--reason", "same trial",
        "--by", "ada", url=database_url,
    )  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    (entry,) = _audit(clients["admin"], operation="mergeNodes")["nodes"]
    assert (entry["who"], entry["keyId"], entry["role"]) == ("ada", None, None)
    assert entry["arguments"] == {
        "kind": "clinical_trial", "survivor": first, "merged": second, "reason": "same trial"
    }  # fmt: skip
    assert entry["before"]["merged"]["title"] == "Gene therapy for PD"


@pytest.mark.parametrize(
    ("mutation", "problems"),
    [
        ("rejectMatch(id: 999) { id }", [("id", "there is no suggestion 999")]),
        ("acceptMatch(id: 999) { id }", [("id", "there is no suggestion 999")]),
        ("splitMerge(id: 999) { id }", [("id", "there is no merge 999")]),
        (
            'discardQuarantinedRecord(id: 999, reason: "gone") { id }',
            [("id", "there is no quarantined record 999")],
        ),
        (
            'requestReingest(id: 999, reason: "fixed") { id }',
            [("id", "there is no quarantined record 999")],
        ),
        (
            'mergeNodes(survivor: "<T1>", merged: "<T1>", reason: "same") { id }',
            [("merged", "clinical_trial <t1> cannot be merged into itself")],
        ),
        (
            'mergeNodes(survivor: "<T1>", merged: "<run>", reason: " ") { id }',
            [("merged", "a ClinicalTrial cannot be merged with a IngestRun"),
             ("reason", "is empty: say why, for the audit log")],
        ),
        (
            'addAlias(node: "<T1>", alias: "CAR-T") ',
            [("node", "clinical_trial nodes have no aliases (only institution, facility, "
              "condition do)")],
        ),
        (
            'clearCuratedFields(node: "<T1>", fields: ["title"], reason: "wrong") { id }',
            [("title", "has no curated value (curated fields: none)")],
        ),
    ],
    ids=lambda case: case.split("(")[0] if isinstance(case, str) else None,
)  # fmt: skip
def test_every_curation_mutation_names_the_argument_at_fault(
    clients: dict[str, GraphQLClient],
    trials: Engine,
    mutation: str,
    problems: list[tuple[str, str]],
) -> None:
    from strawberry import relay  # noqa: PLC0415

    first = _trial_id(trials, "T1")
    names = {"T1": first, "t1": _raw_id(first), "run": str(relay.GlobalID("IngestRun", "1"))}
    body = clients["curator"].post("mutation { " + _named(mutation, names) + " }")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == [
        {"field": field, "reason": _named(why, names)} for field, why in problems
    ]
    with Session(trials) as session:
        assert session.scalar(select(func.count()).select_from(m.AuditEntry)) == 0


def _named(text: str, names: dict[str, Any]) -> str:
    for name, value in names.items():
        text = text.replace(f"<{name}>", str(value))
    return text
