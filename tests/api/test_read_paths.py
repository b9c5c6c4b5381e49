"""The read planner answers exactly as the resolvers do, for every role, on both databases.

The demo data and the fuzz canaries go in; two apps serve the same database, one with the
read planner (the default) and one without it (ATMP_COMPILED_READS=false).  Queries generated
from our own schema (hypothesis-graphql) go to both as anonymous, partner, curator and admin
callers, and the two answers must be the same, errors included.  The common reads a frontend
sends must be answered by the planner, as `extensions.readPath` says: a silent fallback to
the resolvers would pass the equality and fail here.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import graphql
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import queries
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from strawberry.extensions.validation_cache import _get_validate_cache

import atmp_graph.model as m
from atmp_graph.access.keys import create_key, server_secret
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from atmp_graph.model.database import make_engine
from atmp_graph.model.search_query import Hit
from atmp_graph.schema import search
from atmp_graph.schema.keyset import encode_cursor, fingerprint
from tests.api.fuzz_world import build_fuzz_world
from tests.api.stats_queries import stats_queries
from tests.api.test_fuzz import SCALARS, SDL, as_document, document, fuzz_settings
from tests.conftest import BACKENDS, empty_database

ROLES = ["anonymous", "partner", "curator", "admin"]
# The lists a frontend reads; generated queries start from these (and from every root).
LIST_ROOTS = [
    "trials", "institutions", "projects", "products", "conditions", "facilities", "people",
    "partnerships", "agreements", "exchanges", "educationActivities",
]  # fmt: skip
EXAMPLES = {"sqlite": 150, "postgresql": 40}


@dataclass
class Paths:
    backend: str
    # role -> (planner's app, resolvers' app)
    clients: dict[str, tuple[TestClient, TestClient]]
    answered: Counter[str] = field(default_factory=Counter)


def _keys(url: str) -> dict[str, dict[str, str]]:
    engine = make_engine(url)
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    try:
        with Session(engine) as session, session.begin():
            secret = server_secret(session)
            lund = session.scalars(
                sa.select(m.Institution.id).where(m.Institution.name == "Lund University")
            ).one()
            for role in ("partner", "curator", "admin"):
                key = create_key(
                    session, secret=secret, institution_id=lund, role=Role[role.upper()]
                )
                headers[role] = {"Authorization": f"Bearer {key.token}"}
    finally:
        engine.dispose()
    return headers


@pytest.fixture(scope="module", params=BACKENDS)
def paths(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_problem: str | None,
) -> Iterator[Paths]:
    directory = tmp_path_factory.mktemp("paths")
    with empty_database(request.param, directory, postgres_problem) as url:
        build_fuzz_world(url, directory)
        headers = _keys(url)
        clients = {
            role: tuple(
                TestClient(
                    # A deadline no query here reaches: one path is faster than the other, and
                    # a query stopped on one but not the other would differ by timing alone.
                    create_app(
                        Settings(
                            database_url=url,
                            rate_limit=False,
                            compiled_reads=on,
                            query_timeout=300,
                        )
                    ),
                    headers=dict(headers[role]),
                )
                for on in (True, False)
            )
            for role in ROLES
        }
        for pair in clients.values():
            for client in pair:
                client.__enter__()
        try:
            yield Paths(request.param, clients)  # type: ignore[arg-type]
        finally:
            for pair in clients.values():
                for client in pair:
                    client.__exit__(None, None, None)


def both(paths: Paths, role: str, query: str, variables: Any = None) -> tuple[Any, Any, Any]:
    """The planner's answer and the resolvers' answer (without extensions), and the read
    path the planner's app reports."""
    planned, resolved = (
        client.post("/graphql", json={"query": query, "variables": variables})
        for client in paths.clients[role]
    )
    assert planned.status_code == resolved.status_code, (query, planned.text, resolved.text)
    one, other = planned.json(), resolved.json()
    read_path = (one.pop("extensions", None) or {}).get("readPath")
    other.pop("extensions", None)
    return one, other, read_path


