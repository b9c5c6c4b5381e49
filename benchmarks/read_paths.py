"""The read paths in process: the planner against the raw SQL it sends, and the resolvers'
executor against graphql-core with plain dict resolvers.

Three ratios, each measured side by side in the same run (the sides take turns, 5 rounds; each
ratio is the median of its rounds'):

1. Two reads answered by the app (called as an ASGI app, no HTTP client in the way, the
   request already planned) against the planner's own statement sent straight to the driver
   and its rows written out as JSON: what the planner adds to the database's work (target: at
   most 1.3× its time). The reads: the peer benchmark's small question (20 trials with
   sponsor and sites, no total: a quick read, on the planner's own connections) and a page of
   20 with its totalCount (on the requests' connections, which are pinged before each use).
   The server's Python CPU per request is printed too (target: at most 0.3 ms); it includes
   the request's JSON log line (written to /dev/null) and its metrics, as in production.
2. The counted page with the planner off: the resolvers' path, for comparison.
3. A list of 1,000 nodes × 10 fields through Strawberry (the executor the resolvers' path runs
   on, with this schema's config) against graphql-core with plain dict resolvers (target: at
   least 0.9× its speed).

    python benchmarks/read_paths.py [--postgres [URL]] [--trials N] [--seconds S]
"""

import argparse
import asyncio
import contextlib
import functools
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import median
from typing import Any

import graphql
import orjson
import strawberry

sys.path.insert(0, str(Path(__file__).parents[1]))

from atmp_graph.api.app import create_app, settle_garbage_collector
from atmp_graph.api.settings import Settings
from atmp_graph.schema.basic_fields import read_basic_fields_directly
from atmp_graph.schema.planner import compiled_reads
from atmp_graph.schema.schema import CONFIG
from benchmarks.peer_queries import SMALL, our_body
from benchmarks.query_throughput import PAGE, QUERY, prepare
from benchmarks.scratch import add_postgres_option, scratch_database

BODY = orjson.dumps({"query": QUERY, "variables": {"first": PAGE}})
# The peer benchmark's small question (no total: a quick read, on the planner's own
# connections), and a page of 20 with its total (counted on the requests' connections).
QUESTIONS = {"small": our_body(SMALL, []), "counted page": BODY}


