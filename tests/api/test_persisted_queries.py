"""Persisted queries as clients use them: Apollo's APQ round trip by POST and GET, a hash that
does not match, the persisted-only mode an administrator fills with `atmp-graph persisted add`,
and documents one worker learnt served by another, through Redis."""

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from tests.api.conftest import body, redis_keys, wait_for_workers
from tests.live_server import free_port, serving

ROOT = Path(__file__).parents[2]
QUERIES = ROOT / "examples" / "queries"
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
TRIAL = '{ trial(registryId: "NCT05635409") { acronym } }'
STEM_PD = {"data": {"trial": {"acronym": "STEM-PD"}}}
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
NOT_IN_LIST = {
    "errors": [
        {
            "message": "this server runs only persisted documents, and this one is not "
            "registered: an administrator registers it with `atmp-graph persisted add`",
            "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"},
        }
    ]
}


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}


def send(
    http: TestClient | httpx2.Client, method: str, *, query: str | None, extensions: Any
) -> httpx2.Response:
    """A request as Apollo's persisted-query link sends it (GET: JSON in query parameters)."""
    if method == "GET":
        params = {"extensions": json.dumps(extensions)} | ({"query": query} if query else {})
        return http.get("/graphql", params=params, headers={"Accept": "application/json"})
    body = {"extensions": extensions} | ({"query": query} if query else {})
    return http.post("/graphql", json=body)


@pytest.fixture
def client(demo_database_url: str, store_settings: dict[str, Any]) -> Iterator[TestClient]:
    """The API over the demo data, with each shared store in turn."""
    settings = Settings(database_url=demo_database_url, **store_settings)
    with TestClient(create_app(settings)) as http:
        yield http


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_client_sends_the_hash_then_the_query_once_then_the_hash_alone(
    client: TestClient, method: str
) -> None:
    unknown = send(client, method, query=None, extensions=persisted(TRIAL))
    registering = send(client, method, query=TRIAL, extensions=persisted(TRIAL))
    by_hash = send(client, method, query=None, extensions=persisted(TRIAL))

    assert (unknown.status_code, body(unknown)) == (200, NOT_FOUND)
    assert (registering.status_code, body(registering)) == (200, STEM_PD)
    assert (by_hash.status_code, body(by_hash)) == (200, STEM_PD)


def test_a_hash_that_is_not_the_query_s_is_refused_and_not_stored(client: TestClient) -> None:
    other = '{ trial(registryId: "NCT00000000") { acronym } }'

    response = send(client, "POST", query=TRIAL, extensions=persisted(other))

    assert (response.status_code, body(response)) == (
        400,
        {
            "errors": [
                {
                    "message": "provided sha does not match query",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        },
    )
    assert body(send(client, "POST", query=None, extensions=persisted(other))) == NOT_FOUND


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        (
            {"version": 2, "sha256Hash": sha256(TRIAL)},
            "Unsupported persisted query version: extensions.persistedQuery.version must be 1",
        ),
        (
            {"version": 1, "sha256Hash": "abc"},
            "extensions.persistedQuery.sha256Hash must be a SHA-256 hash in hex (64 digits)",
        ),
    ],
    ids=["version 2", "not a hash"],
)
def test_malformed_persisted_query_extensions_say_what_is_wrong(
    client: TestClient, extension: dict[str, Any], message: str
) -> None:
    response = send(client, "POST", query=None, extensions={"persistedQuery": extension})

    assert response.status_code == 400
    assert [error["message"] for error in body(response)["errors"]] == [message]


def test_plain_queries_still_run_when_not_persisted_only(client: TestClient) -> None:
    assert body(client.post("/graphql", json={"query": TRIAL})) == STEM_PD


