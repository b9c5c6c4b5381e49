"""CORS: a page on another origin reads the API's answers only if ATMP_CORS_ORIGINS lists that
origin; by default, and for any origin not listed, no Access-Control-* header is sent at all.

Each test asks as a browser would, through the app over HTTP: a preflight (OPTIONS with
Access-Control-Request-*) before a POST with a key and a JSON body, then the POST itself."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx2 import Response
from pydantic import ValidationError
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from tests.databases import migrate

PAGE = "http://127.0.0.1:8080"
QUERY = {"query": "{ trials { totalCount } }"}


@pytest.fixture(scope="module")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cors') / 'atmp-graph.db'}"
    migrate(url)
    return url


@pytest.fixture
def api(migrated_url: str, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The app with `cors_origins` as the test's parameter (indirect); without one, unset."""
    cors = getattr(request, "param", "")
    settings = Settings(database_url=migrated_url, cors_origins=cors)
    with TestClient(create_app(settings)) as client:
        yield client


def preflight(api: TestClient, origin: str) -> Response:
    return api.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def cors_headers(response: Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest.mark.parametrize("origin", [PAGE, "https://evil.example"])
def test_by_default_no_origin_gets_a_cors_header(api: TestClient, origin: str) -> None:
    asked = preflight(api, origin)
    posted = api.post("/graphql", json=QUERY, headers={"Origin": origin})

    assert cors_headers(asked) == {}
    assert posted.status_code == 200
    assert cors_headers(posted) == {}


@pytest.mark.parametrize("api", [f"https://app.example.org, {PAGE}"], indirect=True)
def test_a_listed_origin_is_answered_its_preflight_and_may_read_the_answer(
    api: TestClient,
) -> None:
    asked = preflight(api, PAGE)
    posted = api.post("/graphql", json=QUERY, headers={"Origin": PAGE})

    assert asked.status_code == 200
    assert cors_headers(asked) == {
        "access-control-allow-origin": PAGE,
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": "Accept, Accept-Language, Authorization, "
        "Content-Language, Content-Type",
        "access-control-max-age": "600",
    }
    assert posted.json() == {
        "data": {"trials": {"totalCount": 0}},
        "extensions": posted.json()["extensions"],
    }
    assert cors_headers(posted) == {
        "access-control-allow-origin": PAGE,
        "access-control-expose-headers": "X-Request-Id, Retry-After",
    }
    assert "Origin" in posted.headers["vary"]


@pytest.mark.parametrize("api", [PAGE], indirect=True)
def test_an_origin_not_listed_gets_no_cors_header(api: TestClient) -> None:
    asked = preflight(api, "https://evil.example")
    posted = api.post("/graphql", json=QUERY, headers={"Origin": "https://evil.example"})
    # Not even a port of the listed origin's host passes.
    other_port = api.post("/graphql", json=QUERY, headers={"Origin": "http://127.0.0.1:8081"})

    assert cors_headers(asked) == {}
    assert cors_headers(posted) == cors_headers(other_port) == {}
    assert posted.status_code == 200
    # A cache keeps the answers of each origin apart.
    assert "Origin" in posted.headers["vary"]


@pytest.mark.parametrize("api", ["*"], indirect=True)
def test_a_star_lets_every_origin_read(api: TestClient) -> None:
    posted = api.post("/graphql", json=QUERY, headers={"Origin": "https://anywhere.example"})

    assert posted.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("api", ["HTTP://127.0.0.1:8080/"], indirect=True)
def test_an_origin_is_listed_as_the_browser_sends_it(api: TestClient) -> None:
    posted = api.post("/graphql", json=QUERY, headers={"Origin": PAGE})

    assert posted.headers["access-control-allow-origin"] == PAGE


@pytest.mark.parametrize("api", [PAGE], indirect=True)
def test_a_listed_origin_may_open_a_websocket_too(api: TestClient) -> None:
    with api.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": PAGE}
    ) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"


@pytest.mark.parametrize("value", ["https://app.example.org/page", "app.example.org"])
def test_a_value_that_is_no_origin_is_refused_naming_it(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url=f"sqlite:///{tmp_path / 'db'}", cors_origins=value)

    assert f"{value!r} is not an origin (scheme://host[:port], without a path) or *" in str(
        refused.value
    )
