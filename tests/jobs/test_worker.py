"""Ingests as jobs, with every part real: the API (over HTTP, through the ASGI app) queues runs
in Redis, `atmp-graph worker` processes run them, PostgreSQL or SQLite keeps the runs and the
leases.  Two workers never run one feed at once; a worker killed mid-run leaves its run
RUNNING until its lease expires, then whoever looks next marks it FAILED, and the next run
completes the feed."""

import datetime as dt
import signal
import socket
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atmp_graph.api.settings import Settings
from atmp_graph.model import IngestLease
from atmp_graph.model.database import make_engine
from benchmarks.exports import write_ctgov_pages
from tests.conftest import REDIS_URL
from tests.jobs.conftest import CTGOV_SAMPLE, admin_of, worker_process, write_jobs_file

SAMPLE_TRIALS = {"NCT05635409", "NCT04797260"}


def _settings(database_url: str, redis_prefix: str, jobs_file: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jobs_config=jobs_file,
        rate_limit=False,
    )


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def test_run_ingest_over_http_is_run_by_a_worker_process(
    database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    jobs_file = write_jobs_file(tmp_path, {"ctgov": {"source": CTGOV_SAMPLE}})
    with admin_of(_settings(database_url, redis_prefix, jobs_file)) as admin:
        queued = admin.run_ingest("ctgov")
        assert (queued["status"], queued["waitingFor"], queued["worker"]) == ("QUEUED", None, None)
        assert queued["requestedBy"].startswith("key ")

        with worker_process(
            tmp_path, database_url=database_url, redis_prefix=redis_prefix, jobs_file=jobs_file
        ) as worker:
            run = admin.wait_for_end(queued["id"])

        assert run["status"] == "SUCCEEDED", run
        assert (run["read"], run["created"], run["quarantined"], run["error"]) == (4, 4, 0, None)
        host, pid, _token = run["worker"].split(":")
        assert (host, int(pid)) == (socket.gethostname(), worker.pid)
        assert _moment(run["startedAt"]) >= _moment(run["queuedAt"])
        found = admin.graphql.execute("{ trials { nodes { nctId } } }")["trials"]["nodes"]
        assert {trial["nctId"] for trial in found} == SAMPLE_TRIALS


def test_two_workers_never_run_one_feed_at_once_and_the_second_request_waits(
    postgres_database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    pages = write_ctgov_pages(tmp_path / "studies", 1500, locations=1)
    jobs_file = write_jobs_file(tmp_path, {"ctgov": {"source": pages}})
    settings = _settings(postgres_database_url, redis_prefix, jobs_file)
    workers = {"database_url": postgres_database_url, "redis_prefix": redis_prefix}
    with (
        admin_of(settings) as admin,
        worker_process(tmp_path, **workers, jobs_file=jobs_file, name="one"),
        worker_process(tmp_path, **workers, jobs_file=jobs_file, name="two"),
    ):
        first = admin.run_ingest("ctgov")
        second = admin.run_ingest("ctgov")
        assert second["status"] == "QUEUED"
        assert second["waitingFor"] == {"id": first["id"]}

        runs = [admin.wait_for_end(first["id"]), admin.wait_for_end(second["id"])]

    assert [run["status"] for run in runs] == ["SUCCEEDED", "SUCCEEDED"]
    assert _moment(runs[1]["startedAt"]) >= _moment(runs[0]["finishedAt"])
    # The second reads only what is newer than what the first read: nothing.
    assert [(run["read"], run["created"]) for run in runs] == [(3000, 3000), (0, 0)]


def test_a_worker_killed_mid_run_leaves_it_running_until_its_lease_ends_then_the_next_run_completes(
    database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """PostgreSQL: the run stays RUNNING until its lease expires without a heartbeat.  SQLite
    (one machine): until someone looks, who finds the worker's process gone."""
    studies = 6000
    pages = write_ctgov_pages(tmp_path / "studies", studies, locations=1)
    jobs_file = write_jobs_file(tmp_path, {"ctgov": {"source": pages}}, lease_seconds=2)
    workers = {"database_url": database_url, "redis_prefix": redis_prefix}
    with admin_of(_settings(database_url, redis_prefix, jobs_file)) as admin:
        killed = admin.run_ingest("ctgov")
        with worker_process(tmp_path, **workers, jobs_file=jobs_file, name="killed") as worker:
            deadline = time.monotonic() + 60
            while (run := admin.run(killed["id"]))["read"] == 0:
                assert time.monotonic() < deadline, run
                assert run["status"] in {"QUEUED", "RUNNING"}, run
                time.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        lease = _lease(database_url)
        assert admin.run(killed["id"])["status"] == "RUNNING"

        with worker_process(tmp_path, **workers, jobs_file=jobs_file, name="next"):
            failed = admin.wait_for_end(killed["id"])
            rerun = admin.wait_for_end(admin.run_ingest("ctgov")["id"])

        assert failed["status"] == "FAILED"
        assert 0 < failed["read"] < 2 * studies
        if database_url.startswith("postgresql"):
            assert failed["error"].endswith(
                f"stopped sending heartbeats: its lease expired at {lease:%Y-%m-%d %H:%M:%S} UTC"
            )
            assert _moment(failed["finishedAt"]) >= lease
        else:
            assert failed["error"].endswith("is gone: that process no longer runs")
        assert failed["error"].startswith(f"its worker ({socket.gethostname()}:{worker.pid})")
        assert (rerun["status"], rerun["read"]) == ("SUCCEEDED", 2 * studies)
        assert rerun["created"] == 2 * studies - failed["created"], (failed, rerun)
        assert admin.trial_count() == studies


def _lease(database_url: str) -> dt.datetime:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            expires = session.scalars(sa.select(IngestLease.expires_at)).one()
    finally:
        engine.dispose()
    return expires.replace(tzinfo=dt.UTC) if expires.tzinfo is None else expires


def test_a_schedule_due_every_second_is_run_by_the_worker(
    database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    jobs_file = write_jobs_file(
        tmp_path, {"ctgov": {"source": CTGOV_SAMPLE, "schedule": "@every 1s"}}
    )
    with admin_of(_settings(database_url, redis_prefix, jobs_file)) as admin:
        with worker_process(
            tmp_path, database_url=database_url, redis_prefix=redis_prefix, jobs_file=jobs_file
        ):
            deadline = time.monotonic() + 60
            while not (done := [run for run in admin.runs() if run["status"] == "SUCCEEDED"]):
                assert time.monotonic() < deadline, admin.runs()
                time.sleep(0.2)

        scheduled = done[0]
        assert (scheduled["requestedBy"], scheduled["read"]) == ("schedule", 4)
        assert {t["nctId"] for t in admin.graphql.execute("{ trials { nodes { nctId } } }")[
            "trials"]["nodes"]} == SAMPLE_TRIALS  # fmt: skip
