"""Latency at scale: 100,000 trials, 10,000 projects and 2,000 institutions, on SQLite and
PostgreSQL, through the app (in process, no HTTP client in the way).

The rows are made in the database (one INSERT ... SELECT over a counted series per table, the
search index kept by its triggers), not through ingest, which its own benchmarks measure.
Then each of these is timed, as the median of repeated requests, each a different request
(another page, another word) so no plan is reused by a request it was made for:

- a filtered, ordered first page: phase I or II trials with a site in the Netherlands, newest
  first, with sponsor and sites;
- keyset paging: the 1st and the 50th page of 100 of all trials by title (keyset cursors cost
  the same at any depth; an offset would read every row before it);
- a search for a word in a tenth of the titles;
- an aggregate: trials by phase and by country.

    python benchmarks/at_scale.py [--postgres [URL]] [--trials N] [--repeat R]
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parents[1]))

from atmp_graph.api.app import create_app, settle_garbage_collector
from atmp_graph.enums import CollaborationArea, ProjectStatus, TrialPhase, TrialStatus
from atmp_graph.model.database import make_engine, upgrade
from benchmarks.app_settings import measured_settings
from benchmarks.read_paths import call_app
from benchmarks.scratch import add_postgres_option, scratch_database

SERIES = "WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series WHERE n < {})"
DEEPEST_PAGE = 50
WORDS = ["cell", "gene", "tissue", "stem", "vector", "graft", "islet", "retina", "cartilage", "t"]


def _pick(values: list[str], expression: str) -> str:
    """SQL that picks values[expression % len(values)], spelt the same on both databases."""
    cases = " ".join(f"WHEN {i} THEN '{value}'" for i, value in enumerate(values))
    return f"CASE ({expression}) % {len(values)} {cases} END"


def _date(postgres: bool, days: str) -> str:
    if postgres:
        return f"DATE '2000-01-01' + ({days})"
    return f"date('2000-01-01', '+' || ({days}) || ' days')"


def fill(url: str, trials: int) -> None:
    """`trials` trials (two sites each), a tenth as many projects, 2,000 institutions."""
    upgrade(url)
    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    institutions, projects = 2000, max(trials // 10, 1)
    phases = [phase.value for phase in TrialPhase]
    statuses = [status.value for status in TrialStatus]
    statements = [
        f"{SERIES.format(institutions)} INSERT INTO institution (name, kind, country) "
        f"SELECT 'Institution ' || n, 'HOSPITAL', {_pick(['SE', 'NL', 'DE'], 'n')} FROM series",
        # One title in ten holds each word; one trial in ten has no start date.
        f"{SERIES.format(trials)} INSERT INTO clinical_trial "
        "(title, phase, status, start_date, enrollment, sponsor_id) "
        f"SELECT 'Trial ' || n || ' of ' || {_pick(WORDS, 'n')} || ' therapy', "
        f"{_pick(phases, 'n')}, {_pick(statuses, 'n / 7')}, "
        f"CASE WHEN n % 10 = 0 THEN NULL ELSE {_date(postgres, 'n % 9000')} END, n % 500, "
        f"n % {institutions} + 1 FROM series",
        "INSERT INTO trial_site (trial_id, name, city, country, institution_id) "
        f"SELECT id, 'Site ' || id, 'City', {_pick(['SE', 'NL'], 'id')}, (id * 7) % "
        f"{institutions} + 1 FROM clinical_trial",
        "INSERT INTO trial_site (trial_id, name, city, country, institution_id) "
        f"SELECT id, 'Other site ' || id, 'Town', {_pick(['SE', 'DE'], 'id')}, (id * 11) % "
        f"{institutions} + 1 FROM clinical_trial",
        f"{SERIES.format(projects)} INSERT INTO project "
        "(title, area, status, start_date, lead_institution_id) "
        f"SELECT 'Project ' || n || ' on ' || {_pick(WORDS, 'n')}, "
        f"{_pick([a.value for a in CollaborationArea], 'n')}, "
        f"{_pick([s.value for s in ProjectStatus], 'n')}, {_date(postgres, 'n % 7000')}, "
        f"n % {institutions} + 1 FROM series",
        "ANALYZE",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


TRIAL_FIELDS = "id title phase status startDate sponsor { name } sites { city country }"
FILTERED = (
    "query ($first: Int!) { trials(first: $first, "
    'filter: { phase: { in: [PHASE1, PHASE2] }, sites: { country: { eq: "NL" } } }, '
    "orderBy: [{ field: START_DATE, direction: DESC }]) { totalCount nodes { "
    + TRIAL_FIELDS
    + " } } }"
)
BY_TITLE = (
    "query ($after: String) { trials(first: 100, after: $after, "
    "orderBy: [{ field: TITLE, direction: ASC }]) { pageInfo { endCursor } nodes { id title } } }"
)
SEARCH = (
    "query ($q: String!) { search(query: $q, first: 20) { totalCount "
    "hits { type score node { id } } } }"
)
STATS = (
    "query ($n: Int!) { trialStats { count byPhase(first: $n) { groups { phase count } } "
    "byCountry(first: $n) { groups { country count } } } }"
)


async def ask(app: Any, query: str, variables: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    body = orjson.dumps({"query": query, "variables": variables})
    started = time.perf_counter()
    answer = orjson.loads(await call_app(app, body))
    assert "errors" not in answer, answer
    return time.perf_counter() - started, answer["data"]


async def measure(url: str, *, trials: int, repeat: int) -> None:
    app = create_app(measured_settings(url))
    settle_garbage_collector()
    timings: dict[str, list[float]] = {}

    async def timed(label: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        spent, data = await ask(app, query, variables)
        timings.setdefault(label, []).append(spent)
        return data

    for n in range(repeat):
        await timed("filtered, ordered first page (20)", FILTERED, {"first": 20 - n % 3})
        await timed("search, one word", SEARCH, {"q": WORDS[n % (len(WORDS) - 1)]})
        await timed("aggregate: by phase, by country", STATS, {"n": 20 - n % 3})
    after, deepest = None, max(2, min(DEEPEST_PAGE, trials // 100))
    for page in range(1, deepest + 1):
        label = f"keyset page {page} of 100" if page in (1, deepest) else "page"
        data = await timed(label, BY_TITLE, {"after": after})
        after = data["trials"]["pageInfo"]["endCursor"]
        assert after is not None, f"the list ended at page {page}"
    timings.pop("page", None)
    for label, spent in timings.items():
        print(f"{label:<40} {statistics.median(spent) * 1000:8.1f} ms  ({len(spent)} requests)")
    await app.state.engine.dispose()
    await app.state.reads.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_postgres_option(parser)
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9, help="requests per measurement")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(args.postgres, Path(workdir), "scale") as url,
    ):
        started = time.perf_counter()
        fill(url, args.trials)
        print(f"{'made':<40} {args.trials} trials in {time.perf_counter() - started:.1f} s")
        asyncio.run(measure(url, trials=args.trials, repeat=args.repeat))


if __name__ == "__main__":
    main()
