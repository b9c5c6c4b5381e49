"""On 100,000 trials, PostgreSQL answers the lists' filtered and ordered pages from the indexes
of migration 0013, not by reading the whole trial table.

The trials are made in the database (INSERT ... SELECT generate_series), not through ingest;
the statements explained are the ones the API sends for a GraphQL query, captured as it runs:
the read planner's (schema/planner/) and the resolvers' (schema/pagination.py).
"""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import TrialPhase, TrialStatus
from tests.conftest import GraphQLClient, migrated_database

TRIALS = 100_000
PHASES = [phase.value for phase in TrialPhase]
STATUSES = [status.value for status in TrialStatus]
MAKE = [
    "INSERT INTO institution (name, kind, country) SELECT 'Sponsor ' || n, 'HOSPITAL', "
    "CASE WHEN n % 2 = 0 THEN 'SE' ELSE 'NL' END FROM generate_series(1, 200) AS n",
    # Phases, statuses and start dates spread evenly; one trial in ten has no start date.
    "INSERT INTO clinical_trial (title, phase, status, start_date, enrollment, sponsor_id) "
    "SELECT 'Trial ' || md5(n::text), (CAST(:phases AS text[]))[n % 8 + 1], "
    "(CAST(:statuses AS text[]))[n % 9 + 1], "
    "CASE WHEN n % 10 = 0 THEN NULL ELSE DATE '2000-01-01' + n % 9000 END, n % 500, "
    f"n % 200 + 1 FROM generate_series(1, {TRIALS}) AS n",
    # Two sites a trial, in Sweden or the Netherlands; one trial in a thousand in Iceland.
    "INSERT INTO trial_site (trial_id, name, country) "
    "SELECT id, 'Site ' || id, CASE WHEN id % 2 = 0 THEN 'SE' ELSE 'NL' END FROM clinical_trial",
    "INSERT INTO trial_site (trial_id, name, country) SELECT id, 'Other site ' || id, "
    "CASE WHEN id % 1000 = 0 THEN 'IS' ELSE 'SE' END FROM clinical_trial",
    "ANALYZE",
]
INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


@pytest.fixture(scope="module")
def many_trials(
    tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None
) -> Iterator[tuple[str, Engine]]:
    directory = tmp_path_factory.mktemp("many")
    with migrated_database("postgresql", directory, postgres_problem) as (url, engine):
        with engine.begin() as connection:
            for statement in MAKE:
                connection.execute(text(statement), {"phases": PHASES, "statuses": STATUSES})
        yield url, engine


def _page_statement(url: str, query: str, *, planner: bool) -> tuple[str, Any]:
    """The statement (and its parameters) the API sends for the page of `query`: the read
    planner's one statement, or the resolvers' page query."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append((statement, parameters))

    settings = Settings(database_url=url, compiled_reads=planner)
    with TestClient(create_app(settings)) as http:
        state: Any = http.app.state  # type: ignore[attr-defined]
        engine = state.reads if planner else state.engine
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        data = GraphQLClient(http).execute(query)
    assert data["trials"]["nodes"]
    (page,) = [(statement, parameters) for statement, parameters in sent if "LIMIT" in statement]
    return page


def _plan_nodes(engine: Engine, statement: str, parameters: Any) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        (plan,) = connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) {statement}", parameters
        ).scalar_one()
    nodes, todo = [], [plan["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo += node.get("Plans", [])
    return nodes


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (
            "{ trials(first: 20, filter: {phase: {eq: PHASE2}},"
            " orderBy: [{field: START_DATE, direction: DESC}]) { nodes { title } } }",
            "ix_clinical_trial_phase_start_date",
        ),
        (
            "{ trials(first: 20, orderBy: [{field: TITLE}]) { nodes { title } } }",
            "ix_clinical_trial_title",
        ),
        (
            '{ trials(first: 20, filter: {sites: {country: {eq: "IS"}}}) { nodes { title } } }',
            "ix_trial_site_country",
        ),
    ],
    ids=["phase, newest first", "by title", "by site country"],
)
@pytest.mark.parametrize("planner", [True, False], ids=["planner", "resolvers"])
def test_a_first_page_is_read_from_an_index(
    many_trials: tuple[str, Engine], query: str, index: str, planner: bool
) -> None:
    url, engine = many_trials
    statement, parameters = _page_statement(url, query, planner=planner)

    nodes = _plan_nodes(engine, statement, parameters)

    scans = {(node["Node Type"], node.get("Index Name")) for node in nodes}
    assert any(kind in INDEX_SCANS and name == index for kind, name in scans), scans
    assert not [
        node
        for node in nodes
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "clinical_trial"
    ], scans
