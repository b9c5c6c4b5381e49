"""Every example query runs and gives the answer stored beside it; the README shows them all."""

import json
from pathlib import Path

import pytest

from tests.conftest import GraphQLClient

ROOT = Path(__file__).parents[1]
QUERIES = sorted((ROOT / "examples" / "queries").glob("*.graphql"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_there_are_examples() -> None:
    assert len(QUERIES) >= 3


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_example_query_gives_its_stored_answer(gql: GraphQLClient, query: Path) -> None:
    expected = json.loads(query.with_suffix(".json").read_text(encoding="utf-8"))

    assert gql.execute(query.read_text(encoding="utf-8")) == expected


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_readme_shows_each_example_with_its_answer(query: Path) -> None:
    assert query.read_text(encoding="utf-8").strip() in README
    assert query.with_suffix(".json").read_text(encoding="utf-8").strip() in README
