"""On PostgreSQL a planned page is read as JSON or as compact rows; both answer alike.

The planner reads rows (schema/planner/compiled_reads.py `fastest_shape`), and JSON where rows
cannot hold a shape.  Here every planned root of
the common reads, and of reads that stress the rows' edge cases (an empty page that still has
a total, relations to one chained and missing, a hundred nodes with cursors), is compiled in
both shapes and answered on the app's own connections: the answers must be equal, and equal
to what the app answered over HTTP.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.schema.keyset import encode_cursor
from atmp_graph.schema.planner import compiled_reads
from atmp_graph.schema.planner.plan import ConnectionRoot
from tests.api.fuzz_world import build_fuzz_world
from tests.api.test_read_paths import COMMON_READS, TRIALS_BY_ID, _keys
from tests.conftest import empty_database

EVERYTHING = """query Hundred($after: String) {
  trials(first: 100, after: $after) {
    __typename totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title phase status startDate enrollment
      sponsor { name kind partOf { name country } }
      sites(first: 20) { city country institution { name partOf { name } } }
      products { name atmpClass } conditions { name } } }
    nodes { __typename nctId }
  }
}"""

READS: dict[str, tuple[str, Any]] = {
    **COMMON_READS,
    "a hundred with cursors, chains of relations to one and lists": (EVERYTHING, None),
    "an empty page after the last, with its total": (
        EVERYTHING,
        {"after": encode_cursor([10**6], TRIALS_BY_ID)},
    ),
    "nothing matches": (
        '{ institutions(first: 60, filter: { name: { eq: "nobody" } }) { totalCount '
        "nodes { name } pageInfo { endCursor } } }",
        None,
    ),
}


@pytest.fixture(scope="module")
def app_client(
    tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None
) -> Iterator[TestClient]:
    directory: Path = tmp_path_factory.mktemp("shapes")
    with empty_database("postgresql", directory, postgres_problem) as url:
        build_fuzz_world(url, directory)
        app = create_app(Settings(database_url=url, rate_limit=False, query_timeout=300))
        with TestClient(app, headers=_keys(url)["admin"]) as client:
            yield client


def _plan_of(query: str, variables: Any) -> compiled_reads.CompiledOperation:
    """The app's plan of the request, kept by its text and variables (and role)."""
    frozen = compiled_reads.frozen_variables(variables)
    for key, operation in list(compiled_reads._PLANS._values.items()):
        if isinstance(key, tuple) and key[-4] == query and key[-1] == frozen and operation:
            return operation
    raise AssertionError(f"not planned: {query}")


@pytest.mark.parametrize("read", list(READS))
def test_json_and_compact_rows_answer_alike(app_client: TestClient, read: str) -> None:
    query, variables = READS[read]
    response = app_client.post("/graphql", json={"query": query, "variables": variables})
    assert "errors" not in response.json(), response.text
    operation = _plan_of(query, variables)
    pages = [root.plan for root in operation.roots if isinstance(root.plan, ConnectionRoot)]
    engine = app_client.app.state.reads  # type: ignore[attr-defined]
    dialect = engine.dialect

    def answered(shape: str) -> dict[str, Any]:
        roots = tuple(compiled_reads.compile_root(page, dialect, shape=shape) for page in pages)
        assert shape == "json" or all(root.statement.id_at is not None for root in roots), (
            "read as JSON: the rows shape could not hold it"
        )
        return app_client.portal.call(  # type: ignore[union-attr]
            lambda: compiled_reads.answer_roots(engine, roots, outside_transactions=True)
        )

    as_json, as_rows = answered("json"), answered("rows")

    assert as_rows == as_json
    assert as_json == {page.key: response.json()["data"][page.key] for page in pages}
