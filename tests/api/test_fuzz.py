"""Thousands of requests nobody wrote by hand, each answered soundly, whoever sends it.

Queries and mutations are generated from our own schema (hypothesis-graphql); malformed
requests from broken JSON, wrong JSON types, deep or huge variables, NUL bytes, invalid UTF-8
and random Accept, Content-Type and Authorization headers.  Anonymous callers, a partner that
is a party to the canary partnership, one that is not, and an admin send them through the app
over the demo data plus the canaries of tests/api/fuzz_world.py.  Every response must be
JSON of GraphQL's shape, never a 500 or a masked "Unexpected error.", never the text of an
exception, and never a canary the viewer may not see; a mutation by anyone but a curator is
refused and changes nothing.  Examples are derandomized, so CI runs the same ones each time.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import graphql
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.model import Base
from atmp_graph.model.database import make_engine
from atmp_graph.schema.errors import INTERNAL, UNEXPECTED
from atmp_graph.schema.limits import QueryLimits
from atmp_graph.schema.schema import build_schema
from tests.api.fuzz_world import (
    ADMIN,
    ANONYMOUS,
    EXPORT,
    NEVER_SEES,
    OUTSIDER,
    PARTY,
    QUARANTINED_AMOUNT,
    SECRET_AMOUNT,
    VIEWERS,
    FuzzWorld,
    build_fuzz_world,
)
from tests.conftest import BACKENDS, empty_database

SDL = build_schema(QueryLimits()).as_str()
# SQLite carries the bulk; PostgreSQL the same tests with fewer examples.
EXAMPLES = {
    "sqlite": {"queries": 250, "requests": 800, "mutations": 50},
    "postgresql": {"queries": 40, "requests": 200, "mutations": 15},
}
# What only an unmasked exception, a stack trace or SQL would put in a response.
LEAK_MARKERS = (
    "Traceback",
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    'File "',
    "/work/",
    "SELECT ",
    "Error(",
)
JSON_TYPES = ("application/json", "application/graphql-response+json")


@dataclass
class Fuzzed:
    backend: str
    world: FuzzWorld
    clients: dict[str, TestClient]  # one app per viewer, reused by every example
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)


@pytest.fixture(scope="session", params=BACKENDS)
def fuzzed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_problem: str | None,
) -> Iterator[Fuzzed]:
    directory = tmp_path_factory.mktemp("fuzz")
    with empty_database(request.param, directory, postgres_problem) as url:
        world = build_fuzz_world(url, directory)
        clients = {
            # Without rate limits (their own tests have them): thousands of requests from one
            # address would otherwise be 429s that never reach GraphQL.  A copy of the headers:
            # TestClient adds its user-agent to the dict it is given.
            viewer: TestClient(
                create_app(Settings(database_url=url, rate_limit=False)),
                headers=dict(world.headers[viewer]),
            )
            for viewer in VIEWERS
        }
        for client in clients.values():
            client.__enter__()
        try:
            yield Fuzzed(request.param, world, clients)
        finally:
            for client in clients.values():
                client.__exit__(None, None, None)


# Documents drawn from a schema with generated filter inputs get long, and Hypothesis warns
# that printing one is costly; it prints them only to report an example, so let it.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def fuzz_settings(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# --- what every response must be ------------------------------------------------------------


def assert_sound(response: Any, *, viewer: str, sent: str) -> dict[str, Any]:
    """The response is GraphQL-shaped JSON, says nothing of our internals and shows `viewer`
    nothing it may not see (a value the request itself carried aside); returns the body."""
    assert response.status_code < 500, (viewer, sent[:2000], response.text[:2000])
    media_type = response.headers.get("content-type", "").split(";")[0]
    assert media_type in JSON_TYPES, (response.status_code, media_type, response.text[:500])
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) <= {"data", "errors", "extensions"}, body
    assert body.get("data") is not None or body.get("errors"), body
    for error in body.get("errors") or ():
        assert isinstance(error, dict), body
        assert isinstance(error.get("message"), str), error
        assert error["message"] != UNEXPECTED, (sent[:2000], error)
        assert (error.get("extensions") or {}).get("code") != INTERNAL, (sent[:2000], error)
    text = response.text + json.dumps(body, ensure_ascii=False)
    # An admin may read where the demo's files were read from (under the checkout): for it,
    # only what the errors say is looked at.
    looked_at = json.dumps(body.get("errors") or []) if viewer == ADMIN else text
    leaked = [m for m in LEAK_MARKERS if m in looked_at and m not in sent]
    assert not leaked, (viewer, leaked, sent[:2000], looked_at[:2000])
    shown = [c for c in NEVER_SEES[viewer] if c in text and c not in sent]
    assert not shown, (viewer, shown, sent[:2000], text[:2000])
    return body


def outcome(response: Any, body: dict[str, Any]) -> str:
    """How a request ended, for the counts printed at the end of a test."""
    codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or ()}
    if body.get("data") is not None:
        return "ran" if codes <= {None, "FORBIDDEN"} else "ran with errors"
    if "QUERY_TOO_LARGE" in codes:
        return "refused: limits"
    return f"refused: {response.status_code}"


# --- generated queries ------------------------------------------------------------------------

SCALARS = {
    "Date": st.one_of(st.dates().map(str), st.text(max_size=12)).map(nodes.String),
    "DateTime": st.one_of(st.datetimes().map(str), st.text(max_size=12)).map(nodes.String),
    "Decimal": st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.sampled_from(["1E+999999", "-0", "NaN", "1e-999999", "", "12.3.4"]),
    ).map(nodes.String),
    "JSON": st.one_of(st.integers(), st.text(max_size=12)).map(
        lambda value: nodes.Int(value) if isinstance(value, int) else nodes.String(value)
    ),
}


class Tame(graphql.Visitor):
    """Page sizes brought within range, cursors dropped and, if `unfiltered`, filters and
    orders too: most generated queries then run instead of stopping at the first argument
    check (which the wild ones still exercise), and many reach the few rows that hold
    canaries."""

    def __init__(self, *, unfiltered: bool) -> None:
        super().__init__()
        dropped = {"after", "before"}
        self.dropped = dropped | {"filter", "orderBy"} if unfiltered else dropped

    def enter_argument(self, node: graphql.ArgumentNode, *_args: Any) -> Any:
        name = node.name.value
        if name in {"first", "last"} and isinstance(node.value, graphql.IntValueNode):
            size = graphql.IntValueNode(value=str(abs(int(node.value.value)) % 21))
            return graphql.ArgumentNode(name=node.name, value=size)
        if name in self.dropped:
            return graphql.REMOVE
        return None


def document(tree: graphql.DocumentNode, *, mode: str) -> str:
    if mode != "wild":
        tree = graphql.visit(tree, Tame(unfiltered=mode == "unfiltered"))
    return graphql.print_ast(tree)


def as_document(tree: graphql.DocumentNode) -> graphql.DocumentNode:
    return tree


# Left to itself the generator mostly asks `node(id:)` and the first root list: a second
# run asks only the roots that lead to a canary, each as often.
PROTECTED_ROOTS = ["partnerships", "institutions", "quarantinedRecords", "ingestRuns"]
ALL_ROOTS = queries(SDL, custom_scalars=SCALARS, print_ast=as_document)
PROTECTED = st.sampled_from(PROTECTED_ROOTS).flatmap(
    lambda root: queries(SDL, fields=[root], custom_scalars=SCALARS, print_ast=as_document)
)
# How a generated document is sent: as generated, one in four; tamed, the others.
MODES = st.sampled_from(["wild", "tame", "unfiltered", "unfiltered"])


def test_generated_queries_are_answered_soundly_for_every_viewer(fuzzed: Fuzzed) -> None:
    def each(tree: graphql.DocumentNode, mode: str) -> None:
        query = document(tree, mode=mode)
        for viewer in VIEWERS:
            response = fuzzed.clients[viewer].post("/graphql", json={"query": query})
            body = assert_sound(response, viewer=viewer, sent=query)
            fuzzed.outcomes[viewer, outcome(response, body)] += 1
            # Printed only: generated documents seldom reach the few canary rows, which
            # the malformed-request test asks for by name.
            if any(canary in response.text for canary in NEVER_SEES[ANONYMOUS]):
                fuzzed.outcomes[viewer, "saw a canary"] += 1

    examples = EXAMPLES[fuzzed.backend]["queries"]
    for documents, share in ((ALL_ROOTS, 0.6), (PROTECTED, 0.4)):
        fuzz_settings(int(examples * share))(given(tree=documents, mode=MODES)(each))()
    print(fuzzed.backend, sorted(fuzzed.outcomes.items()))
    ran = sum(n for (viewer, end), n in fuzzed.outcomes.items() if viewer == ADMIN and "ran" in end)
    asked = sum(n for (viewer, _), n in fuzzed.outcomes.items() if viewer == ADMIN)
    # The limits refuse some documents; most must get as far as the database.
    assert ran >= 0.6 * asked, fuzzed.outcomes


# --- malformed requests -----------------------------------------------------------------------


def mostly(usual: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any]) -> Any:
    """Three draws in four from `usual`: enough requests get past the first check to reach
    the next."""
    return st.integers(0, 3).flatmap(lambda n: unusual if n == 0 else usual)


CANARY_QUERIES = [
    '{ partnerships(filter: { search: "LU-A-951" }) { nodes { terms { valueAmount } } } }',
    "{ partnerships { nodes { code terms { valueAmount confidential } } } }",
    "{ quarantinedRecords { nodes { raw value reason } } }",
    "{ ingestRuns { nodes { sourceUri } } }",
    "{ partnerships { nodes { sources { sourceUri } } } }",
]
JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def nested(depth: int) -> Any:
    value: Any = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"id": value}
    return value


QUERY_VALUES = st.one_of(
    st.sampled_from(CANARY_QUERIES),
    st.sampled_from(CANARY_QUERIES).map(lambda q: q.replace("{", "{\x00", 1)),
    st.sampled_from(CANARY_QUERIES).map(lambda q: q[: len(q) // 2]),
    st.text(max_size=200),
    st.text(max_size=50).map(lambda s: "{ " + s),
    JSON_VALUES,  # a query that is not a string
)
VARIABLE_VALUES = st.one_of(
    JSON_VALUES,
    st.dictionaries(st.sampled_from(["id", "first", "filter", "n"]), JSON_VALUES, max_size=3),
    st.integers(1, 300).map(lambda depth: {"id": nested(depth)}),
    st.integers(1, 200_000).map(lambda size: {"id": "x" * size}),
    st.integers(1, 20_000).map(lambda size: {"first": list(range(size))}),
)
PAYLOADS = mostly(
    st.fixed_dictionaries(
        {"query": st.sampled_from(CANARY_QUERIES)},
        optional={"variables": st.just({}), "operationName": st.none()},
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "query": QUERY_VALUES,
            "variables": VARIABLE_VALUES,
            "operationName": st.one_of(st.text(max_size=10), JSON_VALUES),
            "extensions": st.one_of(JSON_VALUES, st.just({"persistedQuery": {"version": 1}})),
        },
    ),
)


def encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


BODIES = mostly(
    PAYLOADS.map(encoded),
    st.one_of(
        st.tuples(PAYLOADS.map(encoded), st.integers(0, 100)).map(lambda b: b[0][: b[1]]),
        PAYLOADS.map(lambda p: encoded(p).replace(b'"', b'"\x00', 1)),
        PAYLOADS.map(lambda p: encoded(p).replace(b"{", b"{\xff\xfe", 1)),
        PAYLOADS.map(lambda p: json.dumps(p, ensure_ascii=False).encode("utf-16")),
        JSON_VALUES.map(lambda value: json.dumps(value).encode()),  # not an object
        # Deeper than Python's own JSON parser goes: json.dumps could not even write it.
        st.integers(1, 100_000).map(
            lambda depth: (
                b'{"query": "{ plugins { name } }", "variables": {"id": '
                + b"[" * depth
                + b"]" * depth
                + b"}}"
            )
        ),
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
    ),
)


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=UTF-8",
            "application/json; charset=latin-1",
            "application/json; charset=",
            "application/graphql",
            "application/graphql-response+json",
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "",
        ]
    ),
    HEADER_TEXT,
)
ACCEPTS = st.one_of(
    st.sampled_from(
        [
            "*/*",
            "application/json",
            "application/graphql-response+json",
            "application/graphql-response+json;q=0.9, application/json;q=0.8",
            "application/graphql-response+json;charset=utf-8",
            "text/html",
            "image/png",
            "",
        ]
    ),
    HEADER_TEXT,
)


@dataclass(frozen=True)
class Sent:
    method: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, str]

    def describe(self) -> str:
        return f"{self.method} {self.headers} {self.params} {self.body[:1000]!r}"

    def __repr__(self) -> str:
        # What Hypothesis prints of a failing example: a huge body would bury it.
        return self.describe()


def requests(world: FuzzWorld) -> st.SearchStrategy[tuple[str, Sent]]:
    """(the viewer whose key it carries, the request) pairs."""
    keys = {
        headers["Authorization"]: viewer for viewer, headers in world.headers.items() if headers
    }
    authorization = mostly(
        st.sampled_from([None, *sorted(keys)]),
        st.one_of(
            HEADER_TEXT.map(lambda text: f"Bearer {text}"),
            HEADER_TEXT,
            st.just("Basic YWRtaW46YWRtaW4="),
        ),
    )

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, Sent]:
        method = draw(mostly(st.just("POST"), st.sampled_from(["GET", "PUT", "DELETE", "PATCH"])))
        headers = {}
        for name, values in (
            ("Accept", mostly(st.sampled_from([None, *JSON_TYPES]), ACCEPTS)),
            ("Content-Type", mostly(st.just("application/json"), CONTENT_TYPES)),
            ("Authorization", authorization),
        ):
            value = draw(values)
            if value is not None:
                headers[name] = value
        params: dict[str, str] = {}
        body = b""
        if method == "GET":
            payload = draw(PAYLOADS)
            # Cut to what fits in a URL (the client refuses longer ones).
            params = {
                key: (value if isinstance(value, str) else json.dumps(value))[:2_000]
                for key, value in payload.items()
            }
        else:
            body = draw(BODIES)
        return keys.get(headers.get("Authorization", ""), ANONYMOUS), Sent(
            method, headers, body, params
        )

    return build()


def test_malformed_requests_are_refused_in_graphql_shape(fuzzed: Fuzzed) -> None:
    # Headers are the request's own: the anonymous app's client carries none of its own.
    client = fuzzed.clients[ANONYMOUS]
    ends: Counter[str] = Counter()

    @fuzz_settings(EXAMPLES[fuzzed.backend]["requests"])
    @given(request=requests(fuzzed.world))
    def each(request: tuple[str, Sent]) -> None:
        viewer, sent = request
        response = client.request(
            sent.method, "/graphql", headers=sent.headers, content=sent.body, params=sent.params
        )
        if response.headers.get("content-type", "").startswith("text/html"):
            # Development serves GraphiQL to a GET that asks no query, as a browser does.
            assert (sent.method, response.status_code) == ("GET", 200), sent.describe()
            assert "query" not in sent.params, sent.describe()
            assert "<title>ATMP Graph: GraphiQL</title>" in response.text
            ends["GraphiQL"] += 1
            return
        body = assert_sound(response, viewer=viewer, sent=sent.describe())
        ends[outcome(response, body)] += 1

    each()
    print(fuzzed.backend, sorted(ends.items()))
    # Enough of them carry a key and a query that the canaries are there to be leaked.
    assert ends["ran"] >= EXAMPLES[fuzzed.backend]["requests"] // 10, ends


# --- mutations ---------------------------------------------------------------------------------


def fingerprint(database_url: str) -> dict[str, str]:
    """A digest of every table's rows, API keys aside (a request notes when a key was used)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table.name: hashlib.sha256(
                    repr(sorted(map(repr, connection.execute(sa.select(table)).all()))).encode()
                ).hexdigest()
                for table in Base.metadata.sorted_tables
                if table.name != "api_key"
            }
    finally:
        engine.dispose()


