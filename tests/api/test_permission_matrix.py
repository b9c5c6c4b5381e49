"""What anonymous callers, two partners, the industry partner, a curator and an admin each see.

The world (tests/api/permission_world.py) is a Lund/Skåne partnerships export with a distinct
canary value in every protected place: confidential and open amounts, a confidential amount in a
row that fails validation (so it sits in the quarantine), source paths, a partnership retired
by a later read (its terms, and the run that retired it), a pending match suggestion, a value
that lost in provenance and a reason in the audit log.  Each viewer then asks for each
protected value along several paths; the table of who may see what is written out by hand
here, not taken from schema/visibility.py.  A viewer the table allows sees the canary; any
other never finds it anywhere in the response, and (where a field was refused) gets an error
saying so.  What each viewer may change is tests/api/test_curation_roles.py.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import atmp_graph.model as m
from atmp_graph import NoConfig
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.records import PartnershipRecord
from atmp_graph.plugins.validation import content_hash, validate_row
from tests.api.permission_world import (
    EXPORT,
    LOSING_TITLE,
    OPEN_AMOUNT,
    QUARANTINED_AMOUNT,
    REASON,
    RERUN,
    RETIRED,
    RETIRED_AMOUNT,
    SECRET_AMOUNT,
    SUGGESTED,
    VIEWERS,
    World,
    build_world,
)
from tests.conftest import BACKENDS, load_reference, migrated_database

CONTENT_HASH = "<LU-A-902's content hash as shown, keyed>"  # made per database (World)


@dataclass(frozen=True)
class Case:
    query: str
    canary: str
    sees: frozenset[str]  # the viewers who may see it
    node: str = "LU-A-901"  # what `$id` names (World.ids)


def _sees(*viewers: str) -> frozenset[str]:
    return frozenset(viewers)


PARTIES = _sees("partner A", "industry partner", "admin")
# LU-A-904's parties are Lund University and Open Vector AB, which has no key.
RETIRED_PARTIES = _sees("partner A", "admin")
PARTNERS = _sees("partner A", "partner B", "industry partner", "curator", "admin")
CURATORS = _sees("curator", "admin")
ADMINS = _sees("admin")
NOBODY = _sees()

TERMS = "terms { valueAmount currency confidential }"
# Open Vector AB is LU-A-902's and LU-A-904's company: a live node built by a retired record
# too, so a top-level list reaches what the rerun retired.
OPEN_VECTOR = '{ institutions(filter: { search: "Open Vector AB" }) { nodes { %s } } }'
BY_ID = "query ($id: ID!) { node(id: $id) { %s } }"
PAIR = "node { ... on Institution { name } } other { ... on Institution { name } }"
CASES = {
    "confidential terms in the list": Case(
        f'{{ partnerships(filter: {{ search: "LU-A-901" }}) {{ nodes {{ code {TERMS} }} }} }}',
        SECRET_AMOUNT,
        PARTIES,
    ),
    "confidential terms by node(id:)": Case(
        BY_ID % f"... on Partnership {{ {TERMS} }}", SECRET_AMOUNT, PARTIES
    ),
    "confidential terms under an alias, in a fragment": Case(
        "fragment T on Partnership { money: terms { amount: valueAmount } }\n"
        '{ a: partnerships(filter: { search: "LU-A-901" }) { nodes { ...T } } }',
        SECRET_AMOUNT,
        PARTIES,
    ),
    "open terms": Case(
        f'{{ partnerships(filter: {{ search: "LU-A-902" }}) {{ nodes {{ {TERMS} }} }} }}',
        OPEN_AMOUNT,
        PARTNERS,
    ),
    "a quarantined confidential row": Case(
        "{ quarantinedRecords { nodes { sourceId raw value reason } } }",
        QUARANTINED_AMOUNT,
        ADMINS,
    ),
    "a quarantined confidential row, through the run that retired a node": Case(
        BY_ID % "... on Partnership { retiredBy { quarantine { raw value reason } } }",
        QUARANTINED_AMOUNT,
        ADMINS,
        node=RETIRED,
    ),
    "where a record was read": Case(
        '{ partnerships(filter: { search: "LU-A-902" }) { nodes { sources { sourceUri } } } }',
        EXPORT,
        CURATORS,
    ),
    "what an ingest run read": Case("{ ingestRuns { nodes { sourceUri } } }", EXPORT, CURATORS),
    # The read planner answers lists of columns in one statement (schema/planner/); the
    # resolvers, the rest of the document.
    "what an ingest run read, next to a public list, through edges and a fragment": Case(
        '{ partnerships(filter: { search: "LU-A-90" }) { totalCount nodes { code } }\n'
        "  runs: ingestRuns { edges { node { ... on IngestRun { read: sourceUri } } } } }",
        EXPORT,
        CURATORS,
    ),
    "the run that retired a node, by node(id:)": Case(
        BY_ID % "... on Partnership { code retiredAt retiredBy { feed sourceUri } }",
        RERUN,
        CURATORS,
        node=RETIRED,
    ),
    "the run that retired a node, through the Retirable interface": Case(
        BY_ID % "... on Retirable { retiredAt retiredBy { sourceUri } }",
        RERUN,
        CURATORS,
        node=RETIRED,
    ),
    "the run that retired a record, from a top-level list": Case(
        OPEN_VECTOR % "name sources { sourceId retiredAt retiredBy { sourceUri } }",
        RERUN,
        CURATORS,
    ),
    "the run that retired a node, through a nested relation": Case(
        OPEN_VECTOR % "companyPartnerships { code retiredAt by: retiredBy { sourceUri } }",
        RERUN,
        CURATORS,
    ),
    "the run that retired a node, by its own id": Case(
        BY_ID % "__typename ... on IngestRun { sourceUri }", RERUN, CURATORS, node="the rerun"
    ),
    "a retired partnership's confidential terms, by node(id:)": Case(
        BY_ID % f"... on Partnership {{ {TERMS} }}", RETIRED_AMOUNT, RETIRED_PARTIES, node=RETIRED
    ),
    "a retired partnership's confidential terms, through a nested relation": Case(
        OPEN_VECTOR % f"companyPartnerships {{ code {TERMS} }}", RETIRED_AMOUNT, RETIRED_PARTIES
    ),
    "a match suggestion's pair": Case(
        "{ matchSuggestions(filter: { status: { eq: PENDING } }) { nodes { score reason "
        f"{PAIR} }} }} }}",
        SUGGESTED,
        CURATORS,
    ),
    "a match suggestion's pair, through edges, under aliases, in fragments": Case(
        "fragment N on Institution { called: name }\n"
        "fragment S on MatchSuggestion { one: node { ...N } two: other { ...N } }\n"
        "{ queue: matchSuggestions { edges { node { ...S } } } }",
        SUGGESTED,
        CURATORS,
    ),
    # A suggestion is no Node: an id made up for one finds nothing, for anyone.
    "a match suggestion by a made-up global id": Case(
        BY_ID % "__typename ... on Institution { name }", SUGGESTED, NOBODY, node="a suggestion"
    ),
    "the audit log": Case("{ auditLog { nodes { operation arguments } } }", REASON, ADMINS),
    "the values that lost, in provenance": Case(
        '{ trial(registryId: "NCT09990001") { title '
        'provenance(fields: ["title"]) { value claims { feed value } } } }',
        LOSING_TITLE,
        CURATORS,
    ),
    "the values that lost, in conflicts": Case(
        "{ conflicts { nodes { entityType fields { field claims { value } } } } }",
        LOSING_TITLE,
        CURATORS,
    ),
    "a record's content hash": Case(
        '{ partnerships(filter: { search: "LU-A-902" }) { nodes { sources { contentHash } } } }',
        CONTENT_HASH,
        CURATORS,
    ),
}


def _canary(world: World, case: Case) -> str:
    return world.content_hash if case.canary == CONTENT_HASH else case.canary


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_problem: str | None,
) -> Iterator[World]:
    """One world per database kind, shared: every test here only reads it."""
    directory = tmp_path_factory.mktemp("permissions")
    with (
        migrated_database(request.param, directory, postgres_problem) as (url, engine),
        build_world(load_reference(engine), url, directory) as built,
    ):
        yield built


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_viewer_sees_exactly_what_the_table_allows(world: World, case: str) -> None:
    asked = CASES[case]
    seen = {}
    for viewer in VIEWERS:
        response = world.clients[viewer].post(
            "/graphql", json={"query": asked.query, "variables": {"id": world.ids[asked.node]}}
        )
        assert response.status_code == 200, (viewer, response.text)
        body = response.json()
        # Amounts come back as decimals: "7314159.00" holds the canary too.
        canary = _canary(world, asked)
        seen[viewer] = canary in response.text or canary in json.dumps(body, ensure_ascii=False)
        if viewer in asked.sees:
            assert "errors" not in body, (viewer, body["errors"])

    assert {viewer for viewer, saw in seen.items() if saw} == asked.sees


@pytest.mark.parametrize("viewer", ["anonymous", "partner B", "curator"])
def test_a_refused_field_is_null_with_an_error_that_says_why(world: World, viewer: str) -> None:
    body = (
        world.clients[viewer]
        .post("/graphql", json={"query": CASES["confidential terms in the list"].query})
        .json()
    )

    assert body["data"]["partnerships"]["nodes"] == [{"code": "LU-A-901", "terms": None}]
    (error,) = body["errors"]
    assert error["path"] == ["partnerships", "nodes", 0, "terms"]
    assert error["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("viewer", ["anonymous", "partner A", "industry partner"])
def test_a_retired_node_says_when_to_anyone_and_by_which_run_to_curators(
    world: World, viewer: str
) -> None:
    asked = CASES["the run that retired a node, by node(id:)"]
    body = (
        world.clients[viewer]
        .post("/graphql", json={"query": asked.query, "variables": {"id": world.ids[RETIRED]}})
        .json()
    )

    node = body["data"]["node"]
    assert (node["code"], node["retiredBy"]) == (RETIRED, None)
    assert node["retiredAt"] is not None
    (error,) = body["errors"]
    assert error["path"] == ["node", "retiredBy"]
    assert error["message"] == "only curators and admins may see this"
    assert error["extensions"] == {"code": "FORBIDDEN", "tier": "curator"}


def test_guessing_amounts_against_content_hashes_recovers_nothing(world: World) -> None:
    """The attack that recovered confidential amounts: rebuild the record from what is public,
    try every amount, compare with the published content hash."""
    query = '{ partnerships(filter: { search: "LU-A-901" }) { nodes { sources { contentHash } } } }'
    shown = world.clients["curator"].post("/graphql", json={"query": query}).json()
    published = shown["data"]["partnerships"]["nodes"][0]["sources"][0]["contentHash"]
    (row,) = [
        row
        for row in LundSkaneFeed().read(
            str(next(Path(p) for p in _export_paths(world.engine))), state={}, config=NoConfig()
        )
        if row.source_id == "LU-A-901"
    ]
    record = validate_row(row, feed="lund_skane")
    assert isinstance(record, PartnershipRecord)
    assert record.terms is not None
    guesses = {
        content_hash(
            record.model_copy(
                update={"terms": record.terms.model_copy(update={"value_amount": Decimal(n)})}
            )
        )
        for n in range(int(SECRET_AMOUNT) - 5_000, int(SECRET_AMOUNT) + 5_000)
    }
    with Session(world.engine) as session:
        stored = session.scalars(
            sa.select(m.SourceRecord.content_hash).where(m.SourceRecord.source_id == "LU-A-901")
        ).one()

    assert stored in guesses  # the unkeyed hash would give the amount away...
    assert published not in guesses  # ...the published one does not
    assert published != stored


def _export_paths(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(sa.select(m.IngestRun.source_uri).where(
            m.IngestRun.feed == "lund_skane"
        ).order_by(m.IngestRun.id)))  # fmt: skip


# Curation's own lists and the plugins' internals: no canary to plant, so the answer itself.
CURATORS_ONLY = {
    "matchSuggestions": "{ matchSuggestions { totalCount } }",
    "merges": "{ merges { totalCount } }",
    "plugins": "{ plugins { name version hooks errors } }",
    "auditLog": "{ auditLog { totalCount } }",
}


@pytest.mark.parametrize("field", CURATORS_ONLY)
def test_curations_lists_and_plugin_internals_are_refused_to_partners(
    world: World, field: str
) -> None:
    refused = {}
    for viewer in VIEWERS:
        body = world.clients[viewer].post("/graphql", json={"query": CURATORS_ONLY[field]}).json()
        codes = {error["extensions"]["code"] for error in body.get("errors", [])}
        refused[viewer] = codes == {"FORBIDDEN"}
    allowed = ADMINS if field == "auditLog" else CURATORS

    assert {viewer for viewer, no in refused.items() if not no} == allowed


# A filter or an order on an amount would tell it, a bound at a time, to whoever may list
# partnerships: the amounts are in no filter and no order, for anyone.
BY_AMOUNT = {
    "filter through the terms": "{ partnerships(filter: {terms: {valueAmount: {gt: 7000000}}})"
    " { nodes { code } } }",
    "filter on the amount": "{ partnerships(filter: {valueAmount: {gt: 7000000}})"
    " { nodes { code } } }",
    "order by the amount": "{ partnerships(orderBy: [{field: VALUE_AMOUNT, direction: DESC}])"
    " { edges { cursor node { code } } } }",
    "nested filter": "{ institutions { nodes { partnerships(filter: {terms: {confidential:"
    " {eq: true}}}) { code } } } }",
}


@pytest.mark.parametrize("attempt", BY_AMOUNT)
def test_nobody_filters_or_orders_partnerships_by_their_amount(world: World, attempt: str) -> None:
    for viewer in ("partner B", "industry partner", "admin"):
        response = world.clients[viewer].post("/graphql", json={"query": BY_AMOUNT[attempt]})
        body = response.json()

        assert body.get("data") is None, (viewer, body)
        (error,) = body["errors"]
        assert "unknown field" in error["message"] or "does not exist" in error["message"]
        assert SECRET_AMOUNT not in response.text


def test_the_partnership_inputs_name_no_term(world: World) -> None:
    query = """{ filter: __type(name: "PartnershipFilter") { inputFields { name } }
                 order: __type(name: "PartnershipOrderField") { enumValues { name } } }"""
    body = world.clients["admin"].post("/graphql", json={"query": query}).json()["data"]

    names = [f["name"] for f in body["filter"]["inputFields"]]
    names += [v["name"] for v in body["order"]["enumValues"]]
    assert "code" in names
    assert "CODE" in names
    assert not [name for name in names if "term" in name.lower() or "amount" in name.lower()]
