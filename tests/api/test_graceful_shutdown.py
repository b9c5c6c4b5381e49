"""On SIGTERM the server stops taking requests but finishes the ones in flight: a query held up
by a lock in the database gets its answer after the signal, and the server then exits."""

import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import sqlalchemy as sa

from atmp_graph.api.demo import load_demo
from atmp_graph.model.database import make_engine
from atmp_graph.plugins.manager import build_plugin_host
from tests.databases import migrate
from tests.live_server import serving_process

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
QUERY = {"query": "{ trials(first: 1) { totalCount } }"}


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.1)


def test_a_request_in_flight_at_sigterm_is_answered(
    postgres_database_url: str, tmp_path: Path
) -> None:
    migrate(postgres_database_url)
    engine = make_engine(postgres_database_url)
    list(load_demo(engine, build_plugin_host(load_entry_points=False)))
    environment = {"ATMP_DATABASE_URL": postgres_database_url}
    answers: list[httpx2.Response] = []
    with serving_process(COMMAND, cwd=tmp_path, env=environment) as server:
        with engine.connect() as blocker:
            blocker.execute(sa.text("LOCK TABLE clinical_trial IN ACCESS EXCLUSIVE MODE"))
            asking = threading.Thread(
                target=lambda: answers.append(
                    httpx2.post(f"{server.base}/graphql", json=QUERY, timeout=60)
                )
            )
            asking.start()
            waiting = sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query LIKE '%clinical_trial%'"
            )

            def query_waits() -> bool:
                # A new transaction each time: one sees a single snapshot of the activity.
                with engine.connect() as watcher:
                    return bool(watcher.scalar(waiting))

            wait_until(query_waits, "the query to wait on the lock")
            server.process.send_signal(signal.SIGTERM)
            wait_until(lambda: "Shutting down" in server.log.read_text(), "uvicorn's shutdown")
            assert server.process.poll() is None  # still there, for the request in flight
            blocker.rollback()  # the lock goes: the query runs
        asking.join(timeout=60)
        exit_code = server.process.wait(timeout=30)
    engine.dispose()

    [answer] = answers
    assert (answer.status_code, answer.json()["data"]) == (200, {"trials": {"totalCount": 3}})
    # uvicorn, done, re-raises the signal it caught: the process ends as SIGTERM asked.
    assert exit_code == -signal.SIGTERM
    assert "Finished server process" in server.log.read_text()
