"""Nested lists on the demo data: ordered and filtered like the top-level ones, and paged as a
connection beside each (`sitesConnection`), still one SQL statement per relation."""

from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from tests.conftest import GraphQLClient

STEM_PD = 'trial(registryId: "NCT05635409")'
LUMC = 'institutions(filter: {rorId: {eq: "05xvt9f17"}})'


def test_a_nested_list_takes_an_order_and_a_filter(gql: GraphQLClient) -> None:
    data = gql.execute(
        f"""{{ {STEM_PD} {{
              byId: sites {{ name }}
              byCountry: sites(orderBy: [{{field: COUNTRY}}]) {{ country }}
              byCountryDown: sites(orderBy: [{{field: COUNTRY, direction: DESC}}]) {{ country }}
              swedish: sites(filter: {{country: {{eq: "SE"}}}}) {{ name }}
              notSwedish: sites(filter: {{not: {{country: {{eq: "SE"}}}}}}) {{ name }}
              classified: products(filter: {{atmpClass: {{isNull: false}}}}) {{ name }}
            }} }}"""
    )["trial"]

    assert data == {
        "byId": [{"name": "Skånes universitetssjukhus"}, {"name": "Addenbrooke's Hospital"}],
        # A site the registry gave no country sorts last, or first descending.
        "byCountry": [{"country": "SE"}, {"country": None}],
        "byCountryDown": [{"country": None}, {"country": "SE"}],
        "swedish": [{"name": "Skånes universitetssjukhus"}],
        "notSwedish": [{"name": "Addenbrooke's Hospital"}],
        "classified": [{"name": "STEM-PD dopaminerga progenitorceller"}],
    }


def test_an_institutions_trials_newest_first(gql: GraphQLClient) -> None:
    data = gql.execute(
        f"""{{ {LUMC} {{ nodes {{
              sponsoredTrials(orderBy: [{{field: START_DATE, direction: DESC}}]) {{ nctId }}
              completed: sponsoredTrials(filter: {{status: {{eq: COMPLETED}}}}) {{ nctId }}
              first: sponsoredTrials(first: 1, orderBy: [{{field: START_DATE}}]) {{ nctId }}
            }} }} }}"""
    )
    (lumc,) = data["institutions"]["nodes"]

    assert lumc == {
        "sponsoredTrials": [{"nctId": "NCT04797260"}, {"nctId": "NCT01144962"}],
        "completed": [{"nctId": "NCT01144962"}],
        "first": [{"nctId": "NCT01144962"}],
    }


CONNECTION = """
query($after: String, $filter: ClinicalTrialFilter) {
  institutions(filter: {sponsoredTrials: {}}) {
    nodes {
      name
      sponsoredTrialsConnection(
        first: 1, after: $after, orderBy: [{field: START_DATE, direction: DESC}]
      ) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { nctId } }
      }
    }
  }
}"""


def _pages(gql: GraphQLClient, after: str | None = None) -> dict[str, Any]:
    query = CONNECTION.replace(", $filter: ClinicalTrialFilter", "")
    nodes = gql.execute(query, {"after": after})["institutions"]["nodes"]
    return {node["name"]: node["sponsoredTrialsConnection"] for node in nodes}


def test_a_nested_connection_pages_each_parents_list(gql: GraphQLClient) -> None:
    first = _pages(gql)
    lumc, skane = first["Leiden University Medical Center"], first["Region Skåne"]

    assert (lumc["totalCount"], skane["totalCount"]) == (2, 1)
    assert [edge["node"]["nctId"] for edge in lumc["edges"]] == ["NCT04797260"]
    assert lumc["pageInfo"]["hasNextPage"] is True
    assert skane["pageInfo"]["hasNextPage"] is False
    assert lumc["pageInfo"]["endCursor"] == lumc["edges"][0]["cursor"]

    after = _pages(gql, lumc["pageInfo"]["endCursor"])
    lumc, skane = after["Leiden University Medical Center"], after["Region Skåne"]

    assert [edge["node"]["nctId"] for edge in lumc["edges"]] == ["NCT01144962"]
    assert lumc["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": lumc["edges"][0]["cursor"],
    }
    # Region Skåne's one trial started after LUMC's (2022): it comes before the cursor, so
    # none comes after it, and there is still one in all.
    assert (skane["edges"], skane["totalCount"]) == ([], 1)


def test_a_nested_connection_counts_what_its_filter_keeps(gql: GraphQLClient) -> None:
    data = gql.execute(
        f"""{{ {LUMC} {{ nodes {{
              recruiting: sponsoredTrialsConnection(filter: {{status: {{eq: RECRUITING}}}}) {{
                totalCount nodes {{ nctId }} }}
              none: sponsoredTrialsConnection(first: 0) {{
                totalCount pageInfo {{ hasNextPage startCursor }} nodes {{ nctId }} }}
            }} }} }}"""
    )
    (lumc,) = data["institutions"]["nodes"]

    assert lumc["recruiting"] == {"totalCount": 1, "nodes": [{"nctId": "NCT04797260"}]}
    assert lumc["none"] == {
        "totalCount": 2,
        "pageInfo": {"hasNextPage": True, "startCursor": None},
        "nodes": [],
    }


def test_a_cursor_of_another_nested_list_is_refused(gql: GraphQLClient) -> None:
    cursor = _pages(gql)["Leiden University Medical Center"]["pageInfo"]["endCursor"]

    body = gql.post(
        f"""query($after: String) {{ {STEM_PD} {{
              sitesConnection(after: $after) {{ totalCount }} }} }}""",
        {"after": cursor},
    )

    assert "is not a cursor of this list's order and filter" in body["errors"][0]["message"]


@pytest.mark.parametrize("field", ["sites", "sitesConnection"])
def test_a_nested_page_beyond_its_cap_is_refused(gql: GraphQLClient, field: str) -> None:
    body = gql.post(f"{{ {STEM_PD} {{ {field}(first: 101) {{ __typename }} }} }}")

    assert [error["message"] for error in body["errors"]] == ["first: 101 is not between 0 and 100"]


def test_nested_lists_with_arguments_still_cost_one_statement_per_relation(
    app_client: TestClient,
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app_client.app.state.engine.sync_engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", count)
    try:
        body = GraphQLClient(app_client).execute(
            """{ trials(orderBy: [{field: TITLE}]) { nodes {
                  sitesConnection(first: 1, orderBy: [{field: NAME, direction: DESC}]) {
                    totalCount nodes { name institution { name } } }
                  again: sitesConnection(first: 1, orderBy: [{field: NAME, direction: DESC}]) {
                    totalCount }
                  products(filter: {atmpClass: {isNull: false}}) { name
                    indications(orderBy: [{field: NAME}]) { name } }
                  conditions(orderBy: [{field: PRODUCTS_COUNT, direction: DESC}]) { name }
            } } }"""
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(body["trials"]["nodes"]) == 3
    # Besides the key's check: count and page, then one per relation and level: sites (both
    # aliases ask the same), their institutions, products, their indications, conditions.
    ours = [s for s in statements if "api_key" not in s and "server_secret" not in s]
    assert len(ours) == 2 + 5
