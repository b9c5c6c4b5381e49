"""A load balancer asks /healthz whether the process is up (nothing else) and /readyz whether
it can serve: the database answers, its migrations are current, Redis answers when configured.
A 503 names the check that failed, in our words, never the driver's."""

from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.model.database import MIGRATIONS, alembic_config
from tests.api.test_database_faults import DRIVER_WORDS
from tests.databases import migrate
from tests.live_server import free_port

UNREACHABLE_DATABASES = [
    "sqlite:////nonexistent/directory/atmp-graph.db",
    "postgresql+psycopg://nobody:secret@127.0.0.1:1/missing",
]
UPGRADE = "behind: run `atmp-graph db upgrade`"


def probe(settings: Settings, path: str) -> tuple[int, dict[str, Any]]:
    with TestClient(create_app(settings)) as client:
        response = client.get(path)
    assert [word for word in DRIVER_WORDS if word in response.text.lower()] == []
    return response.status_code, response.json()


@pytest.mark.parametrize("database_url", UNREACHABLE_DATABASES)
def test_healthz_says_the_process_is_up_without_asking_the_database(database_url: str) -> None:
    assert probe(Settings(database_url=database_url), "/healthz") == (200, {"status": "ok"})


def test_readyz_is_ready_on_a_migrated_database(database_url: str) -> None:
    migrate(database_url)

    assert probe(Settings(database_url=database_url), "/readyz") == (
        200,
        {
            "status": "ok",
            "checks": {"database": "ok", "migrations": "ok", "redis": "not configured"},
        },
    )


def previous_revision() -> str:
    scripts = ScriptDirectory(str(MIGRATIONS))
    (head,) = scripts.get_heads()
    down = scripts.get_revision(head).down_revision
    assert isinstance(down, str)
    return down


@pytest.mark.parametrize(
    ("migrated_to", "verdict"),
    [(None, "missing: run `atmp-graph db upgrade`"), ("previous", UPGRADE)],
    ids=["fresh", "one-behind"],
)
def test_readyz_fails_naming_the_migrations_when_they_are_behind(
    database_url: str, migrated_to: str | None, verdict: str
) -> None:
    if migrated_to is not None:
        command.upgrade(alembic_config(database_url), previous_revision())

    assert probe(Settings(database_url=database_url), "/readyz") == (
        503,
        {
            "status": "error",
            "failed": ["migrations"],
            "checks": {"database": "ok", "migrations": verdict, "redis": "not configured"},
        },
    )


@pytest.mark.parametrize("database_url", UNREACHABLE_DATABASES)
def test_readyz_fails_naming_the_database_when_it_does_not_answer(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, body = probe(Settings(database_url=database_url), "/readyz")

    assert (status, body) == (
        503,
        {
            "status": "error",
            "failed": ["database", "migrations"],
            "checks": {
                "database": "unreachable",
                "migrations": "not checked: the database is unreachable",
                "redis": "not configured",
            },
        },
    )
    # The driver's reason is in the log, for the operator.
    assert any("readiness: the database does not answer" in r.getMessage() for r in caplog.records)


def test_readyz_fails_naming_redis_when_the_configured_one_does_not_answer(
    database_url: str,
) -> None:
    migrate(database_url)
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    status, body = probe(Settings(database_url=database_url, redis_url=closed), "/readyz")

    assert (status, body["failed"], body["checks"]["redis"]) == (503, ["redis"], "unreachable")


def test_readyz_checks_the_configured_redis(
    database_url: str, redis_settings: dict[str, Any]
) -> None:
    migrate(database_url)

    status, body = probe(Settings(database_url=database_url, **redis_settings), "/readyz")

    assert (status, body["checks"]) == (
        200,
        {"database": "ok", "migrations": "ok", "redis": "ok"},
    )
