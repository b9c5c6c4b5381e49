"""What a client learns when something goes wrong: a sentence about its request, or "Unexpected
error." and a request id; never SQL, parameters, driver text or our file paths."""

import base64
import logging
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.model import ServerSecret
from atmp_graph.schema.db_errors import FAILED, UNAVAILABLE
from tests.conftest import answer

# What would give away the database, the driver or the code.
INTERNALS = re.compile(r"SELECT|FROM |sqlite|psycopg|postgres|Traceback|\.py\b|/work/", re.I)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def assert_no_internals(text: str) -> None:
    assert not INTERNALS.search(text), text


# A key of the right shape: checking it needs the database.
WELL_FORMED = f"Bearer atmp_0123abcd_{'x' * 43}"


@pytest.fixture
def unmigrated_client(database_url: str) -> Iterator[TestClient]:
    """The API over a database nobody migrated: signing a request in fails."""
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


@pytest.fixture
def secretless_client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    """The API over a migrated database that has lost its server secret: no key is checked."""
    with engine.begin() as connection:
        connection.execute(sa.delete(ServerSecret))
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


@pytest.fixture
def trialless_client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    """The API over a migrated database that has lost its trials table."""
    cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE clinical_trial{cascade}"))
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


def test_a_failure_outside_graphql_is_a_500_with_only_the_request_id(
    secretless_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="atmp_graph.errors"):
        response = secretless_client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": WELL_FORMED}
        )

    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert answer(response) == {
        "errors": [{"message": "Unexpected error.", "extensions": {"requestId": request_id}}]
    }
    [record] = caplog.records
    assert record.getMessage() == f"request {request_id}: POST /graphql failed"


def test_a_key_the_database_cannot_look_up_is_a_503_with_the_database_sentence(
    unmigrated_client: TestClient,
) -> None:
    response = unmigrated_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": WELL_FORMED}
    )

    assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    [error] = answer(response)["errors"]
    # schema/db_errors.py's sentence, as a field's database error gets: by backend
    assert (error["message"], error["extensions"]["code"]) in {
        (UNAVAILABLE, "DATABASE_UNAVAILABLE"), (FAILED, "DATABASE_ERROR")
    }  # fmt: skip
    assert_no_internals(response.text)


def test_a_database_failure_is_a_sentence_and_its_traceback_is_logged_under_the_request_id(
    trialless_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="atmp_graph.errors"):
        response = trialless_client.post("/graphql", json={"query": "{ trials { totalCount } }"})

    request_id = response.headers["x-request-id"]
    [error] = answer(response)["errors"]
    assert (response.status_code, error["path"]) == (200, ["trials"])
    # schema/db_errors.py's sentence for what the database said, by backend
    assert error["extensions"]["code"] in {"DATABASE_UNAVAILABLE", "DATABASE_ERROR"}
    assert_no_internals(response.text)
    [record] = caplog.records
    assert record.getMessage() == f"request {request_id}: unexpected error at trials"
    assert record.exc_info
    assert "clinical_trial" in str(record.exc_info[1])


@pytest.mark.parametrize(
    "database_url",
    [
        "sqlite:////nonexistent/directory/atmp-graph.db",
        "postgresql+psycopg://nobody:secret@127.0.0.1:1/missing",
    ],
)
def test_the_readiness_check_says_error_and_nothing_of_the_driver(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        TestClient(create_app(Settings(database_url=database_url))) as client,
        caplog.at_level(logging.ERROR, logger="atmp_graph.errors"),
    ):
        response = client.get("/readyz")

    assert (response.status_code, response.json()["failed"]) == (503, ["database", "migrations"])
    request_id = response.headers["x-request-id"]
    # Ours: the pool and the change-history poller may log their own trouble meanwhile.
    [record] = [r for r in caplog.records if r.name == "atmp_graph.errors"]
    assert record.getMessage() == f"request {request_id}: readiness: the database does not answer"


@pytest.mark.parametrize(
    "node_id",
    [
        b64("Institution:99999999999999999999999"),  # more than any INTEGER holds
        b64("Institution:2147483648"),  # one more than PostgreSQL's INTEGER holds
        b64("Institution:-1"),
        b64("Institution:٣"),  # a digit, but not one we write ids in
        b64("Institution:"),
        b64("NoSuchType:1"),
        b64("TrialSite:1"),  # a type of the schema, but not a node
        "not base64 at all",
        "",
    ],
)
def test_node_is_null_for_an_id_that_names_no_node(app_client: TestClient, node_id: str) -> None:
    response = app_client.post(
        "/graphql",
        json={"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": node_id}},
    )

    assert answer(response) == {"data": {"node": None}}


