"""The leases and the scheduler tick, in this process, on both databases: one holder per
feed, an abandoned lease ended by whoever looks (its run failed, other feeds' runs left
alone), one scheduled run per due time however many workers tick, and the command line's
ingest kept off a feed a worker runs."""

import datetime as dt
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from atmp_graph.api.cli import main
from atmp_graph.enums import IngestRunStatus
from atmp_graph.identity.precedence import load_precedence
from atmp_graph.jobs import load_jobs_config, queue_depth
from atmp_graph.jobs.drain import JobContext
from atmp_graph.jobs.lease import holding, new_holder, try_acquire
from atmp_graph.jobs.runs import queue_run
from atmp_graph.jobs.scheduler import tick
from atmp_graph.model import IngestLease, IngestRun
from atmp_graph.plugins.manager import build_plugin_host
from tests.jobs.conftest import CTGOV_SAMPLE, write_jobs_file

MINUTE = dt.timedelta(minutes=1)
HOST = build_plugin_host(load_entry_points=False)


@pytest.fixture
def context(engine: Engine, tmp_path: Path) -> JobContext:
    feeds = {
        "ctgov": {"source": CTGOV_SAMPLE, "schedule": "@every 10s"},
        "lumc": {"source": CTGOV_SAMPLE.parent / "lumc"},
    }
    config = load_jobs_config(write_jobs_file(tmp_path, feeds), HOST.feeds())
    return JobContext(engine, config, HOST, load_precedence())


def _runs(engine: Engine) -> list[tuple[str, IngestRunStatus, str | None, str | None]]:
    with Session(engine) as session:
        return [
            (run.feed, run.status, run.requested_by, run.error)
            for run in session.scalars(sa.select(IngestRun).order_by(IngestRun.id))
        ]


def test_a_feed_has_one_holder_at_a_time(engine: Engine) -> None:
    first = try_acquire(engine, "ctgov", holder=new_holder(), ttl=MINUTE)
    assert first is not None
    other_feed = try_acquire(engine, "lumc", holder=new_holder(), ttl=MINUTE)
    assert other_feed is not None

    assert try_acquire(engine, "ctgov", holder=new_holder(), ttl=MINUTE) is None
    first.release()
    again = try_acquire(engine, "ctgov", holder=new_holder(), ttl=MINUTE)
    assert again is not None
    again.release()
    other_feed.release()


@pytest.fixture
def running(engine: Engine) -> Iterator[dict[str, int]]:
    """A ctgov run whose worker on another machine stopped a minute ago, and a lumc run this
    process is running now."""
    moment = dt.datetime.now(dt.UTC)
    live = try_acquire(engine, "lumc", holder=new_holder(), ttl=MINUTE)
    assert live is not None
    with Session(engine) as session, session.begin():
        runs = {
            feed: IngestRun(feed=feed, status=IngestRunStatus.RUNNING) for feed in ("ctgov", "lumc")
        }
        session.add_all(runs.values())
        session.flush()
        session.add(
            IngestLease(
                feed="ctgov",
                run_id=runs["ctgov"].id,
                holder="elsewhere:4242:0badf00d",
                acquired_at=moment - 3 * MINUTE,
                expires_at=moment - MINUTE,
            )
        )
        ids = {feed: run.id for feed, run in runs.items()}
    live.attach(ids["lumc"])
    yield ids
    live.release()


def test_whoever_looks_next_fails_the_run_of_an_expired_lease_and_only_that_one(
    context: JobContext, running: dict[str, int]
) -> None:
    woken: list[str] = []

    tick(context, wake=woken.append, holder=new_holder())

    with Session(context.engine) as session:
        ctgov, lumc = (session.get_one(IngestRun, running[feed]) for feed in ("ctgov", "lumc"))
        leases = session.scalars(sa.select(IngestLease.feed)).all()
    assert ctgov.status == IngestRunStatus.FAILED
    assert ctgov.error is not None
    assert ctgov.error.startswith(
        "its worker (elsewhere:4242) stopped sending heartbeats: its lease expired at "
    )
    assert (lumc.status, lumc.error, leases) == (IngestRunStatus.RUNNING, None, ["lumc"])


def test_workers_ticking_at_once_queue_one_run_per_due_time(context: JobContext) -> None:
    start = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    workers = [new_holder(), new_holder()]
    woken: list[str] = []

    for moment in (start, start + dt.timedelta(seconds=10)):
        for holder in workers:
            tick(context, wake=woken.append, holder=holder, moment=moment)
    first = _runs(context.engine)
    # Due again while the first still waits: it joins that one.
    for holder in workers:
        tick(context, wake=woken.append, holder=holder, moment=start + dt.timedelta(seconds=20))

    assert first == [("ctgov", IngestRunStatus.QUEUED, "schedule", None)]
    assert _runs(context.engine) == first
    assert woken == ["ctgov"] * 4
    with Session(context.engine) as session:
        assert queue_depth(session) == 1


def test_the_command_line_keeps_off_a_feed_a_worker_runs(engine: Engine, database_url: str) -> None:
    with Session(engine) as session, session.begin():
        run_id = queue_run(session, feed="ctgov", source=str(CTGOV_SAMPLE), requested_by="t").id
    environment = {"ATMP_DATABASE_URL": database_url}
    command = ["ingest", "ctgov", str(CTGOV_SAMPLE)]

    worker = try_acquire(engine, "ctgov", holder=new_holder(), ttl=MINUTE)
    assert worker is not None
    worker.attach(run_id)
    refused = CliRunner().invoke(main, command, env=environment)
    worker.release()
    with holding(engine, "ctgov", ttl=MINUTE):
        by_a_command = CliRunner().invoke(main, command, env=environment)
    allowed = CliRunner().invoke(main, command, env=environment)

    this_process = f"{socket.gethostname()}:{os.getpid()}"
    assert (refused.exit_code, refused.output) == (
        1,
        f"Error: ctgov is being ingested now (run {run_id}) by {this_process}; try again "
        "when it has finished\n",
    )
    # On PostgreSQL a command holds the advisory lock alone: no row says who it is.
    holder = "another command" if database_url.startswith("postgresql") else this_process
    assert (by_a_command.exit_code, by_a_command.output) == (
        1,
        f"Error: ctgov is being ingested now by {holder}; try again when it has finished\n",
    )
    assert allowed.exit_code == 0, allowed.output
    assert allowed.output.startswith("ctgov: read 4, created 4")
