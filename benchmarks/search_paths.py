"""A search page on the two read paths: the planner's one statement against the resolvers.

Ingests N generated trials (each with a product, two sites and two conditions), then asks the
app (as an ASGI app, no HTTP client in the way, the request already planned) for a page of 20
hits with their counts, highlights and nodes (each trial's sponsor and conditions), with the
planner and without it, side by side in the same run: the same search again (its plan kept)
for a word in every title and for one trial's registry id, and a new search each time (a new
plan each time, as people search).

    python benchmarks/search_paths.py [--postgres [URL]] [--trials N] [--seconds S]
"""

import argparse
import asyncio
import itertools
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).parents[1]))

from atmp_graph.api.app import create_app, settle_garbage_collector
from benchmarks.app_settings import measured_settings
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


def body_of(query: str) -> bytes:
    return orjson.dumps({"query": QUERY, "variables": {"query": query}})


async def side_by_side(
    url: str, searches: dict[str, Callable[[], str]], seconds: float, most: int
) -> None:
    planned = create_app(measured_settings(url))
    resolved = create_app(measured_settings(url, compiled_reads=False))
    settle_garbage_collector()
    for label, words in searches.items():
        query = words()
        answer: Any = orjson.loads(await call_app(planned, body_of(query)))
        assert answer["extensions"]["readPath"] == {"compiled": ["search"], "resolvers": []}
        assert orjson.loads(await call_app(resolved, body_of(query)))["data"] == answer["data"]

        async def search(app: Any, words: Callable[[], str] = words) -> bytes:
            return await call_app(app, body_of(words()))

        planner_time, planner_cpu = await timed(partial(search, planned), seconds, most)
        resolver_time, resolver_cpu = await timed(partial(search, resolved), seconds, most)
        hits = answer["data"]["search"]["totalCount"]
        print(f"{label} ({query!r}: {hits:,} hits, a page of 20)")
        for path, (wall, cpu) in {
            "the app, planner": (planner_time, planner_cpu),
            "the app, resolvers": (resolver_time, resolver_cpu),
        }.items():
            print(f"  {path:<24} {wall * 1000:7.3f} ms  CPU {cpu * 1000:6.3f} ms")
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
        numbers = itertools.count()
        searches: dict[str, Callable[[], str]] = {
            "the same search again, a word in every title": lambda: "generated trial",
            "the same search again, one trial's id": lambda: f"NCT{90000000 + args.trials // 2}",
            # As people search: each one a new plan (a plan is kept by its variables).
            "a new search each time, one title's words": lambda: f"trial {next(numbers)}",
        }
        asyncio.run(side_by_side(url, searches, args.seconds, args.most))


if __name__ == "__main__":
    main()
