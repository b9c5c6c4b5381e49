"""How fast the GraphQL API answers a typical frontend query, against a hand-written baseline.

The query: a page of 20 trials, each with its sponsor and its sites.  The baseline gives the same
answer from the same database with three hand-written SQLAlchemy Core statements and json.dumps:
what the database work alone costs.  The ratio says how much the GraphQL layer (parsing,
validation, Strawberry's per-field execution, DataLoaders, ORM rows) adds on top.

    python benchmarks/query_throughput.py [--postgres [URL]] [--trials N] [--seconds S]

Bounded in count and time, in-process (no network), so it measures the server's CPU per request.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).parents[1]))

import atmp_graph.model as m
from atmp_graph.api.app import create_app
from atmp_graph.ingest import ingest
from atmp_graph.model.database import make_async_engine, make_engine, upgrade
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from benchmarks.app_settings import measured_settings
from benchmarks.exports import write_trials_export
from benchmarks.scratch import add_postgres_option, scratch_database

QUERY = """query Page($first: Int!) {
  trials(first: $first) { totalCount edges { node {
    nctId title phase status
    sponsor { name }
    sites { name city country }
  } } }
}"""
PAGE = 20


async def raw_baseline(engine: AsyncEngine) -> bytes:
    """The same answer, hand-written: count, page, sponsors, sites."""
    t, i, s = m.ClinicalTrial, m.Institution, m.TrialSite
    async with engine.connect() as connection:
        total = await connection.scalar(select(func.count()).select_from(t))
        page = (
            await connection.execute(
                select(t.id, t.nct_id, t.title, t.phase, t.status, t.sponsor_id)
                .order_by(t.id)
                .limit(PAGE)
            )
        ).all()
        sponsor_ids = {row.sponsor_id for row in page}
        sponsors = dict(
            (await connection.execute(select(i.id, i.name).where(i.id.in_(sponsor_ids)))).all()
        )
        sites: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await connection.execute(
            select(s.trial_id, s.name, s.city, s.country)
            .where(s.trial_id.in_([row.id for row in page]))
            .order_by(s.id)
        ):
            sites[row.trial_id].append({"name": row.name, "city": row.city, "country": row.country})
    edges = [
        {
            "node": {
                "nctId": row.nct_id,
                "title": row.title,
                "phase": row.phase.value if row.phase else None,
                "status": row.status.value if row.status else None,
                "sponsor": {"name": sponsors[row.sponsor_id]} if row.sponsor_id else None,
                "sites": sites[row.id],
            }
        }
        for row in page
    ]
    return json.dumps({"data": {"trials": {"totalCount": total, "edges": edges}}}).encode()


async def rate(label: str, call: Callable[[], Awaitable[Any]], seconds: float, most: int) -> float:
    for _ in range(5):  # warm caches and connection pools
        await call()
    count, started = 0, time.perf_counter()
    while count < most and time.perf_counter() - started < seconds:
        await call()
        count += 1
    per_second = count / (time.perf_counter() - started)
    print(f"{label:<34} {per_second:8.1f} requests/s  ({count} requests)")
    return per_second


async def measure(url: str, seconds: float, most: int) -> None:
    app = create_app(measured_settings(url))  # a load test
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def graphql() -> None:
            response = await client.post(
                "/graphql", json={"query": QUERY, "variables": {"first": PAGE}}
            )
            assert len(response.json()["data"]["trials"]["edges"]) == PAGE

        engine = make_async_engine(url)
        answer = await client.post("/graphql", json={"query": QUERY, "variables": {"first": PAGE}})
        # The same data (GraphQL also reports the query's cost in `extensions`).
        expected = json.loads(await raw_baseline(engine))["data"]
        assert answer.json()["data"] == expected, "the answers differ"
        baseline = await rate(
            "hand-written SQL + json.dumps", lambda: raw_baseline(engine), seconds, most
        )
        served = await rate("GraphQL over the ASGI app", graphql, seconds, most)
        await engine.dispose()
    await app.state.engine.dispose()
    print(f"{'ratio GraphQL / baseline':<34} {served / baseline:8.2f}")
    print(f"{'GraphQL CPU per request':<34} {1000 / served:8.2f} ms")


def prepare(url: str, trials: int, workdir: Path) -> None:
    upgrade(url)
    engine = make_engine(url)
    ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
    report = ingest(engine, LundSkaneFeed(), write_trials_export(workdir / "export", trials))
    print(report.summary())
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_postgres_option(parser)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0, help="time limit per measurement")
    parser.add_argument("--most", type=int, default=2000, help="request limit per measurement")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(args.postgres, Path(workdir), "bench") as url,
    ):
        prepare(url, args.trials, Path(workdir))
        asyncio.run(measure(url, args.seconds, args.most))


if __name__ == "__main__":
    main()
