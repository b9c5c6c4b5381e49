"""Which connections a planned read waits for: a page or a node, about a millisecond of the
database's time, one of the planner's few (`ATMP_DB_READ_POOL_SIZE`); a search, an aggregate or
a totalCount, which read every match, one of the requests' pool, so that the quick reads never
queue behind them.  On SQLite, whose pools are not sized, every planned read takes the
planner's connections (a requests' one would be switched to autocommit and back for it).
Asked twice, since the second time the same request is answered without Strawberry
(api/compiled_answers.py), which must choose alike."""

from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from tests.conftest import GraphQLClient

PAGE = "{ trials(first: 5) { edges { node { title sponsor { name } sites { city } } } } }"
COUNTED = "{ trials(first: 5) { totalCount edges { node { title } } } }"
NODE = "query Node($id: ID!) { node(id: $id) { id ... on ClinicalTrial { title } } }"
SEARCH = '{ search(query: "cell", first: 5) { totalCount edges { node { type } } } }'
DASHBOARD = "{ trialStats { count byPhase { groups { phase count } } } }"
A_TRIAL = "{ trials(first: 1) { edges { node { id } } } }"


@pytest.mark.parametrize(
    ("query", "pool_on_postgres"),
    [
        (PAGE, "reads"),
        (NODE, "reads"),
        (COUNTED, "engine"),
        (SEARCH, "engine"),
        (DASHBOARD, "engine"),
    ],
    ids=["a page", "a node", "a counted page", "a search", "a dashboard"],
)
def test_quick_reads_have_connections_of_their_own(
    demo_database_url: str, query: str, pool_on_postgres: str
) -> None:
    pool = "reads" if demo_database_url.startswith("sqlite") else pool_on_postgres
    app = create_app(Settings(database_url=demo_database_url))
    ran: dict[str, list[str]] = {"engine": [], "reads": []}
    with TestClient(app) as http:
        client = GraphQLClient(http)
        trial = client.execute(A_TRIAL)["trials"]["edges"][0]["node"]["id"]
        for name, statements in ran.items():

            def record(*args: Any, into: list[str] = statements) -> None:
                into.append(args[2])

            event.listen(getattr(app.state, name).sync_engine, "before_cursor_execute", record)
        answers = [client.execute(query, {"id": trial}) for _ in range(2)]

    assert answers[0] == answers[1]
    assert all(answers[0].values()), answers[0]
    # One statement each time, on the pool the kind of read calls for; the other ran none.
    other = "engine" if pool == "reads" else "reads"
    assert (len(ran[pool]), ran[other]) == (2, [])


@pytest.mark.parametrize("demo_database_url", ["postgresql"], indirect=True)
def test_a_quick_read_that_finds_the_planners_connections_busy_takes_a_requests_one(
    demo_database_url: str,
) -> None:
    # On a machine so busy that each statement takes long, a page waits a moment for the
    # planner's connection, then runs on the requests' pool rather than fail after the whole
    # pool timeout.
    app = create_app(Settings(database_url=demo_database_url, db_read_pool_size=1))
    ran: list[str] = []
    with TestClient(app) as http:
        client = GraphQLClient(http)
        free = client.execute(PAGE)
        busy = app.state.reads.connect()
        assert http.portal is not None
        http.portal.call(busy.start)
        event.listen(
            app.state.engine.sync_engine,
            "before_cursor_execute",
            lambda *args: ran.append(args[2]),
        )
        try:
            answers = [client.execute(PAGE) for _ in range(2)]
        finally:
            http.portal.call(busy.close)

    assert answers == [free, free]
    assert len(ran) == 2, ran
