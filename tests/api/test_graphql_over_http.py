"""GraphQL over HTTP as its spec says: the official audit against a live server, and the media
types and status codes a client sees for each kind of request."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from tests.conftest import answer
from tests.live_server import serving

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(COMMAND, "--demo", cwd=tmp_path_factory.mktemp("audit")) as base:
        yield base


def test_the_graphql_over_http_audit_passes_without_warnings(
    node_packages: Path, live_server: str
) -> None:
    result = subprocess.run(
        ["node", "audit.mjs", f"{live_server}/graphql"],
        cwd=node_packages, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    audits = json.loads(result.stdout)

    not_ok = [
        f"{a['status']} {a['id']} {a['name']}: {a['reason']}" for a in audits if a["status"] != "ok"
    ]
    assert not_ok == [], "\n".join(not_ok)
    assert len(audits) >= 61


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("*/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),
        (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        ("text/plain", JSON),
    ],
)
def test_the_response_is_the_media_type_the_client_ranks_first(
    app_client: TestClient, accept: str | None, media_type: str
) -> None:
    if accept is None:
        del app_client.headers["accept"]  # httpx sends `Accept: */*` by default
    headers = {"Accept": accept} if accept else {}
    response = app_client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert answer(response) == {"data": {"__typename": "Query"}}


# Each request error: what it is, and the message the client reads.
REQUEST_ERRORS = {
    "does not parse": ({"query": "{"}, "Syntax Error: Expected Name, found <EOF>."),
    "does not validate": (
        {"query": "{ noSuchField }"},
        "Cannot query field 'noSuchField' on type 'Query'.",
    ),
    "has a variable of the wrong type": (
        {"query": "query($first: Int) { trials(first: $first) { totalCount } }",
         "variables": {"first": "ten"}},
        "Variable '$first' has invalid value: Int cannot represent non-integer value: 'ten'",
    ),
    "has two operations and no operationName": (
        {"query": "query A { __typename } query B { __typename }"},
        "The document has 2 operations: say which to run with `operationName`.",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("body", "message"), REQUEST_ERRORS.values(), ids=REQUEST_ERRORS)
@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 400), (JSON, 200)])
def test_a_request_that_never_runs_has_no_data_and_its_status_depends_on_the_media_type(
    app_client: TestClient, body: dict[str, object], message: str, accept: str, status: int
) -> None:
    response = app_client.post("/graphql", json=body, headers={"Accept": accept})

    assert (response.status_code, response.headers["content-type"]) == (status, accept)
    assert [error["message"] for error in answer(response)["errors"]] == [message]
    assert "data" not in answer(response)


def test_the_operation_named_runs_when_the_document_has_several(app_client: TestClient) -> None:
    response = app_client.post(
        "/graphql",
        json={"query": "query A { __typename } query B { trials { totalCount } }",
              "operationName": "B"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )  # fmt: skip

    assert (response.status_code, answer(response)) == (
        200,
        {"data": {"trials": {"totalCount": 3}}},
    )


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
def test_a_field_error_keeps_its_data_and_a_200(app_client: TestClient, accept: str) -> None:
    response = app_client.post(
        "/graphql",
        json={"query": "{ __typename trials(first: 101) { totalCount } }"},
        headers={"Accept": accept},
    )

    assert response.status_code == 200
    assert answer(response) == {
        "data": None,
        "errors": [
            {
                "message": "first: 101 is not between 0 and 100",
                "locations": [{"line": 1, "column": 14}],
                "path": ["trials"],
            }
        ],
    }


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, b'{"query": "{ __typename }"}'),
        ("text/plain", b'{"query": "{ __typename }"}'),
        ("application/x-www-form-urlencoded", b"query=%7B__typename%7D"),
        ("multipart/form-data; boundary=x", b"--x--"),
        ("application/json; charset=latin-1", b'{"query": "{ __typename }"}'),
    ],
)
def test_a_post_that_is_not_json_is_refused_as_unsupported_media(
    app_client: TestClient, content_type: str | None, body: bytes
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = app_client.post("/graphql", content=body, headers=headers)

    assert response.status_code == 415
    assert answer(response) == {
        "errors": [{"message": "Send the request as JSON: Content-Type: application/json (UTF-8)."}]
    }


def test_a_mutation_by_get_is_refused_with_the_method_it_needs(app_client: TestClient) -> None:
    response = app_client.get(
        "/graphql",
        params={"query": "mutation { rejectMatch(id: 1) { status } }"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )

    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert answer(response) == {"errors": [{"message": "Mutations are sent by POST, not GET."}]}


def test_other_methods_are_refused_with_the_ones_served(app_client: TestClient) -> None:
    response = app_client.put("/graphql", json={"query": "{ __typename }"})

    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST")


def test_queries_run_over_a_websocket_too(app_client: TestClient) -> None:
    with app_client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ trials { totalCount } }"}}
        )
        message = ws.receive_json()
        assert (message["id"], message["type"]) == ("1", "next")
        assert message["payload"]["data"] == {"trials": {"totalCount": 3}}
        assert message["payload"]["extensions"]["cost"]["requested"] == 21
        assert ws.receive_json() == {"id": "1", "type": "complete"}


@pytest.mark.parametrize(
    ("origin", "allowed", "opens"),
    [
        ("https://evil.example", "", False),
        ("https://app.example.org", "https://app.example.org", True),
        ("https://evil.example", "https://app.example.org", False),
    ],
)
def test_a_websocket_from_another_origin_opens_only_if_that_origin_is_allowed(
    demo_database_url: str, origin: str, allowed: str, opens: bool
) -> None:
    settings = Settings(database_url=demo_database_url, allowed_origins=allowed)
    with TestClient(create_app(settings)) as client:
        connect = client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": origin}
        )
        if opens:
            with connect as ws:
                ws.send_json({"type": "connection_init"})
                assert ws.receive_json()["type"] == "connection_ack"
        else:
            # Refused before the handshake completes: closed without a connection.
            with pytest.raises(WebSocketDisconnect) as refused:
                connect.__enter__()
            assert refused.value.code == 1008  # policy violation
