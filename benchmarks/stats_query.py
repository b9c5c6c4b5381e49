"""How fast the API answers a trial dashboard (trialStats), against a hand-written baseline.

The query: the count, the enrollment and the six breakdowns of `trialStats` over generated
ClinicalTrials.gov studies (five sites each).  The baseline gives the same answer from the same
database with eight hand-written SQLAlchemy Core statements on one connection and json.dumps:
what the database work alone costs.  The app answers it on both read paths: the read planner's
one statement (the default) and the resolvers' one statement per field (ATMP_COMPILED_READS
=false).  The ratios say what each path costs against the baseline, and against each other.

    python benchmarks/stats_query.py [--postgres [URL]] [--trials N] [--seconds S]

Bounded in count and time, in-process (no network).
"""

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import Integer, and_, cast, distinct, extract, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

sys.path.insert(0, str(Path(__file__).parents[1]))

import atmp_graph.model as m
from atmp_graph.api.app import create_app
from atmp_graph.ingest import ingest
from atmp_graph.model.associations import trial_product
from atmp_graph.model.database import make_async_engine, make_engine, upgrade
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from benchmarks.app_settings import measured_settings
from benchmarks.exports import write_ctgov_pages
from benchmarks.query_throughput import rate
from benchmarks.scratch import add_postgres_option, scratch_database

QUERY = """{ trialStats {
  count
  enrollment { count sum min max average }
  byPhase { totalGroups groups { phase count } }
  byStatus { totalGroups groups { status count } }
  byAtmpClass { totalGroups groups { atmpClass count } }
  byCountry { totalGroups groups { country count } }
  bySponsor { totalGroups groups { institution { name } count } }
  byStartYear { totalGroups groups { year count } }
} }"""
GROUPS = 20


async def _groups(connection: AsyncConnection, key: Any, counted: Any, name: str) -> Any:
    """Hand-written: the largest groups of `counted` (rows of trial and key) by key."""
    rows = (
        await connection.execute(
            select(key, func.count(distinct(counted.c.id)).label("n"))
            .select_from(counted)
            .group_by(key)
            .order_by(func.count(distinct(counted.c.id)).desc(), key.asc().nulls_last())
        )
    ).all()
    groups = [{name: value, "count": n} for value, n in rows[:GROUPS]]
    return {"totalGroups": len(rows), "groups": groups}


async def raw_baseline(engine: AsyncEngine) -> bytes:
    t, s, p, i = m.ClinicalTrial, m.TrialSite, m.Product, m.Institution
    live = t.retired_at.is_(None)
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).where(live))
        e = t.enrollment
        enrollment = (
            await connection.execute(
                select(
                    func.count(e), func.coalesce(func.sum(e), 0), func.min(e), func.max(e),
                    func.avg(e),
                ).where(live)
            )
        ).one()  # fmt: skip

        def trials_with(*columns: Any, join: Any = None, on: Any = None) -> Any:
            statement = select(t.id, *columns).where(live)
            if join is not None:
                statement = statement.outerjoin(join, on)
            return statement.subquery()

        phases = trials_with(t.phase.label("key"))
        statuses = trials_with(t.status.label("key"))
        classified = (
            select(trial_product.c.clinical_trial_id.label("trial"), p.atmp_class)
            .join(p, p.id == trial_product.c.product_id)
            .where(p.atmp_class.is_not(None))
            .subquery()
        )
        classes = trials_with(
            classified.c.atmp_class.label("key"), join=classified, on=classified.c.trial == t.id
        )
        countries = trials_with(
            s.country.label("key"), join=s, on=and_(s.trial_id == t.id, s.country.is_not(None))
        )
        sponsors = trials_with(i.name.label("key"), join=i, on=i.id == t.sponsor_id)
        years = trials_with(cast(extract("year", t.start_date), Integer).label("key"))
        answer = {
            "count": count,
            "enrollment": {
                "count": enrollment[0],
                "sum": float(enrollment[1]),
                "min": enrollment[2],
                "max": enrollment[3],
                "average": None if enrollment[4] is None else round(float(enrollment[4]), 2),
            },
            "byPhase": await _groups(connection, phases.c.key, phases, "phase"),
            "byStatus": await _groups(connection, statuses.c.key, statuses, "status"),
            "byAtmpClass": await _groups(connection, classes.c.key, classes, "atmpClass"),
            "byCountry": await _groups(connection, countries.c.key, countries, "country"),
            "bySponsor": await _groups(connection, sponsors.c.key, sponsors, "institution"),
            "byStartYear": await _groups(connection, years.c.key, years, "year"),
        }
    for breakdown in ("byPhase", "byStatus", "byAtmpClass"):
        for group in answer[breakdown]["groups"]:
            key = next(iter(group))
            group[key] = None if group[key] is None else group[key].value
    for group in answer["bySponsor"]["groups"]:
        group["institution"] = (
            None if group["institution"] is None else {"name": group["institution"]}
        )
    return json.dumps({"data": {"trialStats": answer}}).encode()


async def measure(url: str, seconds: float, most: int) -> None:
    engine = make_async_engine(url)
    expected = json.loads(await raw_baseline(engine))["data"]
    baseline = await rate(
        "hand-written SQL + json.dumps", lambda: raw_baseline(engine), seconds, most
    )
    await engine.dispose()
    served = {}
    for path, compiled in (("planner", True), ("resolvers", False)):
        # A load test: no rate limit.
        app = create_app(measured_settings(url, compiled_reads=compiled))
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def graphql() -> None:
                response = await client.post("/graphql", json={"query": QUERY})
                assert "errors" not in response.json()

            answer = (await client.post("/graphql", json={"query": QUERY})).json()
            assert answer["data"] == expected, f"the {path}'s answer differs"
            read_path = answer["extensions"].get("readPath", {}).get("compiled", [])
            assert read_path == (["trialStats"] if compiled else []), read_path
            served[path] = await rate(f"GraphQL, the {path}", graphql, seconds, most)
        await app.state.engine.dispose()
        if app.state.reads is not None:
            await app.state.reads.dispose()
    print(f"{'ratio GraphQL / baseline':<34} {served['planner'] / baseline:8.2f}")
    print(f"{'ratio resolvers / baseline':<34} {served['resolvers'] / baseline:8.2f}")
    print(f"{'ratio planner / resolvers':<34} {served['planner'] / served['resolvers']:8.2f}")
    for path, per_second in served.items():
        print(f"{'GraphQL per dashboard, ' + path:<34} {1000 / per_second:8.2f} ms")


def prepare(url: str, trials: int, workdir: Path) -> None:
    upgrade(url)
    engine = make_engine(url)
    ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
    report = ingest(engine, CtGovFeed(), write_ctgov_pages(workdir / "pages", trials))
    print(report.summary())
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_postgres_option(parser)
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=5.0, help="time limit per measurement")
    parser.add_argument("--most", type=int, default=500, help="request limit per measurement")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(args.postgres, Path(workdir), "bench") as url,
    ):
        prepare(url, args.trials, Path(workdir))
        asyncio.run(measure(url, args.seconds, args.most))


if __name__ == "__main__":
    main()