GENERATED = st.one_of(
    st.sampled_from(LIST_ROOTS).flatmap(
        lambda root: queries(SDL, fields=[root], custom_scalars=SCALARS, print_ast=as_document)
    ),
    queries(SDL, custom_scalars=SCALARS, print_ast=as_document),
)


# A failing example's document can be long; Hypothesis warns before printing it.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
def test_generated_queries_get_the_same_answer_on_both_paths(paths: Paths) -> None:
    # Tamed: pages within range and no cursors, so most documents run (the fuzz tests send
    # the wild ones); unfiltered too, so many reach rows.
    @given(tree=GENERATED, mode=st.sampled_from(["tame", "unfiltered"]))
    def each(tree: graphql.DocumentNode, mode: str) -> None:
        query = document(tree, mode=mode)
        for role in ROLES:
            planned, resolved, read_path = both(paths, role, query)
            assert planned == resolved, (role, query)
            for key in (read_path or {}).get("compiled", []):
                paths.answered["compiled"] += 1
                # (A non-null root field the resolvers refused, such as a list given a global
                # id that is none, nulls the whole answer: then no key is in it.)
                if planned.get("data") is not None:
                    assert key in planned["data"], (query, read_path)
            paths.answered["resolvers"] += len((read_path or {}).get("resolvers", []))

    fuzz_settings(EXAMPLES[paths.backend])(each)()
    print(paths.backend, dict(paths.answered))
    # Most generated root fields ask for something only the resolvers answer (provenance,
    # sources, …), but a good share must take the compiled path, or this test tests little.
    assert paths.answered["compiled"] >= 0.1 * sum(paths.answered.values()), paths.answered


# A failing example's document can be long; Hypothesis warns before printing it.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
def test_generated_dashboards_get_the_same_answer_on_both_paths(paths: Paths) -> None:
    """Stats fields asked every way a selection can (tests/api/stats_queries.py)."""
    answered: Counter[str] = Counter()

    @given(query=stats_queries())
    def each(query: str) -> None:
        for role in ROLES:
            planned, resolved, read_path = both(paths, role, query)
            assert planned == resolved, (role, query)
            for path, keys in (read_path or {}).items():
                answered[path] += len(keys)

    fuzz_settings(EXAMPLES[paths.backend])(each)()
    print(paths.backend, dict(answered))
    # Some ask what only the resolvers answer (an institution's aliases, a page beyond its
    # cap, a sum for a non-admin), but most must be planned, or this tests little.
    assert answered["compiled"] >= 0.5 * sum(answered.values()), answered


