"""A nested query costs the same number of SQL statements for 5 trials as for 50."""

from collections.abc import Iterator
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


def _statements_for(settings: Settings, first: int) -> tuple[int, dict[str, Any]]:
    app = create_app(settings)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    with TestClient(app) as client:
        data = GraphQLClient(client).execute(NESTED, {"first": first})
    return len(statements), data


@pytest.fixture
def fifty_trials(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    adapters = build_plugin_host(load_entry_points=False).feeds()
    ingest(engine, adapters["collaboration"], adapters["collaboration"].sample())
    report = ingest(engine, LundSkaneFeed(), write_trials_export(tmp_path / "export", 50))
    assert report.created == 100
    assert report.quarantined == 0
    return engine


@pytest.mark.usefixtures("fifty_trials")
def test_statement_count_does_not_grow_with_rows(settings: Settings) -> None:
    few, few_data = _statements_for(settings, 5)
    many, many_data = _statements_for(settings, 50)

    assert len(few_data["trials"]["edges"]) == 5
    assert len(many_data["trials"]["edges"]) == 50
    first = many_data["trials"]["edges"][0]["node"]
    assert first["sites"][0]["institution"] == {"name": "Skåne University Hospital"}
    assert len(first["conditions"]) == 2
    assert first["products"][0]["indications"]
    # count + page, then one statement per relation level: sponsor, sites, site institutions,
    # products, product indications, conditions.
    assert few == many == 8
