"""The README's example queries as a Python client sends them: `gql` over real HTTP (its
requests transport) to a live `atmp-graph serve --demo`, with an admin's key as the example
test uses one, validating each document against the schema the server introspects."""

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gql import Client, GraphQLRequest
from gql.client import SyncClientSession
from gql.transport.requests import RequestsHTTPTransport

from tests.conftest import api_key
from tests.live_server import serving

ROOT = Path(__file__).parents[2]
QUERIES = sorted((ROOT / "examples" / "queries").glob("*.graphql"))
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncClientSession]:
    """An admin's gql session with the quick start's server (its SQLite file in its directory),
    over the built-in feeds' demo data as the README's answers are (this environment also has
    the example partner plugin installed, which would add its own trial)."""
    directory = tmp_path_factory.mktemp("demo")
    built_in_feeds_only = {"ATMP_PLUGINS_FROM_ENTRY_POINTS": "false"}
    with serving(COMMAND, "--demo", cwd=directory, env=built_in_feeds_only) as base:
        key = api_key(f"sqlite:///{directory / 'atmp-graph.db'}")
        transport = RequestsHTTPTransport(
            url=f"{base}/graphql", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        with Client(transport=transport, fetch_schema_from_transport=True) as session:
            yield session


def test_there_are_examples() -> None:
    assert len(QUERIES) >= 3


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_gql_gets_each_example_querys_stored_answer(
    session: SyncClientSession, query: Path
) -> None:
    expected = json.loads(query.with_suffix(".json").read_text(encoding="utf-8"))

    assert session.execute(GraphQLRequest(query.read_text(encoding="utf-8"))) == expected
