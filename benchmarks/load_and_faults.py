"""Load and faults: two web workers and a job worker on a PostgreSQL and a Redis of this script's
own (other ports, never the shared ones), under a bounded load of the README's queries and open
subscriptions; then the same load while PostgreSQL is restarted, and while Redis is.

What it checks, and prints with the figures (its exit code is 1 when a check fails):
- steady load: no errors; requests per second, p50 and p99;
- during each outage: every failed request failed with a clear GraphQL error (a code, no
  driver text), and fast; the service answers again by itself within seconds of the
  dependency's return (the last failure's end, after it);
- every subscriber got every event the outbox holds, in order, once, though the server told it
  of the outage or its connection ended;
- an ingest job running through each outage either completed, or failed and its rerun
  completed, to the same trials as without an outage.

    python benchmarks/load_and_faults.py                      # the README's run: 2 min, 50 clients
    python benchmarks/load_and_faults.py --seconds 5 --clients 8 --subscribers 2 --studies 300
"""

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parents[1]))

from atmp_graph.access.keys import create_key, server_secret
from atmp_graph.api.demo import load_demo
from atmp_graph.enums import Role
from atmp_graph.model import ChangeEvent, Institution
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.manager import build_plugin_host
from benchmarks.exports import write_ctgov_pages
from benchmarks.live_client import PATIENCE_SECONDS
from benchmarks.load_mix import Sample, Subscriber, is_clear, load, percentile
from benchmarks.own_postgres import OwnPostgres, free_port, own_postgres
from benchmarks.own_redis import OwnRedis, own_redis

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
STARTUP_SECONDS = 60
RUN_SECONDS = 180  # the longest an ingest may take here; longer is a failure
RECOVERY_SECONDS = 10  # "within seconds of the dependency's return"
# A failed request's answer at the 99th percentile, or, when the load makes the phase's own
# answers slower than that, no slower than they are: a failure that waited on a connect (5 s)
# or pool (30 s) timeout would be slower than both.
FAIL_FAST_SECONDS = 2


@dataclass(frozen=True)
class Outage:
    down: float  # time.monotonic() when the dependency was told to stop
    down_at: dt.datetime  # the same moment by the clock
    stopped: float  # when it had
    up: float  # when it answered again


@dataclass
class Checks:
    failed: list[str]

    def check(self, ok: bool, line: str) -> None:
        print(f"{line}: {'ok' if ok else 'FAILED'}")
        if not ok:
            self.failed.append(line)


