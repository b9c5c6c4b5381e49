"""A stranger's hostile query is refused before any SQL runs, with the limit it broke named;
the demo's queries run within the limits and say what they cost; nothing runs unbounded."""

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import get_introspection_query, get_named_type, is_input_object_type
from sqlalchemy import event
from starlette.testclient import TestClient
from strawberry.extensions.validation_cache import _get_validate_cache

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import PRODUCTION, Settings
from atmp_graph.schema.cost import PAGE_ITEMS, PAGE_SIZE, PageSize
from atmp_graph.schema.nested import NESTED_PAGE
from atmp_graph.schema.schema import schema
from benchmarks.hostile_queries import HOSTILE, aliases
from tests.conftest import GraphQLClient

# A page of 5 trials, each with its sites: 1 + 5 x (nodes 1 + (nctId 1 + sites (1 + 20 x 1))).
SITES_OF_FIVE_TRIALS = "{ trials(first: 5) { nodes { nctId sites { name } } } }"
SITES_OF_FIVE_TRIALS_COST = 116


class Recorder:
    """An app over the demo data that records every SQL statement it sends."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.statements: list[str] = []
        engine = client.app.state.engine.sync_engine  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.statements.clear()
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        return dict(response.json())


def messages(body: dict[str, Any]) -> str:
    return " ".join(error["message"] for error in body.get("errors", []))


@pytest.fixture
def api(demo_database_url: str) -> Iterator[Recorder]:
    """The app over the demo data, with the default (development) limits, as a stranger (an
    attacker needs no key; a key would add its own lookup to the statements)."""
    with TestClient(create_app(Settings(database_url=demo_database_url))) as client:
        yield Recorder(client)


@pytest.mark.parametrize(("query", "setting"), HOSTILE.values(), ids=list(HOSTILE))
def test_a_hostile_query_is_refused_before_any_sql_runs(
    api: Recorder, query: str, setting: str
) -> None:
    body = api.post(query)

    assert body.get("data") is None
    assert setting in messages(body), body
    assert api.statements == []


def test_five_thousand_aliases_are_refused_by_the_alias_limit_when_size_allows_them(
    demo_database_url: str,
) -> None:
    settings = Settings(
        database_url=demo_database_url, max_query_bytes=1_000_000, max_query_tokens=100_000
    )
    with TestClient(create_app(settings)) as client:
        api = Recorder(client)
        body = api.post(aliases(5_000))

    assert "The query uses 5000 aliases; the limit is 30 (ATMP_MAX_QUERY_ALIASES)." in messages(
        body
    )
    assert api.statements == []


def test_a_demo_query_runs_and_reports_its_cost(api: Recorder) -> None:
    body = api.post(SITES_OF_FIVE_TRIALS)

    assert "errors" not in body
    assert [trial["nctId"] for trial in body["data"]["trials"]["nodes"]] == [
        "NCT05635409",
        "NCT04797260",
        "NCT01144962",
    ]
    assert body["extensions"]["cost"] == {"requested": SITES_OF_FIVE_TRIALS_COST, "limit": 100_000}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query ($n: Int!) { trials(first: $n) { nodes { nctId sites { name } } } }", {"n": 5}),
        ("query ($n: Int = 5) { trials(first: $n) { nodes { nctId sites { name } } } }", {}),
        (
            "{ trials(first: 5) { ...Sites } } fragment Sites on ClinicalTrialConnection"
            " { nodes { nctId sites { name } } }",
            {},
        ),
    ],
    ids=["variable", "variable default", "fragment"],
)
def test_the_cost_counts_pages_given_by_variables_and_inside_fragments(
    api: Recorder, query: str, variables: dict[str, Any]
) -> None:
    body = api.post(query, variables)

    assert "errors" not in body, body
    assert body["extensions"]["cost"]["requested"] == SITES_OF_FIVE_TRIALS_COST


def test_a_nested_connection_costs_its_page(api: Recorder) -> None:
    # 1 + 5 x (nodes 1 + sitesConnection (1 + 20 x (nodes 1 + name 1))): its page counted once,
    # at the connection, as a top-level list's is.
    body = api.post(
        "{ trials(first: 5) { nodes { sitesConnection(orderBy: [{field: NAME}]) "
        "{ nodes { name } } } } }"
    )

    assert "errors" not in body, body
    assert body["extensions"]["cost"]["requested"] == 211


def test_nested_connections_of_big_pages_are_refused_before_any_sql_runs(api: Recorder) -> None:
    body = api.post(
        "{ institutions(first: 100) { nodes { sponsoredTrialsConnection(first: 100) { nodes {"
        " sitesConnection(first: 100) { edges { node { name } } } } } } } }"
    )

    assert body.get("data") is None
    assert "(ATMP_MAX_QUERY_COST)" in messages(body)
    assert api.statements == []


@pytest.mark.parametrize(
    ("limit", "refused"),
    [(SITES_OF_FIVE_TRIALS_COST, False), (SITES_OF_FIVE_TRIALS_COST - 1, True)],
    ids=["at the limit", "one over"],
)
def test_the_cost_limit_is_the_setting(demo_database_url: str, limit: int, refused: bool) -> None:
    settings = Settings(database_url=demo_database_url, max_query_cost=limit)
    with TestClient(create_app(settings)) as client:
        body = Recorder(client).post(SITES_OF_FIVE_TRIALS)

    assert body["extensions"]["cost"] == {"requested": SITES_OF_FIVE_TRIALS_COST, "limit": limit}
    if refused:
        assert body.get("data") is None
        assert f"The query costs {SITES_OF_FIVE_TRIALS_COST}" in messages(body)
        assert f"the limit is {limit} (ATMP_MAX_QUERY_COST)" in messages(body)
    else:
        assert "errors" not in body


def test_a_nested_list_returns_its_first_nodes_in_id_order(gql: GraphQLClient) -> None:
    query = """{ trials { nodes { nctId all: products { name } one: products(first: 1) { name }
                 none: products(first: 0) { name } } } }"""

    trials = gql.execute(query)["trials"]["nodes"]

    with_two = [trial for trial in trials if len(trial["all"]) == 2]
    assert with_two
    for trial in trials:
        assert trial["one"] == trial["all"][:1]
        assert trial["none"] == []


@pytest.mark.parametrize("first", [-1, NESTED_PAGE.most + 1])
def test_a_nested_list_refuses_a_page_beyond_its_cap(gql: GraphQLClient, first: int) -> None:
    body = gql.post(f"{{ trials {{ nodes {{ products(first: {first}) {{ name }} }} }} }}")

    assert f"first: {first} is not between 0 and {NESTED_PAGE.most}" in messages(body)


def test_every_list_of_nodes_declares_its_page_size() -> None:
    """The cost counts a list at its declared page size; the lists that declare none are
    counted at an assumed size, and are only these."""
    undeclared = set()
    for type_name, graphql_type in schema._schema.type_map.items():
        # Input types are what a query sends (a filter's `and`), not lists it gets back; a
        # connection's page (search's SearchResults too) is counted at the field above it.
        fields = getattr(graphql_type, "fields", {})
        if type_name.startswith("__") or {"edges", "pageInfo"} <= set(fields):
            continue
        if is_input_object_type(graphql_type):
            continue
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            returned = get_named_type(field.type)
            listed = returned.name.endswith("Connection") or "[" in str(field.type)
            backref = field.extensions.get("strawberry-definition")
            metadata = getattr(backref, "metadata", {})
            # A breakdown's groups are counted at the breakdown's `first` (PAGE_ITEMS).
            declared = isinstance(metadata.get(PAGE_SIZE), PageSize) or metadata.get(PAGE_ITEMS)
            if listed and hasattr(returned, "fields") and not declared:
                undeclared.add(field_name)

    # A node's sources and what is read from them, one field's claims, the plugins installed,
    # a search hit's highlights and a change's changed fields (one per field).
    assert undeclared == {
        "sources", "provenance", "interventions", "fields", "claims", "plugins", "highlights",
        "changes",
    }  # fmt: skip


def test_a_query_that_runs_past_the_deadline_is_stopped(demo_database_url: str) -> None:
    settings = Settings(database_url=demo_database_url, query_timeout=0.000_001)
    with TestClient(create_app(settings)) as client:
        body = Recorder(client).post(SITES_OF_FIVE_TRIALS)

    assert body.get("data") is None
    assert messages(body) == (
        "The query ran longer than 1e-06 s and was stopped (ATMP_QUERY_TIMEOUT)."
    )


# Answered by the resolvers (`interventions` has a resolver of its own): a read the planner
# answers whole is not validated again at all (api/compiled_answers.py).
TRIAL_BY_ID = '{ trial(registryId: "NCT05635409") { acronym interventions { name } } }'


def test_the_same_document_is_validated_once(api: Recorder) -> None:
    cache = _get_validate_cache(1024)
    api.post(TRIAL_BY_ID)
    hits = cache.cache_info().hits

    api.post(TRIAL_BY_ID)

    assert cache.cache_info().hits == hits + 1


def test_development_answers_introspection_and_suggests_names(api: Recorder) -> None:
    introspection = api.post(get_introspection_query(descriptions=True))
    typo = api.post("{ trials { nodez { nctId } } }")

    assert "errors" not in introspection
    assert introspection["data"]["__schema"]["queryType"]["name"] == "Query"
    assert messages(typo) == (
        "Cannot query field 'nodez' on type 'ClinicalTrialConnection'. Did you mean 'nodes'?"
    )
    graphiql = api.client.get("/graphql", headers={"accept": "text/html"})
    assert graphiql.status_code == 200
    assert "graphiql" in graphiql.text.lower()


@pytest.fixture
def production(demo_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    monkeypatch.setenv("ATMP_PROFILE", "production")
    monkeypatch.setenv("ATMP_DATABASE_URL", demo_database_url)
    with TestClient(create_app(Settings())) as client:
        yield Recorder(client)


def test_the_production_profile_hides_the_schema_from_strangers(production: Recorder) -> None:
    introspection = production.post("{ __schema { queryType { name } } }")
    typo = production.post("{ trials { nodez { nctId } } }")
    graphiql = production.client.get("/graphql", headers={"accept": "text/html"})

    assert introspection.get("data") is None
    assert "introspection has been disabled" in messages(introspection)
    assert messages(typo) == "Cannot query field 'nodez' on type 'ClinicalTrialConnection'."
    assert "graphiql" not in graphiql.text.lower()
    assert production.client.get("/graphiql/static/graphiql/graphiql.min.js").status_code == 404


def test_the_production_profile_sets_the_strict_limits(production: Recorder) -> None:
    body = production.post("{ trials(first: 100) { nodes { nctId sites { name } } } }")

    # 1 + 100 x (nodes 1 + (nctId 1 + sites (1 + 20 x 1))) = 2301: within 10,000.
    assert body["extensions"]["cost"] == {"requested": 2301, "limit": PRODUCTION["max_query_cost"]}
    deep = production.post(
        "{ institutions { nodes { " + "partOf { " * 10 + "name" + " }" * 10 + " } } }"
    )
    assert "the limit is 10 (ATMP_MAX_QUERY_DEPTH)" in messages(deep)
    assert production.statements == []


def test_a_setting_given_explicitly_wins_over_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATMP_PROFILE", "production")
    monkeypatch.setenv("ATMP_INTROSPECTION", "true")
    monkeypatch.setenv("ATMP_MAX_QUERY_COST", "500")

    limits = Settings().query_limits

    assert limits.introspection is True
    assert limits.max_cost == 500
    assert limits.field_suggestions is False
    assert limits.max_depth == PRODUCTION["max_query_depth"]
