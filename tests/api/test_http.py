"""The HTTP surface: GraphiQL for browsers, GraphQL by POST and GET, a health check (the probes
in full: test_probes.py)."""

from starlette.testclient import TestClient


def test_browsers_get_graphiql(app_client: TestClient) -> None:
    response = app_client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_root_redirects_to_graphiql(app_client: TestClient) -> None:
    response = app_client.get("/", follow_redirects=False)

    assert (response.status_code, response.headers["location"]) == (307, "/graphql")


def test_queries_by_get(app_client: TestClient) -> None:
    response = app_client.get(
        "/graphql",
        params={"query": '{ trial(registryId: "NCT05635409") { acronym } }'},
        headers={"Accept": "application/json"},
    )

    assert response.json() == {
        "data": {"trial": {"acronym": "STEM-PD"}},
        "extensions": {
            "cost": {"requested": 2, "limit": 100_000},
            # The read planner finds the trial by the resolver's own lookup.
            "readPath": {"compiled": ["trial"], "resolvers": []},
        },
    }


def test_queries_by_post_with_variables(app_client: TestClient) -> None:
    response = app_client.post(
        "/graphql",
        json={
            "query": "query($id: String!) { trial(registryId: $id) { nctId } }",
            "variables": {"id": "2021-001366-38"},
        },
    )

    assert response.json() == {
        "data": {"trial": {"nctId": "NCT05635409"}},
        "extensions": {
            "cost": {"requested": 2, "limit": 100_000},
            # The read planner finds the trial by the resolver's own lookup.
            "readPath": {"compiled": ["trial"], "resolvers": []},
        },
    }


def test_health_check_says_the_process_is_up(app_client: TestClient) -> None:
    response = app_client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