async def call_app(app: Any, body: bytes = BODY) -> bytes:
    """One POST /graphql of `body` straight into the ASGI app; the response body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"bench")],
        "client": ("127.0.0.1", 9999),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


async def timed(
    call: Callable[[], Awaitable[Any]], seconds: float, most: int
) -> tuple[float, float]:
    """(seconds per call, CPU seconds per call) over at most `most` calls or `seconds`."""
    for _ in range(20):
        await call()
    count, started, cpu = 0, time.perf_counter(), time.process_time()
    while count < most and time.perf_counter() - started < seconds:
        await call()
        count += 1
    return (time.perf_counter() - started) / count, (time.process_time() - cpu) / count


# The measurements alternate, round after round, and each ratio is the median of its rounds':
# this VM's speed drifts by a fifth within a minute, so one long measurement of each side
# compared two different machines.
ROUNDS = 5


async def alternating(
    calls: dict[str, tuple[Callable[[], Awaitable[Any]], int]], seconds: float
) -> dict[str, list[tuple[float, float]]]:
    """Each call's (seconds, CPU seconds) per call in each of ROUNDS rounds, the calls taking
    turns; a call is given its own most calls per round."""
    measured: dict[str, list[tuple[float, float]]] = {label: [] for label in calls}
    for _ in range(ROUNDS):
        for label, (call, most) in calls.items():
            measured[label].append(await timed(call, seconds, most))
    return measured


async def planner_against_raw(url: str, seconds: float, most: int, log_format: str) -> None:
    logged: dict[str, Any] = {"log_format": log_format}
    planned = create_app(Settings(database_url=url, rate_limit=False, **logged))
    resolved = create_app(
        Settings(database_url=url, rate_limit=False, compiled_reads=False, **logged)
    )
    await measure(planned, resolved, seconds, most)


def _plans() -> list[Any]:
    return [plan for plan in compiled_reads._PLANS._values.values() if plan is not None]


async def planned_statement(planned: Any, resolved: Any, body: bytes) -> Any:
    """The planner's own statement for `body`, as it sends it; both paths' answers checked."""
    before = _plans()
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        answer = orjson.loads(await call_app(planned, body))
        assert answer["extensions"]["readPath"]["resolvers"] == [], answer["extensions"]
        assert orjson.loads(await call_app(resolved, body))["data"] == answer["data"]
    (operation,) = (plan for plan in _plans() if all(plan is not old for old in before))
    (root,) = operation.roots
    return root.statement


def raw_reader(reads: Any, statement: Any) -> Callable[[], Awaitable[bytes]]:
    """The statement sent straight to the driver, as the planner sends it (its own
    `DriverStatement.page`), and what it read written out as JSON, unassembled."""

    async def raw() -> bytes:
        async with reads.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            page, total = await statement.page(connection, driver)
        return orjson.dumps({"page": page, "total": total})

    return raw


async def measure(planned: Any, resolved: Any, seconds: float, most: int) -> None:
    calls: dict[str, tuple[Callable[[], Awaitable[Any]], int]] = {}
    for question, body in QUESTIONS.items():
        raw = raw_reader(planned.state.reads, await planned_statement(planned, resolved, body))
        calls[f"{question}: raw SQL"] = (raw, most)
        calls[f"{question}: the app"] = (functools.partial(call_app, planned, body), most)
    calls["counted page: resolvers"] = (lambda: call_app(resolved, BODY), most // 10)
    settle_garbage_collector()
    # The apps' request lines are written, to /dev/null.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        rounds = await alternating(calls, seconds)
    for label, measured in rounds.items():
        wall, cpu = (median(values) for values in zip(*measured, strict=True))
        print(f"{label:<36} {wall * 1000:7.3f} ms  CPU {cpu * 1000:6.3f} ms")
    for question in QUESTIONS:
        raw_rounds, app_rounds = rounds[f"{question}: raw SQL"], rounds[f"{question}: the app"]
        pairs = list(zip(app_rounds, raw_rounds, strict=True))
        app_to_raw = median(app[0] / raw[0] for app, raw in pairs)
        beyond = median(app[1] - raw[1] for app, raw in pairs)
        print(f"{question}:")
        print(f"{'  planner time / raw SQL time':<36} {app_to_raw:7.2f}  (target at most 1.3)")
        print(
            f"{'  server Python CPU per request':<36} {beyond * 1000:7.3f} ms beyond the "
            "raw statement's own (target at most 0.3)"
        )
    resolver_pairs = zip(
        rounds["counted page: resolvers"], rounds["counted page: the app"], strict=True
    )
    resolvers_to_app = median(r[0] / a[0] for r, a in resolver_pairs)
    print(f"{'resolvers time / planner time':<36} {resolvers_to_app:7.2f}  (counted page)")
    for app in (planned, resolved):
        await app.state.engine.dispose()
        await app.state.reads.dispose()


FIELDS = [f"f{i}" for i in range(10)]
ROWS = [{name: f"{name}-{n}" for name in FIELDS} for n in range(1000)]
LIST_QUERY = "{ items { " + " ".join(FIELDS) + " } }"


@strawberry.type
class Item:
    f0: str
    f1: str
    f2: str
    f3: str
    f4: str
    f5: str
    f6: str
    f7: str
    f8: str
    f9: str


# Both executors are handed nodes already made (graphql-core the dicts, Strawberry its objects):
# building a thousand objects per list on one side only had weighed that side's allocations
# and their garbage collections, not its executor.
ITEMS = [Item(**row) for row in ROWS]


@strawberry.type
class ListQuery:
    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS


def executor_against_graphql_core(seconds: float) -> None:
    strawberry_schema = strawberry.Schema(query=ListQuery, config=CONFIG)
    read_basic_fields_directly(strawberry_schema._schema)  # as our schema does
    item = graphql.GraphQLObjectType(
        "Item",
        {
            name: graphql.GraphQLField(graphql.GraphQLNonNull(graphql.GraphQLString))
            for name in FIELDS
        },
    )
    core_schema = graphql.GraphQLSchema(
        graphql.GraphQLObjectType(
            "Query",
            {"items": graphql.GraphQLField(graphql.GraphQLList(item), resolve=lambda *_: ROWS)},
        )
    )
    document = graphql.parse(LIST_QUERY)

    def dict_field(source: Any, info: Any, **_: Any) -> Any:
        return source[info.field_name]

    def core() -> Any:
        return graphql.execute_sync(core_schema, document, field_resolver=dict_field)

    def ours() -> Any:
        return strawberry_schema.execute_sync(LIST_QUERY)

    assert core().data == ours().data

    def rate(call: Callable[[], Any]) -> float:
        for _ in range(3):
            call()
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            call()
            count += 1
        return count / (time.perf_counter() - started)

    rates = [(rate(core), rate(ours)) for _ in range(ROUNDS)]
    core_rate, our_rate = (median(side) for side in zip(*rates, strict=True))
    ratio = median(ours_ / core_ for core_, ours_ in rates)
    print(f"{'graphql-core, dict resolvers':<36} {core_rate:7.1f} lists/s (1,000 x 10 fields)")
    print(f"{'Strawberry, as the resolvers run':<36} {our_rate:7.1f} lists/s")
    print(f"{'Strawberry / graphql-core':<36} {ratio:7.2f}  (target at least 0.9)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_postgres_option(parser)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="time limit per measurement and round"
    )
    parser.add_argument(
        "--most", type=int, default=2000, help="request limit per measurement and round"
    )
    parser.add_argument(
        "--log-format", choices=["json", "console"], default="json", help="the request log's"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(args.postgres, Path(workdir), "bench") as url,
    ):
        prepare(url, args.trials, Path(workdir))
        asyncio.run(planner_against_raw(url, args.seconds, args.most, args.log_format))
    executor_against_graphql_core(args.seconds)


if __name__ == "__main__":
    main()
