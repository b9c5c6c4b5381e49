"""How fast the API refuses hostile queries, against a small valid query measured in the same run.

Each hostile query goes through the whole app (HTTP over the ASGI transport, the demo data
behind it) with the default limits; it must be refused, name the limit it broke and run no
SQL.  Before the limits, the 16-level nest ran for over a minute in 851 MB and the 5,000
aliases for 30 s.

    python benchmarks/hostile_queries.py [--postgres [URL]] [--repeat N]

The target: each refusal in under 50 ms.
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1]))

from atmp_graph.api.app import create_app
from atmp_graph.api.demo import load_demo
from atmp_graph.api.settings import Settings
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.manager import build_plugin_host
from benchmarks.scratch import add_postgres_option, scratch_database

TARGET_MS = 50.0
BASELINE = '{ trial(registryId: "NCT05635409") { acronym nctId sponsor { name } } }'


def nested(levels: int) -> str:
    """A trial's sponsor's trials' sponsor's trials ..., `levels` times over."""
    inner = "nctId"
    for _ in range(levels):
        inner = f"sponsor {{ sponsoredTrials {{ {inner} }} }}"
    return f"{{ trials(first: 100) {{ nodes {{ {inner} }} }} }}"


def cycle(levels: int) -> str:
    """An institution's parent's parent's ..., `levels` deep."""
    inner = "name"
    for _ in range(levels):
        inner = f"partOf {{ {inner} }}"
    return f"{{ institutions {{ nodes {{ {inner} }} }} }}"


def aliases(count: int) -> str:
    return "{" + " ".join(f"a{i}:trials(first:100){{totalCount}}" for i in range(count)) + "}"


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the one before twice: 2**levels fields from a page of text."""
    fragments = ["fragment F0 on Institution { name }"] + [
        f"fragment F{i} on Institution {{ ...F{i - 1} n{i}: name ...F{i - 1} }}"
        for i in range(1, levels)
    ]
    return f"{{ institutions {{ nodes {{ ...F{levels - 1} }} }} }} " + " ".join(fragments)


# name -> (query, the setting that refuses it under the default limits)
HOSTILE: dict[str, tuple[str, str]] = {
    "nested 16 levels": (nested(16), "ATMP_MAX_QUERY_DEPTH"),
    "5,000 aliases": (aliases(5_000), "ATMP_MAX_QUERY_BYTES"),
    "100 aliases": (aliases(100), "ATMP_MAX_QUERY_ALIASES"),
    "cycle 40 levels": (cycle(40), "ATMP_MAX_QUERY_DEPTH"),
    "huge document": ("{ trials { totalCount } }" + " " * 200_000, "ATMP_MAX_QUERY_BYTES"),
    "many tokens": (
        "{ trials { nodes { " + "nctId " * 2_500 + "} } }",
        "ATMP_MAX_QUERY_TOKENS",
    ),
    "costly pages": (
        "{ trials(first: 100) { nodes { sites(first: 100) { institution {"
        " sponsoredTrials(first: 100) { nctId } } } } } }",
        "ATMP_MAX_QUERY_COST",
    ),
    # 2^24 fields from 1.2 KB: refused by the repeated-field guard before validation.
    "fragment bomb": (fragment_bomb(24), "times in one selection"),
    # Under every other limit, and 3.7 s of graphql-core's overlapping-fields validation.
    "one field 490 times": (
        "{ trials { nodes { " + "sponsor { name } " * 490 + "} } }",
        "times in one selection",
    ),
}


def timed(client: TestClient, query: str, statements: list[str]) -> tuple[float, dict[str, Any]]:
    statements.clear()
    start = time.perf_counter()
    response = client.post("/graphql", json={"query": query})
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, dict(response.json())


def run(url: str, repeat: int) -> bool:
    app = create_app(Settings(database_url=url, plugins_from_entry_points=False))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    ok = True
    with TestClient(app) as client:
        timed(client, BASELINE, statements)  # warm: the connection pool, the caches
        baseline = statistics.median(timed(client, BASELINE, statements)[0] for _ in range(repeat))
        print(f"{'baseline (a small valid query)':32} {baseline:8.2f} ms")
        slowest = 0.0
        for name, (query, setting) in HOSTILE.items():
            times, verdict = [], "ok"
            for _ in range(repeat):
                elapsed, body = timed(client, query, statements)
                times.append(elapsed)
                messages = " ".join(error["message"] for error in body.get("errors", []))
                if body.get("data") is not None or setting not in messages:
                    verdict = f"NOT REFUSED by {setting}: {messages[:200] or body}"
                elif statements:
                    verdict = f"REFUSED ONLY AFTER {len(statements)} SQL statements"
            ok = ok and verdict == "ok"
            refusal = statistics.median(times)
            slowest = max(slowest, refusal)
            # Timing is reported, not enforced: a loaded machine is slow, not wrong.
            target = "under" if refusal < TARGET_MS else "OVER"
            print(f"{name:32} {refusal:8.2f} ms  {target} {TARGET_MS:g} ms  {setting:24} {verdict}")
        print(f"ratio refusal / baseline (slowest) {slowest / baseline:.2f}")
    print(f"all refused before any SQL: {'ok' if ok else 'NO'}")
    return ok


def main() -> None:
    # Strawberry logs every refusal with its document; the table below says what matters.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_postgres_option(parser)
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (the median)")
    arguments = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(arguments.postgres, Path(workdir), "demo") as url,
    ):
        upgrade(url)
        engine = make_engine(url)
        list(load_demo(engine, build_plugin_host(load_entry_points=False)))
        engine.dispose()
        ok = run(url, arguments.repeat)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
