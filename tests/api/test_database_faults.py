"""When PostgreSQL stops, freezes or restarts, the service says so at once and then recovers.

A live `atmp-graph serve` runs over a PostgreSQL server of the tests' own, which they stop,
freeze (SIGSTOP) and restart; the shared server is never touched.  The client's timeout is
the hang detector: a request that needs it has hung.
"""

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from atmp_graph.api.demo import load_demo
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.manager import build_plugin_host
from atmp_graph.schema.db_errors import UNAVAILABLE
from tests.conftest import answer, api_key
from tests.live_server import serving
from tests.own_postgres import OwnPostgres

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
QUERY = '{ trial(registryId: "NCT05635409") { acronym } }'
ANSWER = {"data": {"trial": {"acronym": "STEM-PD"}}}
# Short limits, so a fault shows within seconds; the README gives the defaults' timings.
LIMITS = {"ATMP_DB_CONNECT_TIMEOUT_SECONDS": "2", "ATMP_DB_STATEMENT_TIMEOUT_MS": "2000"}
HANG = 30.0
# What the driver or SQLAlchemy would say; none of it may reach a client.
DRIVER_WORDS = ["psycopg", "sqlalchemy", "operationalerror", "127.0.0.1", "connection", "select"]


@pytest.fixture(scope="module")
def faults_database(own_postgres_server: OwnPostgres) -> str:
    """The demo data, in a database of this module's own on the tests' own server."""
    own_postgres_server.ensure_running()
    admin = sa.create_engine(own_postgres_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text("DROP DATABASE IF EXISTS faults"))
        connection.execute(sa.text("CREATE DATABASE faults"))
    admin.dispose()
    url = own_postgres_server.url.rsplit("/", 1)[0] + "/faults"
    upgrade(url)
    engine = make_engine(url)
    list(load_demo(engine, build_plugin_host(load_entry_points=False)))
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def service(faults_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a live server over the faults database."""
    environment = {"ATMP_DATABASE_URL": faults_database, **LIMITS}
    with serving(COMMAND, cwd=tmp_path_factory.mktemp("faults"), env=environment) as base:
        yield base


@pytest.fixture
def client(service: str, own_postgres_db: OwnPostgres) -> Iterator[httpx2.Client]:
    """A client of the service, whose pool already holds a connection to a working server."""
    with httpx2.Client(base_url=service, timeout=HANG) as http:
        assert post(http) == ANSWER
        yield http


def post(http: httpx2.Client) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200, response.text
    return answer(response)


def timed(what: str, call: Callable[[], httpx2.Response]) -> httpx2.Response:
    """`call()`, printing how long it took (the README's timings come from this output)."""
    started = time.monotonic()
    response = call()
    print(f"\n{what}: answered in {time.monotonic() - started:.1f} s")
    return response


FAULTS = {
    "stopped": (OwnPostgres.stop, OwnPostgres.start),
    "frozen": (OwnPostgres.freeze, OwnPostgres.thaw),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_query_fails_clearly_while_the_database_is_down_and_works_once_it_is_back(
    client: httpx2.Client, own_postgres_db: OwnPostgres, fault: str
) -> None:
    break_it, mend_it = FAULTS[fault]
    break_it(own_postgres_db)

    response = timed(
        f"query, database {fault}", lambda: client.post("/graphql", json={"query": QUERY})
    )
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"trial": None}
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        (UNAVAILABLE, {"code": "DATABASE_UNAVAILABLE"})
    ]
    assert [word for word in DRIVER_WORDS if word in response.text.lower()] == []

    ready = timed(f"/readyz, database {fault}", lambda: client.get("/readyz"))
    assert (ready.status_code, ready.json()["failed"]) == (503, ["database", "migrations"])

    mend_it(own_postgres_db)

    assert client.get("/readyz").json()["status"] == "ok"
    assert post(client) == ANSWER


@pytest.mark.parametrize("fault", FAULTS)
def test_a_signed_in_request_fails_clearly_too_when_its_key_cannot_be_looked_up(
    client: httpx2.Client, own_postgres_db: OwnPostgres, faults_database: str, fault: str
) -> None:
    signed_in = {"Authorization": f"Bearer {api_key(faults_database)}"}
    assert answer(client.post("/graphql", json={"query": QUERY}, headers=signed_in)) == ANSWER
    break_it, mend_it = FAULTS[fault]
    break_it(own_postgres_db)

    response = timed(
        f"signed-in query, database {fault}",
        lambda: client.post("/graphql", json={"query": QUERY}, headers=signed_in),
    )
    assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    assert response.json() == {
        "errors": [{"message": UNAVAILABLE, "extensions": {"code": "DATABASE_UNAVAILABLE"}}]
    }

    mend_it(own_postgres_db)
    assert answer(client.post("/graphql", json={"query": QUERY}, headers=signed_in)) == ANSWER


def test_the_first_query_after_a_restart_succeeds(
    client: httpx2.Client, own_postgres_db: OwnPostgres
) -> None:
    # The pool's connections died with the old server; the pre-ping finds and replaces them.
    own_postgres_db.restart()

    assert post(client) == ANSWER


def test_the_readiness_check_fails_while_the_database_is_stopped_and_recovers_by_itself(
    client: httpx2.Client, own_postgres_db: OwnPostgres
) -> None:
    own_postgres_db.stop()
    down = client.get("/readyz")
    own_postgres_db.start()
    up = client.get("/readyz")

    assert [(r.status_code, r.json()["status"]) for r in (down, up)] == [
        (503, "error"),
        (200, "ok"),
    ]
