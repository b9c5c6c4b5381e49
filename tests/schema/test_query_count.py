"""A nested query costs the same number of SQL statements at 10 rows as at 1,000.

The read planner answers it with one statement per root field; the resolvers, with one per
relation level (their DataLoaders batch each level), so their count is bounded by the depth.
A dashboard too: the planner counts every field of a stats root in one statement, the
resolvers each field in one of its own.
"""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.manager import build_plugin_host
from benchmarks.exports import write_trials_export
from tests.conftest import GraphQLClient

NESTED = """
query Trials($first: Int!) {
  trials(first: $first) {
    totalCount
    edges { node {
      nctId
      sponsor { name }
      sites { name city institution { name } }
      products { name atmpClass indications { name } }
      conditions { name }
    } }
  }
}
"""


# Every field of trialStats, a breakdown by the sponsor's row among them.
DASHBOARD = """
{
  trialStats {
    count
    enrollment { count sum min max average }
    byPhase { totalGroups groups { phase count } }
    byStatus { totalGroups groups { status count } }
    byAtmpClass { totalGroups groups { atmpClass count } }
    byCountry(first: 5) { totalGroups groups { country count } }
    bySponsor { totalGroups groups { institution { name country } count } }
    byStartYear { totalGroups groups { year count } }
  }
}
"""


def _statements_for(
    settings: Settings, query: str, variables: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    app = create_app(settings)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for engine in (app.state.engine, app.state.reads):  # the planner's statements go to reads
        event.listen(engine.sync_engine, "before_cursor_execute", count)
    with TestClient(app) as client:
        data = GraphQLClient(client).execute(query, variables)
    return len(statements), data


@pytest.fixture(params=[10, 1000], ids=["10 trials", "1,000 trials"])
def trials(request: pytest.FixtureRequest, engine: Engine, tmp_path: Path) -> int:
    adapters = build_plugin_host(load_entry_points=False).feeds()
    ingest(engine, adapters["collaboration"], adapters["collaboration"].sample())
    count: int = request.param
    report = ingest(engine, LundSkaneFeed(), write_trials_export(tmp_path / "export", count))
    assert report.created == 2 * count  # each trial and its product
    assert report.quarantined == 0
    return count


# The planner: one statement for the one root field.  The resolvers: count and page, then one
# statement per relation level: sponsor, sites, site institutions, products, product
# indications, conditions.
@pytest.mark.parametrize(
    ("compiled", "expected"), [(True, 1), (False, 8)], ids=["planner", "resolvers"]
)
def test_statement_count_does_not_grow_with_rows(
    settings: Settings, trials: int, compiled: bool, expected: int
) -> None:
    settings = settings.model_copy(update={"compiled_reads": compiled})
    page = min(trials, 100)  # the most one page holds
    statements, data = _statements_for(settings, NESTED, {"first": page})

    assert data["trials"]["totalCount"] >= trials
    assert len(data["trials"]["edges"]) == page
    first = data["trials"]["edges"][0]["node"]
    assert first["sites"][0]["institution"] == {"name": "Skåne University Hospital"}
    assert len(first["conditions"]) == 2
    assert first["products"][0]["indications"]
    assert statements == expected


# The planner: one statement for the one root field.  The resolvers: one per field of it.
@pytest.mark.parametrize(
    ("compiled", "expected"), [(True, 1), (False, 8)], ids=["planner", "resolvers"]
)
def test_a_dashboard_is_one_statement_however_many_trials_it_counts(
    settings: Settings, trials: int, compiled: bool, expected: int
) -> None:
    settings = settings.model_copy(update={"compiled_reads": compiled})
    statements, data = _statements_for(settings, DASHBOARD, {})

    stats = data["trialStats"]
    assert stats["count"] >= trials
    assert sum(group["count"] for group in stats["byPhase"]["groups"]) == stats["count"]
    assert stats["bySponsor"]["groups"][0]["institution"]["name"]
    assert statements == expected


SEARCH = """
query Search($first: Int!) {
  search(query: "generated trial", first: $first) {
    totalCount
    counts { type count }
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      type score highlights { field fragment }
      node { id ... on ClinicalTrial { nctId sponsor { name } conditions { name } } }
    } }
  }
}
"""


# The planner: one statement, the counts and the page with their nodes.  The resolvers: the
# counts, the page, then the hits' trials, and one statement per relation level of theirs.
@pytest.mark.parametrize(
    ("compiled", "expected"), [(True, 1), (False, 5)], ids=["planner", "resolvers"]
)
def test_a_search_costs_one_statement_whatever_the_rows(
    settings: Settings, trials: int, compiled: bool, expected: int
) -> None:
    settings = settings.model_copy(update={"compiled_reads": compiled})
    page = min(trials, 100)
    statements, data = _statements_for(settings, SEARCH, {"first": page})

    found = data["search"]
    assert found["totalCount"] == trials
    assert {"type": "CLINICAL_TRIAL", "count": trials} in found["counts"]
    assert len(found["edges"]) == page
    assert found["pageInfo"]["hasNextPage"] is (trials > page)
    hit = found["edges"][0]["node"]
    assert hit["type"] == "CLINICAL_TRIAL"
    assert [h["field"] for h in hit["highlights"]] == ["title"]
    assert hit["node"]["sponsor"] == {"name": "Region Skåne"}
    assert len(hit["node"]["conditions"]) == 2
    assert statements == expected
