"""What the job tests share: a Redis key prefix of their own (tests/conftest.py's
`redis_settings`), jobs files, worker processes, and an admin who asks for runs over HTTP and
follows them."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from tests.conftest import REDIS_URL, GraphQLClient, admin_headers
from tests.databases import migrate

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
CTGOV_SAMPLE = Path(__file__).parents[2] / "plugins" / "builtin" / "data" / "ctgov"
# Long enough for any run of these tests; a run still going then is a bug.
RUN_SECONDS = 120

RUN_FIELDS = """id feed status startedAt finishedAt queuedAt requestedBy worker heartbeatAt
error read created updated unchanged quarantined waitingFor { id }"""
RUN_INGEST = f"mutation ($feed: String!) {{ runIngest(feed: $feed) {{ {RUN_FIELDS} }} }}"
RUN = f"query ($id: ID!) {{ node(id: $id) {{ ... on IngestRun {{ {RUN_FIELDS} }} }} }}"
RUNS = f"{{ ingestRuns(first: 100) {{ nodes {{ {RUN_FIELDS} }} }} }}"


@pytest.fixture
def redis_prefix(redis_settings: dict[str, Any]) -> str:
    """A key prefix no other test uses, on the shared Redis; its keys are deleted after."""
    return str(redis_settings["redis_prefix"])


def write_jobs_file(
    directory: Path,
    feeds: Mapping[str, Mapping[str, Any]],
    *,
    lease_seconds: float = 3,
    tick_seconds: float = 0.5,
) -> Path:
    """A jobs file for `feeds` (name → its table), with a short lease and a quick tick."""
    lines = [f"[worker]\nlease_seconds = {lease_seconds}\ntick_seconds = {tick_seconds}\n"]
    for feed, entry in feeds.items():
        lines.append(f"[feeds.{feed}]")
        lines += [f"{key} = {_toml(value)}" for key, value in entry.items()]
    path = directory / "jobs.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


@contextmanager
def worker_process(
    cwd: Path, *, database_url: str, redis_prefix: str, jobs_file: Path, name: str = "worker"
) -> Iterator[subprocess.Popen[bytes]]:
    """`atmp-graph worker --config JOBS_FILE`, its output in `cwd/NAME.log`; stopped with
    SIGTERM afterwards (unless the test killed it)."""
    environment = os.environ | {
        "ATMP_DATABASE_URL": database_url,
        "ATMP_REDIS_URL": REDIS_URL,
        "ATMP_REDIS_PREFIX": redis_prefix,
    }
    log = cwd / f"{name}.log"
    with log.open("w") as output, subprocess.Popen(
        [COMMAND, "worker", "--config", str(jobs_file)],
        cwd=cwd, env=environment, stdout=output, stderr=subprocess.STDOUT,
    ) as worker:  # fmt: skip
        try:
            yield worker
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=RUN_SECONDS)


class Admin:
    """An admin of the API (through the ASGI app, over HTTP) who asks for runs."""

    def __init__(self, client: TestClient) -> None:
        self.http, self.graphql = client, GraphQLClient(client)

    def run_ingest(self, feed: str) -> dict[str, Any]:
        return dict(self.graphql.execute(RUN_INGEST, {"feed": feed})["runIngest"])

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(self.graphql.execute(RUN, {"id": run_id})["node"])

    def runs(self) -> list[dict[str, Any]]:
        return list(self.graphql.execute(RUNS)["ingestRuns"]["nodes"])

    def wait_until(self, run_id: str, *statuses: str) -> dict[str, Any]:
        """The run, once its status is one of `statuses`."""
        deadline = time.monotonic() + RUN_SECONDS
        while (run := self.run(run_id))["status"] not in statuses:
            assert time.monotonic() < deadline, run
            time.sleep(0.1)
        return run

    def wait_for_end(self, run_id: str) -> dict[str, Any]:
        return self.wait_until(run_id, "SUCCEEDED", "FAILED")

    def trial_count(self) -> int:
        return int(self.graphql.execute("{ trials { totalCount } }")["trials"]["totalCount"])


@contextmanager
def admin_of(settings: Settings) -> Iterator[Admin]:
    """The API over `settings`' database (migrated here) as an admin."""
    migrate(settings.database_url)
    with TestClient(create_app(settings), headers=admin_headers(settings.database_url)) as client:
        yield Admin(client)