def test_node_finds_a_node_by_its_id(app_client: TestClient) -> None:
    response = app_client.post(
        "/graphql",
        json={"query": f'{{ node(id: "{b64("Institution:1")}") {{ id }} }}'},
    )

    assert answer(response) == {"data": {"node": {"id": b64("Institution:1")}}}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            f'after: "{b64("offset:-5")}"',
            f"after: {b64('offset:-5')!r} is not a cursor from this API",
        ),
        (
            f'after: "{b64("offset:99999999999999999999")}"',
            f"after: {b64('offset:99999999999999999999')!r} is not a cursor from this API",
        ),
        (
            # Long, yet within the query size limit (ATMP_MAX_QUERY_BYTES).
            f'after: "{"A" * 15_000}"',
            f"after: {'A' * 40!r}… is not a cursor from this API",
        ),
        ('filter: {search: "a\\u0000b"}', "filter.search: 'a\\x00b' holds a NUL character"),
        (
            f'filter: {{search: "{"a" * 15_000}"}}',
            "filter.search: 15000 characters, more than the 1000 this argument takes",
        ),
        (
            'filter: {nctId: {eq: "NCT\\u0000"}}',
            "filter.nctId.eq: 'NCT\\x00' holds a NUL character",
        ),
    ],
)
def test_bad_list_arguments_are_explained_before_they_reach_the_database(
    app_client: TestClient, arguments: str, message: str
) -> None:
    response = app_client.post(
        "/graphql", json={"query": f"{{ trials({arguments}) {{ totalCount }} }}"}
    )

    assert [error["message"] for error in answer(response)["errors"]] == [message]
    assert "extensions" not in answer(response)["errors"][0]


def test_a_registry_id_with_a_nul_is_explained(app_client: TestClient) -> None:
    response = app_client.post(
        "/graphql", json={"query": '{ trial(registryId: "NCT\\u0000") { acronym } }'}
    )

    [error] = answer(response)["errors"]
    assert error["message"] == "registryId: 'NCT\\x00' holds a NUL character"


def test_a_search_matches_percent_and_underscore_as_themselves(app_client: TestClient) -> None:
    response = app_client.post(
        "/graphql", json={"query": '{ trials(filter: {search: "%"}) { totalCount } }'}
    )

    assert answer(response) == {"data": {"trials": {"totalCount": 0}}}


DEEP = "[" * 2000 + "]" * 2000

BAD_BODIES = {
    "a JSON string": (b'"{ __typename }"', "The request body must be a JSON object"),
    "a JSON array": (b'[{"query": "{ __typename }"}]', "The request body must be a JSON object"),
    "not UTF-8": (b'{"query": "{ __typename \xff }"}', "The request body is not UTF-8 text."),
    "not JSON": (b'{"query": ', "The request's JSON does not parse."),
    "empty": (b"", "The request's JSON does not parse."),
    "variables nested 2,000 deep": (
        f'{{"query": "{{ __typename }}", "variables": {{"v": {DEEP}}}}}'.encode(),
        "The request's JSON nests more than 32 levels deep.",
    ),
    "extensions nested 40 deep": (
        ('{"query": "{ __typename }", "extensions": ' + '{"e": ' * 40 + "1" + "}" * 41).encode(),
        "The request's JSON nests more than 32 levels deep.",
    ),
    "a query that is a number": (b'{"query": 1}', "`query` must be a string or null."),
    "variables that are a list": (
        b'{"query": "{ __typename }", "variables": [1]}',
        "`variables` must be an object or null.",
    ),
    "no query": (b'{"variables": {}}', "The request has no GraphQL `query`."),
}


@pytest.mark.parametrize(("body", "message"), BAD_BODIES.values(), ids=BAD_BODIES)
def test_a_body_that_is_no_graphql_request_is_a_400_with_a_sentence(
    app_client: TestClient, body: bytes, message: str
) -> None:
    response = app_client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    [error] = answer(response)["errors"]
    assert error["message"].startswith(message)
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"query": "{ __typename }", "variables": "{not json"},
            "The request's JSON does not parse.",
        ),
        (
            {"query": "{ __typename }", "extensions": "[" * 50 + "]" * 50},
            "The request's JSON nests more than 32 levels deep.",
        ),
    ],
)
def test_a_get_with_bad_parameters_is_a_400(
    app_client: TestClient, params: dict[str, str], message: str
) -> None:
    response = app_client.get("/graphql", params=params, headers={"Accept": "application/json"})

    assert (response.status_code, answer(response)) == (400, {"errors": [{"message": message}]})


def test_every_response_carries_a_request_id_of_its_own(app_client: TestClient) -> None:
    ids = {app_client.get("/healthz").headers["x-request-id"] for _ in range(3)}

    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)


def test_user_errors_pass_through_unmasked(app_client: TestClient) -> None:
    del app_client.headers["authorization"]  # an anonymous caller
    response = app_client.post("/graphql", json={"query": "{ ingestRuns { totalCount } }"})

    [error] = answer(response)["errors"]
    assert (error["message"], error["extensions"]) == (
        "only curators and admins may see this",
        {"code": "FORBIDDEN", "tier": "curator"},
    )
