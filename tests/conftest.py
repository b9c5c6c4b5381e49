"""Real-database fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests each get a database of their own on the server at ATMP_TEST_POSTGRES_URL, so
they are isolated and can run in any order; a migrated one is a copy of a template migrated
once per test process (tests/databases.py).  With ATMP_REQUIRE_POSTGRES=1 an
unreachable PostgreSQL fails the run instead of skipping, and so does any skipped test.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from atmp_graph.access.keys import create_key, server_secret
from atmp_graph.api.app import create_app
from atmp_graph.api.demo import load_demo
from atmp_graph.api.settings import Settings
from atmp_graph.enums import InstitutionKind, Role
from atmp_graph.ingest import ingest
from atmp_graph.model import Base, Institution, QuarantinedRecord
from atmp_graph.model.database import make_engine
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.manager import build_plugin_host
from tests.databases import POSTGRES_URL, databases, migrate
from tests.node_packages import install_node_packages
from tests.own_postgres import OwnPostgres, own_postgres

REQUIRE_POSTGRES = os.environ.get("ATMP_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_settings() -> Iterator[dict[str, Any]]:
    """Settings that put the shared store in Redis, under a prefix no other test uses."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as error:
        client.close()
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {error}")
    prefix = f"atmp-test:{uuid.uuid4().hex[:12]}:"
    try:
        yield {"redis_url": REDIS_URL, "redis_prefix": prefix}
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if databases.cache_info().currsize:
        databases().close()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if REQUIRE_POSTGRES and skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(f"{skipped} test(s) skipped: every test must run here", red=True)


def _postgres_reachable() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError as error:
        return str(error.orig).strip().splitlines()[0]
    return None


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    return _postgres_reachable()


@contextmanager
def empty_database(kind: str, directory: Path, postgres_problem: str | None) -> Iterator[str]:
    """The URL of an empty database of `kind` (sqlite or postgresql), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'atmp-graph.db'}"
        return
    if postgres_problem:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {postgres_problem}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    with databases().empty_postgres() as url:
        yield url


@contextmanager
def migrated_database(
    kind: str, directory: Path, postgres_problem: str | None
) -> Iterator[tuple[str, Engine]]:
    """A migrated, empty database of `kind` and an engine on it, for a fixture to fill; the
    engine is disposed and the database dropped afterwards."""
    with empty_database(kind, directory, postgres_problem) as url:
        migrate(url)
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_problem: str | None
) -> Iterator[str]:
    """An empty database of each kind, for this test alone."""
    with empty_database(request.param, tmp_path, postgres_problem) as url:
        yield url


@pytest.fixture
def postgres_database_url(tmp_path: Path, postgres_problem: str | None) -> Iterator[str]:
    """An empty PostgreSQL database, for behaviour that only PostgreSQL has."""
    with empty_database("postgresql", tmp_path, postgres_problem) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def demo_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_problem: str | None,
) -> Iterator[str]:
    """A database of each kind with the demo data, shared by the tests that only read it."""
    directory = tmp_path_factory.mktemp("demo")
    with migrated_database(request.param, directory, postgres_problem) as (url, engine):
        list(load_demo(engine, build_plugin_host(load_entry_points=False)))
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def own_postgres_server() -> Iterator[OwnPostgres]:
    """A PostgreSQL server of the session's own, started once (see `own_postgres`)."""
    with own_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def node_packages() -> Path:
    """tests/node with its npm packages installed, exactly as its lockfile pins them."""
    return install_node_packages()