def atmp_graph(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ATMP_DATABASE_URL": url},
    )  # fmt: skip


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_persisted_only_runs_what_the_administrator_registered(demo_engine: Engine) -> None:
    url = url_of(demo_engine)
    added = atmp_graph("persisted", "add", str(QUERIES), url=url)
    again = atmp_graph("persisted", "add", str(QUERIES / "stem_pd_trial.graphql"), url=url)
    listed = atmp_graph("persisted", "list", url=url)

    files = sorted(QUERIES.glob("*.graphql"))
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines() == [f"{sha256(file.read_text())}  {file}" for file in files]
    stem_pd = QUERIES / "stem_pd_trial.graphql"
    assert again.stdout == f"{sha256(stem_pd.read_text())}  {stem_pd}  (registered already)\n"
    assert sorted(line.split()[0] for line in listed.stdout.splitlines()) == sorted(
        sha256(file.read_text()) for file in files
    )

    settings = Settings(database_url=url, persisted_only=True)
    with TestClient(create_app(settings)) as http:
        document = stem_pd.read_text()
        by_hash = send(http, "POST", query=None, extensions=persisted(document))
        by_text = http.post("/graphql", json={"query": document})
        unregistered = http.post("/graphql", json={"query": TRIAL})
        unknown_hash = send(http, "GET", query=None, extensions=persisted(TRIAL))
        # APQ registration is no way in: the document stays unknown.
        apq = send(http, "POST", query=TRIAL, extensions=persisted(TRIAL))
        after_apq = send(http, "POST", query=None, extensions=persisted(TRIAL))

    # Without persisted-only, registered documents are known by hash from the first request.
    with TestClient(create_app(Settings(database_url=url))) as http:
        apq_by_hash = send(http, "GET", query=None, extensions=persisted(document))

    expected = {"data": json.loads(stem_pd.with_suffix(".json").read_text())}
    assert body(by_hash) == body(apq_by_hash) == expected
    assert body(by_text) == expected
    for refused in (unregistered, unknown_hash, apq, after_apq):
        assert (refused.status_code, body(refused)) == (400, NOT_IN_LIST)


def test_a_document_that_does_not_fit_the_schema_is_not_registered(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "good.graphql").write_text(TRIAL)
    (tmp_path / "typo.graphql").write_text('{ trial(registryId: "X") { acronym colour } }')

    result = atmp_graph("persisted", "add", str(tmp_path), url=url_of(engine))
    listed = atmp_graph("persisted", "list", url=url_of(engine))

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: {tmp_path / 'typo.graphql'}: Cannot query field 'colour' on type "
        "'ClinicalTrial'; nothing was registered"
    )
    assert listed.stdout == (
        "no persisted documents: register some with `atmp-graph persisted add FILE`\n"
    )


def test_two_apps_share_what_clients_registered_through_redis(
    demo_database_url: str, redis_settings: dict[str, Any]
) -> None:
    settings = Settings(database_url=demo_database_url, **redis_settings)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        registering = send(first, "POST", query=TRIAL, extensions=persisted(TRIAL))
        by_hash = send(second, "POST", query=None, extensions=persisted(TRIAL))

    assert body(registering) == body(by_hash) == STEM_PD
    assert f"apq:{sha256(TRIAL)}" in redis_keys(redis_settings)


def test_workers_of_one_server_share_registered_documents_through_redis(
    tmp_path: Path, redis_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATMP_REDIS_URL", redis_settings["redis_url"])
    monkeypatch.setenv("ATMP_REDIS_PREFIX", redis_settings["redis_prefix"])
    query = "{ trials(first: 1) { totalCount } }"
    with serving(COMMAND, "--workers", "2", cwd=tmp_path) as base:
        wait_for_workers(tmp_path / "serve.log", 2)
        with httpx2.Client(base_url=base) as http:
            registering = send(http, "POST", query=query, extensions=persisted(query))
        # A new connection each time, so the workers take turns at accepting them.
        answers = []
        for _ in range(20):
            with httpx2.Client(base_url=base) as http:
                answers.append(body(send(http, "GET", query=None, extensions=persisted(query))))

    expected = {"data": {"trials": {"totalCount": 0}}}
    assert body(registering) == expected
    assert answers == [expected] * 20
    assert f"apq:{sha256(query)}" in redis_keys(redis_settings)


def test_persisted_only_refuses_websockets(engine: Engine) -> None:
    settings = Settings(database_url=url_of(engine), persisted_only=True)
    with (
        TestClient(create_app(settings)) as http,
        pytest.raises(WebSocketDisconnect) as refused,
        http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]),
    ):
        pass

    assert refused.value.code == 1008


def test_without_redis_clients_are_answered_and_asked_for_the_query_again(
    demo_database_url: str,
) -> None:
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    settings = Settings(database_url=demo_database_url, redis_url=nothing_listens)
    with TestClient(create_app(settings)) as http:
        registering = send(http, "POST", query=TRIAL, extensions=persisted(TRIAL))
        by_hash = send(http, "POST", query=None, extensions=persisted(TRIAL))

    assert (body(registering), body(by_hash)) == (STEM_PD, NOT_FOUND)
