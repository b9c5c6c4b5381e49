"""Live updates as a JavaScript client (npm's graphql-ws over `ws`) gets them from a deployment:
two `atmp-graph serve` processes on one PostgreSQL and one Redis, a job worker ingesting, and
one server restarted mid-stream.  That server's subscriber reconnects after the close code 1012
and resumes from the last sequence it saw: both subscribers get the same events, the outbox's,
each once."""

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx2
import sqlalchemy as sa

from atmp_graph.enums import Role
from atmp_graph.model import ChangeEvent
from atmp_graph.model.database import make_engine
from benchmarks.exports import write_ctgov_pages
from tests.conftest import api_key
from tests.databases import migrate
from tests.jobs.conftest import RUN_INGEST, worker_process, write_jobs_file
from tests.live_server import LiveServer, free_port, serving_process, started_together

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
# Big enough that the run still goes on for a few seconds after the first events arrive.
STUDIES = 1500
# Long enough for any run of this test; a client still waiting then is a bug.
WAIT_SECONDS = 120
# How the subscriber's connections end: uvicorn's close code for each WebSocket as the server
# stops (service restart), the server not there (abnormal closure), the client done.
CLOSED_FOR_RESTART = {"closed": 1012, "reason": ""}
REFUSED = {"closed": 1006, "reason": ""}
CLOSED_BY_ITSELF = {"closed": 1000, "reason": "Normal Closure"}


def read_lines(path: Path) -> list[dict[str, Any]]:
    """What a subscriber has printed so far: whole lines only."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def events(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line["event"] for line in lines if "event" in line]


def connections(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "connected" in line or "closed" in line]


class Subscriber:
    """tests/node/resuming_subscriber.mjs, subscribed to a server's `graphChanges` after
    `after`, its JSON lines in a file."""

    def __init__(self, node_packages: Path, base: str, key: str, after: int, out: Path) -> None:
        self.out = out
        url = base.replace("http://", "ws://") + "/graphql"
        with out.open("w") as output:
            self.process = subprocess.Popen(
                ["node", "resuming_subscriber.mjs", url, key, str(after)],
                cwd=node_packages, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def lines(self) -> list[dict[str, Any]]:
        return read_lines(self.out)

    def wait_until(self, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """Its lines, once `done(lines)` holds."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not done(lines := self.lines()):
            assert self.process.poll() is None, self.out.read_text()
            assert time.monotonic() < deadline, lines[-5:]
            time.sleep(0.05)
        return lines

    def finished(self) -> list[dict[str, Any]]:
        """Its lines, once it has ended by itself (after the run's end)."""
        assert self.process.wait(timeout=WAIT_SECONDS) == 0, self.out.read_text()
        return self.lines()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@contextmanager
def subscriber(
    node_packages: Path, server: LiveServer, key: str, after: int, out: Path
) -> Iterator[Subscriber]:
    running = Subscriber(node_packages, server.base, key, after, out)
    try:
        yield running
    finally:
        running.stop()


def outbox_sequences(database_url: str, after: int) -> list[int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            query = sa.select(ChangeEvent.sequence).where(ChangeEvent.sequence > after)
            return list(connection.scalars(query.order_by(ChangeEvent.sequence)))
    finally:
        engine.dispose()


def test_a_subscriber_whose_server_restarts_mid_ingest_resumes_and_misses_nothing(
    postgres_database_url: str,
    redis_settings: dict[str, Any],
    node_packages: Path,
    tmp_path: Path,
) -> None:
    url = postgres_database_url
    migrate(url)
    key = api_key(url, Role.ADMIN)
    start = outbox_sequences(url, 0)[-1]  # the key's institution
    pages = write_ctgov_pages(tmp_path / "studies", STUDIES, locations=1)
    jobs_file = write_jobs_file(tmp_path, {"ctgov": {"source": pages}})
    env = {
        "ATMP_DATABASE_URL": url,
        "ATMP_RATE_LIMIT": "false",
        "ATMP_REDIS_URL": redis_settings["redis_url"],
        "ATMP_REDIS_PREFIX": redis_settings["redis_prefix"],
        "ATMP_JOBS_CONFIG": str(jobs_file),
    }
    for name in ("a", "a-again", "b"):
        (tmp_path / name).mkdir()
    port_a = free_port()

    def server_a(cwd: str) -> AbstractContextManager[LiveServer]:
        return serving_process(COMMAND, cwd=tmp_path / cwd, env=env, port=port_a)

    server_b = serving_process(COMMAND, cwd=tmp_path / "b", env=env)
    workers = {"database_url": url, "redis_prefix": redis_settings["redis_prefix"]}
    with (
        worker_process(tmp_path, **workers, jobs_file=jobs_file),  # it starts meanwhile
        started_together(server_a("a"), server_b) as (first_a, b),
        subscriber(node_packages, first_a, key, start, tmp_path / "a.jsonl") as on_a,
        subscriber(node_packages, b, key, start, tmp_path / "b.jsonl") as on_b,
    ):
        for client in (on_a, on_b):
            client.wait_until(lambda lines: {"connected": 1} in lines)
        queued = httpx2.post(
            f"{b.base}/graphql",
            json={"query": RUN_INGEST, "variables": {"feed": "ctgov"}},
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        assert queued["data"]["runIngest"]["status"] == "QUEUED", queued

        # Mid-stream: A's subscriber has had some of the run's events, not its end.
        before = on_a.wait_until(lambda lines: len(events(lines)) >= 50)
        assert "RUN_FINISHED" not in [event["kind"] for event in events(before)]
        first_a.process.send_signal(signal.SIGTERM)
        assert first_a.process.wait(timeout=60) == -signal.SIGTERM  # uvicorn's graceful end
        with server_a("a-again"):
            seen_a, seen_b = on_a.finished(), on_b.finished()

    # A's subscriber was closed as a service restart (1012), was refused while its server
    # started again (1006), connected again, and closed by itself at the run's end (1000).
    assert connections(seen_a)[:2] == [{"connected": 1}, CLOSED_FOR_RESTART]
    assert all(line == REFUSED for line in connections(seen_a)[2:-2])
    assert connections(seen_a)[-2:] == [{"connected": 2}, CLOSED_BY_ITSELF]
    assert connections(seen_b) == [{"connected": 1}, CLOSED_BY_ITSELF]
    restart = seen_a.index(CLOSED_FOR_RESTART)
    assert 50 <= len(events(seen_a[:restart])) < len(events(seen_a))

    # Both got the same events, each once, in order, and none the outbox holds is missing.
    assert events(seen_a) == events(seen_b)
    sequences = [event["sequence"] for event in events(seen_a)]
    assert sequences == outbox_sequences(url, start)
    assert sequences == list(range(start + 1, start + 1 + len(sequences)))
    assert events(seen_a)[-1]["kind"] == "RUN_FINISHED"
    assert events(seen_a)[-1]["report"]["status"] == "SUCCEEDED"
    assert events(seen_a)[-1]["report"]["created"] == 2 * STUDIES