def test_mutations_by_anonymous_callers_and_partners_are_refused_and_change_nothing(
    fuzzed: Fuzzed,
) -> None:
    before = fingerprint(fuzzed.world.database_url)
    ends: Counter[str] = Counter()

    @fuzz_settings(EXAMPLES[fuzzed.backend]["mutations"])
    @given(tree=mutations(SDL, custom_scalars=SCALARS, print_ast=as_document), mode=MODES)
    def each(tree: graphql.DocumentNode, mode: str) -> None:
        mutation = document(tree, mode=mode)
        for viewer in (ANONYMOUS, PARTY, OUTSIDER):
            response = fuzzed.clients[viewer].post("/graphql", json={"query": mutation})
            body = assert_sound(response, viewer=viewer, sent=mutation)
            assert body.get("data") is None, (viewer, mutation, body)
            # Refused before it runs: by the permission layer (403), as too large, or as no
            # valid document (an argument's literal is no Date, say): nothing ran.
            end = outcome(response, body)
            invalid = end == "refused: 200" and not any("path" in e for e in body["errors"])
            assert invalid or end in {"refused: 403", "refused: limits"}, (viewer, body)
            ends[end] += 1

    each()
    print(fuzzed.backend, sorted(ends.items()))
    assert ends["refused: 403"] > 0, ends
    assert fingerprint(fuzzed.world.database_url) == before