@pytest.fixture
def own_postgres_db(own_postgres_server: OwnPostgres) -> Iterator[OwnPostgres]:
    """A PostgreSQL server the test may stop, freeze and restart; running again afterwards.

    What the test stores in it stays for the next (the server is the session's): a test that
    needs a clean database makes one (CREATE DATABASE, or a schema as `database_url` does)."""
    own_postgres_server.ensure_running()
    yield own_postgres_server
    own_postgres_server.ensure_running()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated, empty database."""
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    """The database with the demo data set loaded, as `serve --demo` loads it."""
    list(load_demo(engine, build_plugin_host(load_entry_points=False)))
    return engine


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


def answer(response: Any) -> dict[str, Any]:
    """A response's JSON without the query cost and the read path every answer reports
    (schema/limits.py, schema/planner/), for tests that compare whole bodies."""
    body = dict(response.json())
    extensions = dict(body.pop("extensions", None) or {})
    extensions.pop("cost", None)
    extensions.pop("readPath", None)
    return {**body, "extensions": extensions} if extensions else body


class GraphQLClient:
    """Sends GraphQL over real HTTP (through the ASGI app) and fails on any error."""

    def __init__(self, http: TestClient | httpx2.Client) -> None:
        self.http = http

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables)
        assert "errors" not in body, body["errors"]
        return dict(body["data"])


_KEYS: dict[tuple[str, Role, str | None], str] = {}


def api_key(database_url: str, role: Role = Role.ADMIN, ror: str | None = None) -> str:
    """A key of `role` for the institution with ROR id `ror` (any institution, by default;
    one is made when the database has none), made once per database."""
    wanted = (database_url, role, ror)
    if wanted not in _KEYS:
        engine = make_engine(database_url)
        with Session(engine) as session, session.begin():
            query = sa.select(Institution.id).order_by(Institution.id)
            if ror is not None:
                query = query.where(Institution.ror_id == ror)
            institution_id = session.scalar(query)
            if institution_id is None:
                assert ror is None, f"no institution has the ROR id {ror}"
                institution = Institution(name="Test curators", kind=InstitutionKind.OTHER)
                session.add(institution)
                session.flush()
                institution_id = institution.id
            _KEYS[wanted] = create_key(
                session, secret=server_secret(session), institution_id=institution_id, role=role
            ).token
        engine.dispose()
    return _KEYS[wanted]


def admin_headers(database_url: str) -> dict[str, str]:
    """What an admin's requests carry: most tests look at ingest internals too."""
    return {"Authorization": f"Bearer {api_key(database_url)}"}


@pytest.fixture
def app_client(demo_database_url: str) -> Iterator[TestClient]:
    """HTTP through the ASGI app as an admin, over the shared demo data (read only)."""
    app = create_app(Settings(database_url=demo_database_url))
    with TestClient(app, headers=admin_headers(demo_database_url)) as client:
        yield client


@pytest.fixture
def gql(app_client: TestClient) -> GraphQLClient:
    """An admin's GraphQL client for the app over the shared demo data (read only)."""
    return GraphQLClient(app_client)


@pytest.fixture
def anonymous(demo_database_url: str) -> Iterator[GraphQLClient]:
    """Anybody's GraphQL client (no key) over the shared demo data (read only)."""
    with TestClient(create_app(Settings(database_url=demo_database_url))) as client:
        yield GraphQLClient(client)


def load_reference(engine: Engine) -> Engine:
    """The collaboration's reference data, which partner feeds attach to, ingested."""
    reference = CollaborationFeed()
    ingest(engine, reference, reference.sample())
    return engine


@pytest.fixture
def reference_engine(engine: Engine) -> Engine:
    """A database holding the collaboration's reference data, which partner feeds attach to."""
    return load_reference(engine)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, run bookkeeping aside: what a rerun that changes nothing leaves equal."""
    with Session(engine) as session:
        return {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
            if table.name not in {"ingest_run", "quarantined_record", "change_event"}
        }


def assert_quarantined(
    engine: Engine, report: Any, expected: list[tuple[Any, ...]]
) -> list[QuarantinedRecord]:
    """The run quarantined exactly `expected` (file, row, source id, field, message), in the
    database and in its report; returns the stored rows."""
    with Session(engine) as session:
        stored = list(
            session.scalars(
                sa.select(QuarantinedRecord).where(QuarantinedRecord.run_id == report.run_id)
            )
        )
    assert [(q.file, q.row, q.source_id, q.field, q.reason) for q in stored] == expected
    assert [entry.message() for entry in report.quarantine] == [e[-1] for e in expected]
    return stored
