"""A search page on the two read paths: the planner's one statement against the resolvers.

Ingests N generated trials (each with a product, two sites and two conditions), then asks the
app (as an ASGI app, no HTTP client in the way, the request already planned) for a page of 20
hits with their counts, highlights and nodes (each trial's sponsor and conditions), with the
planner and without it, side by side in the same run: for a word in every title, and for one
trial's registry id.

    python benchmarks/search_paths.py [--postgres [URL]] [--trials N] [--seconds S]
"""

import argparse
import asyncio
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).parents[1]))

from atmp_graph.api.app import create_app, settle_garbage_collector
from atmp_graph.api.settings import Settings
from benchmarks.query_throughput import prepare
from benchmarks.read_paths import call_app, timed
from benchmarks.scratch import add_postgres_option, scratch_database

QUERY = """query ($query: String!) {
  search(query: $query, first: 20) {
    totalCount
    counts { type count }
    pageInfo { hasNextPage endCursor }
    edges { cursor node { type score highlights { field fragment }
      node { id ... on ClinicalTrial { nctId title sponsor { name } conditions { name } }
        ... on Product { name } ... on Condition { name } } } }
  }
}"""


async def side_by_side(url: str, words: list[str], seconds: float, most: int) -> None:
    planned = create_app(Settings(database_url=url, rate_limit=False))
    resolved = create_app(Settings(database_url=url, rate_limit=False, compiled_reads=False))
    settle_garbage_collector()
    for query in words:
        body = orjson.dumps({"query": QUERY, "variables": {"query": query}})
        answer: Any = orjson.loads(await call_app(planned, body))
        assert answer["extensions"]["readPath"] == {"compiled": ["search"], "resolvers": []}
        assert orjson.loads(await call_app(resolved, body))["data"] == answer["data"]
        planner_time, planner_cpu = await timed(partial(call_app, planned, body), seconds, most)
        resolver_time, resolver_cpu = await timed(partial(call_app, resolved, body), seconds, most)
        hits = answer["data"]["search"]["totalCount"]
        print(f"{query!r} ({hits:,} hits, a page of 20)")
        for label, (wall, cpu) in {
            "the app, planner": (planner_time, planner_cpu),
            "the app, resolvers": (resolver_time, resolver_cpu),
        }.items():
            print(f"  {label:<24} {wall * 1000:7.3f} ms  CPU {cpu * 1000:6.3f} ms")
        print(f"  {'resolvers / planner':<24} {resolver_time / planner_time:7.2f}")
    for app in (planned, resolved):
        await app.state.engine.dispose()
        await app.state.reads.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_postgres_option(parser)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0, help="time limit per measurement")
    parser.add_argument("--most", type=int, default=2000, help="request limit per measurement")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(args.postgres, Path(workdir), "bench") as url,
    ):
        prepare(url, args.trials, Path(workdir))
        words = ["generated trial", f"NCT{90000000 + args.trials // 2}"]
        asyncio.run(side_by_side(url, words, args.seconds, args.most))


if __name__ == "__main__":
    main()