TRIAL_PAGE = """query Page($first: Int, $after: String) {
  trials(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title phase status startDate enrollment
      sponsor { id name country }
      sites { city country institution { name rorId } }
      conditions { name } products { name atmpClass stage } } }
  }
}"""
# Cursors of the trials list in id order (schema/keyset.py): after the first and second ids.
TRIALS_BY_ID = fingerprint("ClinicalTrial", None, None)
AFTER_FIRST, AFTER_SECOND = encode_cursor([1], TRIALS_BY_ID), encode_cursor([2], TRIALS_BY_ID)
ORDERED = """query Ordered($after: String) {
  trials(first: 2, after: $after, orderBy: [{field: START_DATE, direction: DESC}, {field: TITLE}],
         filter: {or: [{sites: {country: {eq: "SE"}}}, {phase: {isNull: true}}]}) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { title startDate
      sites(orderBy: [{field: CITY, direction: DESC}], filter: {country: {isNull: false}})
        { name city }
      products(first: 1, orderBy: [{field: NAME}]) { name } } }
  }
}"""
SEARCH = """query Search($query: String!, $types: [SearchType!], $first: Int, $after: String) {
  search(query: $query, types: $types, first: $first, after: $after) {
    __typename
    totalCount
    counts { type count }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { type score highlights { field fragment }
      node { __typename id
        ... on ClinicalTrial { title phase sponsor { name country } conditions { name } }
        ... on Project { title code leadInstitution { name } }
        ... on Product { name atmpClass }
        ... on Institution { name country }
        ... on Partnership { code }
        ... on Person { name }
        ... on Condition { name } } } }
  }
}"""
# A search's page after the hits one of whose fields is the whole query (schema/search.py):
# a place in its order, as a cursor says it, whatever the scores of either database.
AFTER_THE_EXACT_HITS = search.encode_cursor(
    search._fingerprint(["cell"], list(search.SearchType)),
    Hit(entity_type="clinical_trial", entity_id=0, exact=True, score=-1e300, highlights={}),
)
COMMON_READS = {
    "a page of trials": (TRIAL_PAGE, {"first": 2}),
    "an ordered, filtered page with ordered, filtered nested lists": (ORDERED, None),
    "the next page": (TRIAL_PAGE, {"first": 2, "after": AFTER_SECOND}),
    "a filtered list": (
        "{ trials(filter: { phase: { eq: PHASE1 } }) { totalCount nodes { title phase } } }",
        None,
    ),
    # An IN list's values are each processed as the column's type says (an enum to its
    # stored value), or the driver is sent Python objects.
    "a filter with a list of values and a relation": (
        "{ trials(filter: { phase: { in: [PHASE1, PHASE1_PHASE2] }, sites: { country: "
        '{ in: ["SE", "NL"] } } }, orderBy: [{ field: START_DATE, direction: DESC }]) '
        "{ totalCount nodes { title phase startDate } } }",
        None,
    ),
    "institutions and what they sponsor": (
        '{ institutions(filter: { country: { eq: "SE" } }) { nodes { __typename name kind partOf '
        "{ name } sponsoredTrials(first: 3) { title } facilities { name kind } } } }",
        None,
    ),
    "projects with partners": (
        "{ projects { nodes { title area status leadInstitution { name } partners { name } "
        "conditions { name } products { name } } } }",
        None,
    ),
    "aliases and fragments": (
        f'query {{ a: trials(first: 1) {{ ...T }} b: trials(first: 1, after: "{AFTER_FIRST}") '
        "{ ...T } } fragment T on ClinicalTrialConnection { nodes { ... on ClinicalTrial "
        "{ title } nctId } }",
        None,
    ),
    "a node by its id": (
        "query ($id: ID!) { node(id: $id) { __typename id ... on ClinicalTrial { title phase "
        "sponsor { name } sites { city country } } } }",
        {"id": "Q2xpbmljYWxUcmlhbDox"},  # ClinicalTrial:1
    ),
    "a trial by its registry id": (
        "query ($id: String!) { trial(registryId: $id) { acronym phase sponsor { name } } }",
        {"id": "2021-001366-38"},
    ),
    "a search with highlights, counts and its hits' nodes": (
        SEARCH,
        {"query": "cell", "first": 5},
    ),
    "the next page of a search": (
        SEARCH,
        {"query": "cell", "first": 3, "after": AFTER_THE_EXACT_HITS},
    ),
    "a search of some kinds, by its hits, with fragments": (
        "query ($q: String!) { found: search(query: $q, types: [CONDITION, PROJECT], first: 2) "
        "{ total: totalCount hits { __typename type s: score node { ...E ... on Project "
        "{ title } } } more: pageInfo { hasNextPage } } } fragment E on Entity { id "
        "... on Condition { name } }",
        {"q": "Parkinson"},
    ),
    "a search of no kind": (
        '{ search(query: "cell", types: []) { totalCount counts { type count } edges '
        "{ cursor } } }",
        None,
    ),
    "skip and include": (
        "query ($more: Boolean!) { products { nodes { name atmpClass @include(if: $more) "
        "trials @skip(if: $more) { title } } } }",
        {"more": True},
    ),
    # A dashboard: each stats root field in one statement, with the list's filter.
    "trial stats for a filter": (
        "{ trialStats(filter: { phase: { in: [PHASE1, PHASE2] } }) { count "
        "enrollment { count sum min max average } byPhase { totalGroups groups { phase count } } "
        "byStatus { totalGroups groups { status count } } "
        "byAtmpClass { groups { atmpClass count } } "
        "byCountry(first: 3) { totalGroups groups { country count } } "
        "bySponsor { groups { institution { name country } count } } "
        "byStartYear { groups { year count } } } }",
        None,
    ),
    "project stats": (
        "{ projectStats { count byArea { groups { area count } }"
        " byStatus { groups { status count } }"
        " byLeadInstitution { groups { institution { name } count } }"
        " byPartner { totalGroups"
        " groups { institution { __typename id name partOf { name } } count } }"
        " byStartYear { groups { year count } } } }",
        None,
    ),
    "product stats": (
        '{ productStats(filter: { name: { contains: "e" } }) { count '
        "byAtmpClass { groups { atmpClass count } } byStage { groups { stage count } } "
        "byOriginator { groups { institution { name } count } } "
        "byManufacturer { totalGroups groups { institution { name } count } } } }",
        None,
    ),
    "partnership stats": (
        "{ partnershipStats { count byKind { groups { kind count } } "
        "byStatus { totalGroups groups { status count } } "
        "byPartner { groups { institution { name kind } count } } } }",
        None,
    ),
    "stats with aliases, fragments, skip and include": (
        "query ($more: Boolean!) { all: trialStats { ...Countries n: count __typename } "
        "recruiting: trialStats(filter: { status: { eq: RECRUITING } }) { "
        "count @include(if: $more) byPhase @skip(if: $more) { totalGroups } "
        "e: enrollment { __typename max } f: enrollment { min } } } "
        "fragment Countries on TrialStats { byCountry(first: 0) { totalGroups groups { country } } "
        "top: byCountry(first: 2) { __typename groups { __typename c: country count } } }",
        {"more": True},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("read", list(COMMON_READS))
def test_the_common_reads_are_answered_by_the_planner(paths: Paths, read: str, role: str) -> None:
    query, variables = COMMON_READS[read]
    planned, resolved, read_path = both(paths, role, query, variables)

    assert planned == resolved
    assert "errors" not in planned, planned
    assert read_path == {"compiled": list(planned["data"]), "resolvers": []}


@pytest.mark.parametrize("role", ROLES)
def test_a_sum_of_values_is_planned_for_admins_alone(paths: Paths, role: str) -> None:
    """Sums of partnership values are for admins (schema/visibility.py); for anyone else the
    planner leaves the field's root to the resolvers, who refuse the sum."""
    query = (
        "{ partnershipStats { count valueByCurrency { totalGroups "
        "groups { currency count sum min max average } } } }"
    )
    planned, resolved, read_path = both(paths, role, query)

    assert planned == resolved
    admin = role == "admin"
    assert ("errors" in planned) is not admin
    assert read_path == {
        "compiled": ["partnershipStats"] if admin else [],
        "resolvers": [] if admin else ["partnershipStats"],
    }


def test_a_document_mixing_both_paths_is_answered_in_its_order(paths: Paths) -> None:
    query = (
        '{ conditions(first: 1) { nodes { name } } trial(registryId: "NCT05635409") '
        "{ acronym interventions { name } } ingestRuns { totalCount } "
        "products(first: 1) { nodes { name } } }"
    )
    planned, resolved, read_path = both(paths, "anonymous", query)

    assert planned == resolved
    assert list(planned["data"]) == ["conditions", "trial", "ingestRuns", "products"]
    assert planned["data"]["ingestRuns"] is None  # refused to anonymous callers, as before
    # `interventions` has a resolver of its own, so its trial is the resolvers' too.
    assert read_path == {
        "compiled": ["conditions", "products"],
        "resolvers": ["trial", "ingestRuns"],
    }


def test_a_read_sent_again_is_answered_from_its_plan_alone(paths: Paths) -> None:
    """The second time, no validation runs: the plan and its extensions were kept."""
    planner_app = paths.clients["partner"][0]
    query, variables = COMMON_READS["a page of trials"]
    body = {"query": query, "variables": variables}
    first = planner_app.post("/graphql", json=body)
    validations = _get_validate_cache(1024).cache_info()

    again = planner_app.post("/graphql", json=body)

    assert again.json() == first.json()
    assert again.headers["content-type"] == first.headers["content-type"]
    assert _get_validate_cache(1024).cache_info() == validations


@pytest.mark.parametrize(
    "authorization",
    ["Bearer atmp_00000000_" + "x" * 43, "Bearer not-a-key", "Basic dXNlcjpwYXNz"],
)
def test_a_refused_key_is_refused_on_a_read_known_by_heart(
    paths: Paths, authorization: str
) -> None:
    planner_app = paths.clients["partner"][0]
    body = {"query": COMMON_READS["projects with partners"][0]}
    planner_app.post("/graphql", json=body)
    planner_app.post("/graphql", json=body)

    refused = planner_app.post("/graphql", json=body, headers={"Authorization": authorization})

    assert refused.status_code == 401
    assert "data" not in refused.json()


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_the_planners_cursors_are_the_resolvers(paths: Paths, role: str) -> None:
    """A cursor either path gave continues the same list on the other, to the same page."""
    first, resolved_first, _ = both(paths, role, ORDERED)
    assert first == resolved_first
    after = {"after": first["data"]["trials"]["pageInfo"]["endCursor"]}

    planned, resolved, read_path = both(paths, role, ORDERED, after)

    assert planned == resolved
    assert planned["data"]["trials"]["pageInfo"]["hasPreviousPage"] is True
    assert read_path == {"compiled": ["trials"], "resolvers": []}


# Words as people type them: stems, accents or none, ids, a phrase, what FTS5 or tsquery would
# read as syntax, and what nothing holds.
SEARCHES = [
    "cell", "Skåne", "skane", "blodsjukdomar", "LU-P-0001", "NCT05635409", "lund university",
    "Parkinson's", '"cell" OR genterapi*', "zzzz",
]  # fmt: skip


@pytest.mark.parametrize("words", SEARCHES)
def test_a_search_paged_through_is_the_same_on_both_paths(paths: Paths, words: str) -> None:
    """Page by page, each taking the last page's end cursor, as a client pages."""
    variables: dict[str, Any] = {"query": words, "first": 2}
    pages = 0
    while True:
        planned, resolved, read_path = both(paths, "partner", SEARCH, variables)
        assert planned == resolved, variables
        assert read_path == {"compiled": ["search"], "resolvers": []}
        page_info = planned["data"]["search"]["pageInfo"]
        pages += 1
        if not page_info["hasNextPage"]:
            break
        variables["after"] = page_info["endCursor"]
    total = planned["data"]["search"]["totalCount"]
    assert pages == max(1, -(-total // 2))


@pytest.mark.parametrize(
    "query",
    [
        # A node field with a resolver of its own.
        '{ search(query: "cell") { edges { node { node { id ... on ClinicalTrial '
        "{ sources { feed } } } } } } }",
        # Arguments the resolver refuses, in its own words.
        '{ search(query: "cell", first: 101) { totalCount } }',
        '{ search(query: "&&") { totalCount } }',
        '{ search(query: "cell", after: "bm90IGEgY3Vyc29y") { totalCount } }',
    ],
)
def test_a_search_the_planner_cannot_read_is_the_resolvers(paths: Paths, query: str) -> None:
    planned, resolved, read_path = both(paths, "anonymous", query)

    assert planned == resolved
    assert read_path["compiled"] == []
