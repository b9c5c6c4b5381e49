"""Prometheus reads /metrics with an admin key: requests by operation type and status, their
latency, errors, SQL statements per request, and the gauges later parts fill; several workers
add up to one count."""

import json
import sys
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from tests.api.conftest import wait_for_workers
from tests.conftest import api_key
from tests.live_server import serving_process

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
LUMC_ROR = "05xvt9f17"
PAGE = {"query": "{ trials(first: 2) { totalCount } }"}


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Each sample by its name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def workers_answering(log: Path) -> set[int]:
    """The processes whose request lines the server's log holds."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return {line["pid"] for line in lines if line.get("event") == "request"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(demo_database_url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=demo_database_url)))


@pytest.mark.parametrize(
    ("who", "status"), [(None, 401), ("malformed", 401), (Role.PARTNER, 403), (Role.CURATOR, 403)]
)
def test_only_admin_keys_read_the_metrics(
    client: TestClient, demo_database_url: str, who: Role | str | None, status: int
) -> None:
    headers = {}
    if who == "malformed":
        headers = bearer("not-a-key")
    elif isinstance(who, Role):
        headers = bearer(api_key(demo_database_url, who, LUMC_ROR))
    with client:
        response = client.get("/metrics", headers=headers)

    assert response.status_code == status
    assert "atmp_graph" not in response.text


def test_the_metrics_count_requests_errors_and_statements(
    client: TestClient, demo_database_url: str
) -> None:
    with client:
        for _ in range(3):
            assert client.post("/graphql", json=PAGE).status_code == 200
        client.post("/graphql", json={"query": "{ nope }"})
        client.post("/graphql", content=b"{}", headers={"content-type": "text/plain"})
        client.get("/healthz")  # not traffic
        response = client.get("/metrics", headers=bearer(api_key(demo_database_url)))

    assert response.status_code == 200
    found = samples(response.text)
    assert (
        found[("atmp_graph_requests_total", (("operation_type", "query"), ("status", "200")))] == 4
    )
    assert (
        found[("atmp_graph_requests_total", (("operation_type", "none"), ("status", "415")))] == 1
    )
    errors = "atmp_graph_request_errors_total"
    assert found[(errors, (("code", "BAD_REQUEST"), ("operation_type", "query")))] == 1
    assert found[(errors, (("code", "HTTP_415"), ("operation_type", "none")))] == 1
    assert found[("atmp_graph_request_duration_seconds_count", (("operation_type", "query"),))] == 4
    # Three planned pages of one statement each; the invalid document sent none.
    assert found[("atmp_graph_sql_statements_per_request_count", ())] == 5
    assert found[("atmp_graph_sql_statements_per_request_sum", ())] == 3
    assert found[("atmp_graph_subscriptions_open", ())] == 0
    assert found[("atmp_graph_job_queue_depth", ())] == 0


def test_two_workers_report_every_request_between_them(tmp_path: Path) -> None:
    environment = {"ATMP_LOG_FORMAT": "json", "ATMP_RATE_LIMIT": "false"}
    with serving_process(
        COMMAND, "--demo", "--workers", "2", cwd=tmp_path, env=environment
    ) as server:
        wait_for_workers(server.log, 2)
        sent = 0
        # New connections, so the workers take turns; in rounds until both have answered.
        while len(workers_answering(server.log)) < 2 and sent < 400:
            for _ in range(10):
                with httpx2.Client(base_url=server.base) as http:
                    assert http.post("/graphql", json=PAGE).status_code == 200
            sent += 10
        answered_by = workers_answering(server.log)
        token = api_key(f"sqlite:///{tmp_path / 'atmp-graph.db'}")
        scrapes = [
            httpx2.get(f"{server.base}/metrics", headers=bearer(token)).text for _ in range(4)
        ]

    assert len(answered_by) == 2
    requests = ("atmp_graph_requests_total", (("operation_type", "query"), ("status", "200")))
    # Whichever worker a scrape reached, it counts what both answered.
    assert [samples(scrape)[requests] for scrape in scrapes] == [sent] * 4
