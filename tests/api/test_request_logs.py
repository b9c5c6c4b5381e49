"""An operator reads one JSON line per request: who asked (the key's institution and role,
never the key), what ran, how long it took, how many SQL statements it sent, which read path
answered and what went wrong; uvicorn's own lines come out in the same format."""

import json
import sys
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from atmp_graph.model import ApiKey
from atmp_graph.model.database import make_engine
from tests.conftest import api_key
from tests.live_server import serving_process

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
LUMC_ROR = "05xvt9f17"
PAGE = "query TrialPage { trials(first: 3) { totalCount nodes { title } } }"


def request_lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def institution_of(database_url: str, token: str) -> int:
    engine = make_engine(database_url)
    with Session(engine) as session:
        prefix = token.split("_", 2)[1]
        institution = session.scalar(select(ApiKey.institution_id).where(ApiKey.prefix == prefix))
    engine.dispose()
    assert institution is not None
    return institution


@pytest.fixture
def logged(
    demo_database_url: str, capsys: pytest.CaptureFixture[str]
) -> tuple[TestClient, pytest.CaptureFixture[str]]:
    """A client of an app that logs JSON to the captured standard output."""
    app = create_app(Settings(database_url=demo_database_url, log_format="json"))
    return TestClient(app), capsys


def test_a_partners_query_is_one_line_naming_its_institution_and_never_its_key(
    logged: tuple[TestClient, pytest.CaptureFixture[str]], demo_database_url: str
) -> None:
    client, capsys = logged
    token = api_key(demo_database_url, Role.PARTNER, LUMC_ROR)
    with client:
        # The second time, the compiled answer replies without Strawberry: logged the same.
        responses = [
            client.post(
                "/graphql", json={"query": PAGE}, headers={"Authorization": f"Bearer {token}"}
            )
            for _ in range(2)
        ]

    output = capsys.readouterr().out
    lines = request_lines(output)
    assert [line["request_id"] for line in lines] == [r.headers["x-request-id"] for r in responses]
    # The server secret (once), the key, the page; then the key and the page.
    assert [line["sql_statements"] for line in lines] == [3, 2]
    for line in lines:
        assert line["duration_ms"] > 0
        shown = ("request_id", "duration_ms", "sql_statements")
        assert {key: line[key] for key in line if key not in shown} == {
            "event": "request",
            "level": "info",
            "timestamp": line["timestamp"],
            "pid": line["pid"],
            "method": "POST",
            "path": "/graphql",
            "status": 200,
            "operation_type": "query",
            "operation_name": "TrialPage",
            "role": "partner",
            "institution_id": institution_of(demo_database_url, token),
            "read_path": {"compiled": ["trials"], "resolvers": []},
        }
    assert token not in output
    # The secret itself may hold "_" (token_urlsafe): split off the prefix only.
    assert token.split("_", 2)[2] not in output


MERGE = 'mutation Merge { mergeNodes(survivor: "x", merged: "y", reason: "r") { id } }'


@pytest.mark.parametrize(
    ("request_body", "status", "errors"),
    [
        (
            {"query": "{ trials { nope } }"},
            200,
            [
                {
                    "code": "BAD_REQUEST",
                    "message": "Cannot query field 'nope' on type 'ClinicalTrialConnection'. "
                    "Did you mean 'nodes'?",
                }
            ],
        ),
        (
            {"query": '{ trials(first: 1, after: "garbage") { totalCount } }'},
            200,
            [{"code": "FIELD_ERROR", "message": "after: 'garbage' is not a cursor from this API"}],
        ),
        (
            {"query": MERGE},
            403,
            [{"code": "FORBIDDEN", "message": "only curators and admins may see this"}],
        ),
    ],
    ids=["invalid", "bad-cursor", "forbidden"],
)
def test_a_request_that_fails_is_logged_as_a_warning_with_its_errors(
    logged: tuple[TestClient, pytest.CaptureFixture[str]],
    request_body: dict[str, Any],
    status: int,
    errors: list[dict[str, str]],
) -> None:
    client, capsys = logged
    with client:
        response = client.post("/graphql", json=request_body)

    [line] = request_lines(capsys.readouterr().out)
    assert response.status_code == status
    assert (line["level"], line["status"], line["errors"]) == ("warning", status, errors)


def test_a_refused_key_is_logged_as_a_401_without_the_key(
    logged: tuple[TestClient, pytest.CaptureFixture[str]],
) -> None:
    client, capsys = logged
    wrong = "atmp_deadbeef_" + "x" * 43
    with client:
        client.post("/graphql", json={"query": PAGE}, headers={"Authorization": f"Bearer {wrong}"})

    output = capsys.readouterr().out
    [line] = request_lines(output)
    assert (line["status"], line["role"], line["errors"]) == (
        401,
        "anonymous",
        [{"code": "HTTP_401", "message": "the key is not known"}],
    )
    assert "x" * 43 not in output


def test_the_probes_are_not_logged_at_info_level(
    logged: tuple[TestClient, pytest.CaptureFixture[str]],
) -> None:
    client, capsys = logged
    with client:
        client.get("/healthz")
        client.get("/readyz")

    assert request_lines(capsys.readouterr().out) == []


def test_a_live_server_writes_every_line_as_json(tmp_path: Path) -> None:
    environment = {"ATMP_LOG_FORMAT": "json"}
    with serving_process(COMMAND, "--demo", cwd=tmp_path, env=environment) as server:
        token = api_key(f"sqlite:///{tmp_path / 'atmp-graph.db'}", Role.ADMIN)
        response = httpx2.post(
            f"{server.base}/graphql",
            json={"query": PAGE},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200

    output = server.log.read_text()
    # What `serve --demo` itself prints (the URL, the ingest reports) is not a log line.
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    uvicorn = [line for line in logged if line.get("logger", "").startswith("uvicorn")]
    assert "Application startup complete." in [line["event"] for line in uvicorn]
    [line] = request_lines(output)
    assert (line["operation_name"], line["role"], line["status"]) == ("TrialPage", "admin", 200)
    assert token not in output