class Api:
    """The API over HTTP as an admin: runs ingests and follows them."""

    def __init__(self, base: str, token: str) -> None:
        self.http = httpx2.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.http.post("/graphql", json={"query": query, "variables": variables}).json()
        if body.get("errors"):
            raise RuntimeError(f"{query.split('(', maxsplit=1)[0]}: {body['errors']}")
        return dict(body["data"])

    def run_ingest(self, feed: str) -> str:
        query = "mutation ($feed: String!) { runIngest(feed: $feed) { id } }"
        return str(self.execute(query, feed=feed)["runIngest"]["id"])

    def run(self, run_id: str) -> dict[str, Any]:
        query = """query ($id: ID!) {
          node(id: $id) { ... on IngestRun { status read error finishedAt } } }"""
        return dict(self.execute(query, id=run_id)["node"])

    def wait_for_end(self, run_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + RUN_SECONDS
        while True:
            with contextlib.suppress(httpx2.HTTPError, RuntimeError):  # an outage's end
                run = self.run(run_id)
                if run["status"] in {"SUCCEEDED", "FAILED"}:
                    return run
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {run_id} still not ended after {RUN_SECONDS} s")
            time.sleep(0.2)

    def wait_until_reading(self, run_id: str) -> None:
        deadline = time.monotonic() + RUN_SECONDS
        while (run := self.run(run_id))["read"] == 0 and run["status"] != "FAILED":
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {run_id} never started reading: {run}")
            time.sleep(0.05)

    def trial_count(self) -> int:
        return int(self.execute("{ trials { totalCount } }")["trials"]["totalCount"])


def _prepare(url: str) -> str:
    """Migrate, load the demo feeds, and make an admin key (its token)."""
    upgrade(url)
    engine = make_engine(url)
    try:
        list(load_demo(engine, build_plugin_host(load_entry_points=False)))
        with Session(engine) as session, session.begin():
            institution = session.scalars(select(Institution.id).order_by(Institution.id)).first()
            assert institution is not None, "the demo feeds load institutions"
            secret = server_secret(session)
            token = create_key(
                session, secret=secret, institution_id=institution, role=Role.ADMIN
            ).token
    finally:
        engine.dispose()
    return token


def _outbox(url: str, after: int) -> list[int]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            sequences = select(ChangeEvent.sequence).where(ChangeEvent.sequence > after)
            return list(session.scalars(sequences.order_by(ChangeEvent.sequence)))
    finally:
        engine.dispose()


@contextlib.contextmanager
def _process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with (
        log.open("w") as output,
        subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT) as process,
    ):
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_for(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    said = "nothing"
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server is not ready ({said}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx2.HTTPError):
            ready = httpx2.get(f"{base}/readyz", timeout=1)
            if ready.status_code == 200:
                return
            said = ready.text
        time.sleep(0.2)


@dataclass(frozen=True)
class Deployment:
    """What this script started, and how it loads it."""

    base: str
    token: str
    url: str
    postgres: OwnPostgres
    redis: OwnRedis
    pages: Path
    args: argparse.Namespace

    async def load(self, seconds: float) -> list[Sample]:
        return await load(self.base, self.token, clients=self.args.clients, seconds=seconds)

    async def load_through(self, server: OwnPostgres | OwnRedis) -> tuple[list[Sample], Outage]:
        """The load for --fault-seconds, `server` restarted an eighth of the way in (while the
        ingest started just before still runs)."""

        async def restarting() -> Outage:
            await asyncio.sleep(self.args.fault_seconds / 8)
            return await asyncio.to_thread(_restart, server, self.args.outage)

        samples, outage = await asyncio.gather(self.load(self.args.fault_seconds), restarting())
        return samples, outage


def _restart(server: OwnPostgres | OwnRedis, seconds: float) -> Outage:
    down, down_at = time.monotonic(), dt.datetime.now(dt.UTC)
    server.stop()
    stopped = time.monotonic()
    time.sleep(seconds)
    server.start()
    return Outage(down, down_at, stopped, time.monotonic())


def _report_load(name: str, samples: list[Sample], seconds: float) -> None:
    took = [s.seconds * 1000 for s in samples if s.failure is None]
    failed = sum(s.failure is not None for s in samples)
    median, p99 = percentile(took, 0.5), percentile(took, 0.99)
    print(f"{name:<28} {len(samples):>8} {failed:>7} {len(samples) / seconds:>8.0f} "
          f"{median:>8.1f} {p99:>8.1f}")  # fmt: skip


def _judge_outage(name: str, samples: list[Sample], outage: Outage, checks: Checks) -> None:
    failures = [s for s in samples if s.failure is not None]
    unclear = sorted({s.failure for s in failures if s.failure and not is_clear(s.failure)})
    checks.check(not unclear, f"{name}: every failure a clear GraphQL error {unclear[:3]}")
    early = [s for s in failures if s.answered < outage.down]
    checks.check(not early, f"{name}: no failure before the outage ({len(early)})")
    slowest = percentile([s.seconds for s in failures], 0.99) if failures else 0.0
    answers = percentile([s.seconds for s in samples if s.failure is None], 0.99)
    bound = max(FAIL_FAST_SECONDS, answers)
    checks.check(
        slowest < bound,
        f"{name}: {len(failures)} failed, in {slowest * 1000:.0f} ms at p99 (under "
        f"{FAIL_FAST_SECONDS} s or the phase's answers' p99, {answers * 1000:.0f} ms)",
    )
    last = max((s.answered for s in failures), default=outage.up)
    recovered = max(0.0, last - outage.up)
    checks.check(
        recovered < RECOVERY_SECONDS,
        f"{name}: answering again {recovered:.1f} s after it returned "
        f"(within {RECOVERY_SECONDS} s; down {outage.up - outage.down:.1f} s, of which "
        f"{outage.stopped - outage.down:.1f} s stopping)",
    )
    for kind in sorted({s.failure for s in failures if s.failure})[:4]:
        print(f"    told: {kind}")


def _judge_ingest(
    name: str, api: Api, run_id: str, outage: Outage, *, expected: int, checks: Checks
) -> None:
    run = api.wait_for_end(run_id)
    ended = dt.datetime.fromisoformat(run["finishedAt"]) - outage.down_at
    print(f"    the run ended {ended.total_seconds():.1f} s after the outage began")
    outcome = run["status"]
    if run["status"] == "FAILED":
        print(f"    first run failed: {run['error']}")
        rerun = api.wait_for_end(api.run_ingest("ctgov"))
        outcome += f", rerun {rerun['status']}"
    trials = api.trial_count()
    checks.check(
        outcome in {"SUCCEEDED", "FAILED, rerun SUCCEEDED"} and trials == expected,
        f"{name}: ingest {outcome}; trials {trials} (expected {expected})",
    )


def _judge_subscribers(subscribers: list[Subscriber], expected: list[int], checks: Checks) -> None:
    for number, subscriber in enumerate(subscribers):
        checks.check(
            subscriber.sequences == expected,
            f"subscriber {number}: {len(subscriber.sequences)} of {len(expected)} events, in "
            f"order, none twice; told of {len(subscriber.told)} failures, "
            f"{len(subscriber.closed)} connections ended",
        )
    said = sorted({t for s in subscribers for t in s.told})
    unclear = [words for words in said if not is_clear(words)]
    checks.check(not unclear, f"subscribers: every failure they were told is clear {unclear[:2]}")
    for words in said[:3]:
        print(f"    a subscriber was told: {words}")
    for closed in sorted({c for s in subscribers for c in s.closed})[:3]:
        print(f"    a subscriber's connection: {closed}")


async def _measure(deployment: Deployment, checks: Checks) -> None:
    args = deployment.args
    api = Api(deployment.base, deployment.token)
    start = max(_outbox(deployment.url, 0), default=0)
    subscribers = [
        Subscriber(deployment.base, deployment.token, start) for _ in range(args.subscribers)
    ]
    following = [asyncio.create_task(s.follow()) for s in subscribers]
    before = api.trial_count()
    print(f"{'phase':<28} {'requests':>8} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")

    steady = await deployment.load(args.seconds)
    _report_load("steady load", steady, args.seconds)
    checks.check(not any(s.failure for s in steady), f"steady load: 0 errors of {len(steady)}")

    servers: list[tuple[str, OwnPostgres | OwnRedis]] = [
        ("PostgreSQL", deployment.postgres), ("Redis", deployment.redis)
    ]  # fmt: skip
    for number, (name, server) in enumerate(servers, start=1):
        # The feed is read whole (full = true); each run finds as many new studies again.
        write_ctgov_pages(deployment.pages, number * args.studies, locations=1)
        run_id = await asyncio.to_thread(api.run_ingest, "ctgov")
        await asyncio.to_thread(api.wait_until_reading, run_id)
        samples, outage = await deployment.load_through(server)
        _report_load(f"{name} restarted", samples, args.fault_seconds)
        _judge_outage(f"{name} restarted", samples, outage, checks)
        expected_trials = before + number * args.studies
        await asyncio.to_thread(
            _judge_ingest,
            f"{name} restarted",
            api,
            run_id,
            outage,
            expected=expected_trials,
            checks=checks,
        )

    expected = _outbox(deployment.url, start)
    # Catching up is slow work (every subscriber reads every event); wait while they move on.
    seen, moved = sum(len(s.sequences) for s in subscribers), time.monotonic()
    while any(s.last < expected[-1] for s in subscribers) and time.monotonic() - moved < 30:
        await asyncio.sleep(0.5)
        if (now := sum(len(s.sequences) for s in subscribers)) > seen:
            seen, moved = now, time.monotonic()
    for subscriber, task in zip(subscribers, following, strict=True):
        subscriber.stopping = True
        task.cancel()
    await asyncio.wait(following, timeout=PATIENCE_SECONDS)
    _judge_subscribers(subscribers, expected, checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120, help="steady load, seconds")
    parser.add_argument("--fault-seconds", type=float, default=40, help="load around an outage")
    parser.add_argument("--outage", type=float, default=5, help="seconds a dependency is down")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn web workers")
    parser.add_argument("--studies", type=int, default=6000, help="studies each ingest adds")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a line as it is
    checks = Checks([])
    with (
        own_postgres() as postgres,
        own_redis() as redis_server,
        tempfile.TemporaryDirectory(prefix="atmp-load-") as folder,
    ):
        work = Path(folder)
        url = postgres.url
        token = _prepare(url)
        pages = write_ctgov_pages(work / "ctgov", args.studies, locations=1)
        jobs = work / "jobs.toml"
        jobs.write_text(
            "[worker]\nlease_seconds = 5\ntick_seconds = 0.5\n\n"
            f'[feeds.ctgov]\nsource = "{pages}"\nfull = true\n',
            encoding="utf-8",
        )
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ATMP_")} | {
            "ATMP_DATABASE_URL": url,
            "ATMP_REDIS_URL": redis_server.url,
            "ATMP_JOBS_CONFIG": str(jobs),
            "ATMP_RATE_LIMIT": "false",
            "ATMP_LOG_LEVEL": "warning",
            # A connection for each client a web worker serves at once, and a few for the
            # subscribers: the README's advice, so a wait for one is not what is measured.
            "ATMP_DB_POOL_SIZE": str(-(-args.clients // args.workers) + 5),
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        serve = [COMMAND, "serve", "--port", str(port), "--workers", str(args.workers)]
        with (
            _process(serve, environment, work / "serve.log") as server,
            _process([COMMAND, "worker"], environment, work / "worker.log"),
        ):
            _wait_for(base, server, work / "serve.log")
            print(
                f"{args.workers} web workers, 1 job worker, PostgreSQL :{postgres.port}, "
                f"Redis :{redis_server.port}; {args.clients} clients, {args.subscribers} "
                f"subscribers; steady {args.seconds:g} s, each fault {args.fault_seconds:g} s "
                f"with {args.outage:g} s down"
            )
            deployment = Deployment(base, token, url, postgres, redis_server, pages, args)
            asyncio.run(_measure(deployment, checks))
    if checks.failed:
        print(f"{len(checks.failed)} check(s) failed")
        sys.exit(1)
    print("all checks held")


if __name__ == "__main__":
    main()
