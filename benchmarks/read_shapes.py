"""Where the compiled read's answer is built: JSON made by the database, or compact rows
assembled in Python, measured on our real plans, side by side in one run.

The peer benchmark's two questions (benchmarks/peer_queries.py: a page of 20 trials and one
of 100, with sponsor and sites) are planned by the app, then each root is compiled in both
shapes (schema/planner/compiled_reads.py `compile_root`) and answered again and again on one
connection, alternating.  For each it prints the database backend's CPU per answer (read from
/proc, the backend runs on this machine), the Python CPU of reading and assembling it, their
sum, and the ratio rows / JSON: the shape with the smaller total is the one the planner keeps
(`fastest_shape`).  Both shapes' answers are checked to be equal first.

    python benchmarks/read_shapes.py [--postgres URL] [--trials N] [--repeat N]

The data: N generated ClinicalTrials.gov studies (default 20,000; 5 sites each), ingested
through the ctgov feed into a scratch schema of the PostgreSQL at URL (default: the local
`test` database).  SQLite is not measured: it has no array type, so compact rows would still
carry every nested list as JSON, and SQLite reads JSON.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parents[1]))

from atmp_graph.api.app import create_app
from atmp_graph.model.database import make_async_engine
from atmp_graph.schema.planner import compiled_reads
from benchmarks.app_settings import measured_settings
from benchmarks.peer_postgraphile import fill
from benchmarks.peer_queries import OUR_PAGE, SMALL, Case, our_body
from benchmarks.processes import cpu_seconds
from benchmarks.read_paths import call_app
from benchmarks.scratch import POSTGRES, scratch_database

PAGE_OF_100 = Case("hundred", trials=OUR_PAGE, connections=1, threads=1)
SHAPES = ("json", "rows")


async def planned(url: str, body: bytes) -> compiled_reads.CompiledOperation:
    """The app's plan of `body`, made by sending it once."""
    app = create_app(measured_settings(url))
    async with app.router.lifespan_context(app):
        answer = orjson.loads(await call_app(app, body))
    assert not answer.get("errors"), answer
    query = json.loads(body)["query"]
    for key, operation in list(compiled_reads._PLANS._values.items()):
        if isinstance(key, tuple) and key[-4] == query and operation is not None:
            return operation
    raise SystemExit("the question was not planned")


async def measure(url: str, case: Case, repeat: int) -> dict[str, dict[str, float]]:
    operation = await planned(url, our_body(case, []))
    engine = make_async_engine(url, reads_only=True)
    found: dict[str, dict[str, float]] = {shape: {} for shape in SHAPES}
    try:
        async with engine.connect() as connection:
            dialect = connection.dialect
            roots = {
                shape: [
                    compiled_reads.compile_root(r.plan, dialect, shape=shape)
                    for r in operation.roots
                ]
                for shape in SHAPES
            }
            driver = (await connection.get_raw_connection()).driver_connection
            backend = None
            if dialect.name == "postgresql":
                backend = (await connection.execute(text("select pg_backend_pid()"))).scalar_one()

            async def answer(shape: str) -> dict[str, Any]:
                answers = {}
                for root in roots[shape]:
                    page, total = await root.statement.page(connection, driver)
                    answers[root.key] = root.build(page, total)
                return answers

            first = {shape: orjson.dumps(await answer(shape)) for shape in SHAPES}
            assert first["json"] == first["rows"], "the two shapes answer differently"
            for _ in range(3):  # alternating rounds, so drift on the machine hits both
                for shape in SHAPES:
                    server = cpu_seconds([backend]) if backend else 0.0
                    python, wall = time.process_time(), time.perf_counter()
                    for _ in range(repeat):
                        orjson.dumps(await answer(shape))
                    python = time.process_time() - python
                    wall = time.perf_counter() - wall
                    server = (cpu_seconds([backend]) if backend else 0.0) - server
                    per = 1000 / repeat
                    for name, value in (("db", server), ("python", python), ("wall", wall)):
                        found[shape][name] = found[shape].get(name, 0.0) + value * per / 3
    finally:
        await engine.dispose()
    return found


def report(database: str, case: Case, found: dict[str, dict[str, float]]) -> None:
    print(f"\n{database}, {case.name} (ms per answer):\n")
    print("| shape | database CPU | Python CPU | total CPU | wall |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for shape in SHAPES:
        f = found[shape]
        print(
            f"| {shape} | {f['db']:.3f} | {f['python']:.3f} | "
            f"{f['db'] + f['python']:.3f} | {f['wall']:.3f} |"
        )
    json_total = found["json"]["db"] + found["json"]["python"]
    rows_total = found["rows"]["db"] + found["rows"]["python"]
    print(f"\nrows / JSON, total CPU: {rows_total / json_total:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", default=POSTGRES)
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1000, help="answers per shape and round")
    parser.add_argument("--filled", action="store_true", help="URL holds the data already")
    args = parser.parse_args()
    if args.filled:
        for case in (SMALL, PAGE_OF_100):
            report("PostgreSQL", case, asyncio.run(measure(args.postgres, case, args.repeat)))
        return
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        with scratch_database(args.postgres, workdir, "shapes") as url:
            fill(url, args.trials, workdir)
            for case in (SMALL, PAGE_OF_100):
                report("PostgreSQL", case, asyncio.run(measure(url, case, args.repeat)))


if __name__ == "__main__":
    main()