# --- the canaries are there to be found --------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "canary", "sees"),
    [
        (CANARY_QUERIES[0], SECRET_AMOUNT, {PARTY, ADMIN}),
        (CANARY_QUERIES[2], QUARANTINED_AMOUNT, {ADMIN}),
        (CANARY_QUERIES[3], EXPORT, {ADMIN}),
    ],
    ids=["confidential amount", "quarantined amount", "export path"],
)
def test_each_canary_reaches_exactly_the_viewers_allowed_it(
    fuzzed: Fuzzed, query: str, canary: str, sees: set[str]
) -> None:
    """Without this, a canary missing from the database would make every fuzz test pass."""
    seen = {
        viewer
        for viewer, client in fuzzed.clients.items()
        if canary in client.post("/graphql", json={"query": query}).text
    }

    assert seen == sees


# --- found by fuzzing ---------------------------------------------------------------------------


@pytest.mark.parametrize("first", [-1, 101])
def test_a_nested_lists_page_size_out_of_range_is_the_clients_error(
    fuzzed: Fuzzed, first: int
) -> None:
    """A nested list on the fallback resolvers once raised ValueError: "Unexpected error."."""
    query = (
        "{ matchSuggestions(first: 1) { nodes { other { ... on Condition { "
        f"trials(first: {first}) {{ id }} }} }} }} }} }}"
    )
    body = fuzzed.clients[ADMIN].post("/graphql", json={"query": query}).json()

    messages = {error["message"] for error in body["errors"]}
    assert messages == {f"first: {first} is not between 0 and 100"}, body
