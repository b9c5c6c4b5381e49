"""What anonymous callers, two partners, the industry partner, a curator and an admin each see.

A Lund/Skåne partnerships export goes in with a distinct canary value in every protected
field: a confidential amount, an open amount, a confidential amount in a row that fails
validation (so it sits in the quarantine), and a source path.  Each viewer then asks for each
protected field along several paths; the table of who may see what is written out by hand
here, not taken from schema/visibility.py.  A viewer the table allows sees the canary; any
other never finds it anywhere in the response, and (where a field was refused) gets an error
saying so.
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
from starlette.testclient import TestClient

import atmp_graph.model as m
from atmp_graph import NoConfig
from atmp_graph.access.keys import create_key, keyed_hash, server_secret
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.records import PartnershipRecord
from atmp_graph.plugins.validation import content_hash, validate_row
from benchmarks.exports import TRIALS_HEADER

HEADER = (
    "Avtals-ID;Företag;Organisationsnummer;Avtalstyp;Start;Slut;Status;Projekt-ID;"
    "Avtalsvärde (SEK);Konfidentiellt"
)
SECRET_AMOUNT, OPEN_AMOUNT, QUARANTINED_AMOUNT = "7314159", "2718281", "9999331"
EXPORT = "canary-export-5f3a"  # in every source path
REASON = "canary-reason-8c1e"  # why a curator asked for the row again: in the audit log
# A Lund/Skåne trial the registry also lists under another title: the registry's title wins,
# so the Lund/Skåne title is a value that lost, seen only in the claims and the conflicts.
LOSING_TITLE = "canary-title-3b7d"
TRIAL = f"LU-T-901;NCT09990001;;{LOSING_TITLE};I;Rekryterar;Region Skåne;10;;;;2024-01-01"
STUDY = {
    "protocolSection": {
        "identificationModule": {"nctId": "NCT09990001", "briefTitle": "The registry's title"},
        "statusModule": {"overallStatus": "RECRUITING"},
    }
}
CONTENT_HASH = "<LU-A-902's content hash as shown, keyed>"  # made per database (World)
ROWS = [
    f"LU-A-901;Canary Cell AB;556900-0001;Licensavtal;2024-01-01;;Aktivt;;{SECRET_AMOUNT};Ja",
    f"LU-A-902;Open Vector AB;556900-0002;Licensavtal;2024-01-01;;Aktivt;;{OPEN_AMOUNT};Nej",
    f"LU-A-903;Broken Terms AB;556900-0003;Licensavtal;2024-13-01;;Aktivt;;{QUARANTINED_AMOUNT};Ja",
]

VIEWERS = ["anonymous", "partner A", "partner B", "industry partner", "curator", "admin"]
# (institution name, role) of each viewer's key: Lund University is a party to every
# Lund/Skåne partnership; LUMC to none of them; Canary Cell AB is LU-A-901's company.
KEYS = {
    "partner A": ("Lund University", Role.PARTNER),
    "partner B": ("Leiden University Medical Center", Role.PARTNER),
    "industry partner": ("Canary Cell AB", Role.PARTNER),
    "curator": ("Leiden University Medical Center", Role.CURATOR),
    "admin": ("Leiden University Medical Center", Role.ADMIN),
}


@dataclass(frozen=True)
class Case:
    query: str
    canary: str
    sees: frozenset[str]  # the viewers who may see it


def _sees(*viewers: str) -> frozenset[str]:
    return frozenset(viewers)


PARTIES = _sees("partner A", "industry partner", "admin")
PARTNERS = _sees("partner A", "partner B", "industry partner", "curator", "admin")
CURATORS = _sees("curator", "admin")
ADMINS = _sees("admin")

TERMS = "terms { valueAmount currency confidential }"
CASES = {
    "confidential terms in the list": Case(
        f'{{ partnerships(filter: {{ search: "LU-A-901" }}) {{ nodes {{ code {TERMS} }} }} }}',
        SECRET_AMOUNT,
        PARTIES,
    ),
    "confidential terms by node(id:)": Case(
        f"query ($id: ID!) {{ node(id: $id) {{ ... on Partnership {{ {TERMS} }} }} }}",
        SECRET_AMOUNT,
        PARTIES,
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
    "where a record was read": Case(
        '{ partnerships(filter: { search: "LU-A-902" }) { nodes { sources { sourceUri } } } }',
        EXPORT,
        CURATORS,
    ),
    "what an ingest run read": Case("{ ingestRuns { nodes { sourceUri } } }", EXPORT, CURATORS),
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


@dataclass
class World:
    engine: Engine
    clients: dict[str, TestClient]
    node_id: str
    content_hash: str

    def canary(self, case: Case) -> str:
        return self.content_hash if case.canary == CONTENT_HASH else case.canary


@pytest.fixture
def world(reference_engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    export = tmp_path / EXPORT
    export.mkdir()
    (export / "partnerships.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", "utf-8-sig")
    report = ingest(reference_engine, LundSkaneFeed(), str(export))
    assert (report.created, report.quarantined) == (2, 1), report.summary()
    trials = tmp_path / "trials"
    trials.mkdir()
    (trials / "trials.csv").write_text("\n".join([TRIALS_HEADER, TRIAL]) + "\n", "utf-8-sig")
    assert ingest(reference_engine, LundSkaneFeed(), str(trials)).created == 1
    (tmp_path / "NCT09990001.json").write_text(json.dumps(STUDY), "utf-8")
    assert ingest(reference_engine, CtGovFeed(), str(tmp_path / "NCT09990001.json")).created == 1
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    with Session(reference_engine) as session, session.begin():
        secret = server_secret(session)
        stored_hash = session.scalars(
            sa.select(m.SourceRecord.content_hash).where(m.SourceRecord.source_id == "LU-A-902")
        ).one()
        for viewer, (name, role) in KEYS.items():
            institution = session.scalars(
                sa.select(m.Institution.id).where(m.Institution.name == name)
            ).one()
            token = create_key(session, secret=secret, institution_id=institution, role=role)
            headers[viewer] = {"Authorization": f"Bearer {token.token}"}
    app = create_app(Settings(database_url=database_url))
    clients = {viewer: TestClient(app, headers=headers[viewer]) for viewer in VIEWERS}
    with clients["anonymous"]:
        listed = clients["curator"].post(
            "/graphql", json={"query": "{ quarantinedRecords { nodes { id } } }"}
        )
        again = (
            "mutation ($id: Int!, $why: String!) "
            "{ requestReingest(id: $id, reason: $why) { status } }"
        )
        number = listed.json()["data"]["quarantinedRecords"]["nodes"][0]["id"]
        asked = clients["curator"].post(
            "/graphql", json={"query": again, "variables": {"id": number, "why": REASON}}
        )
        assert asked.json()["data"]["requestReingest"]["status"] == "OPEN", asked.text
        node_id = (
            clients["admin"]
            .post(
                "/graphql",
                json={"query": '{ partnerships(filter: { search: "LU-A-901" }) { nodes { id } } }'},
            )
            .json()["data"]["partnerships"]["nodes"][0]["id"]
        )
        yield World(reference_engine, clients, node_id, keyed_hash(secret, stored_hash))


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_viewer_sees_exactly_what_the_table_allows(world: World, case: str) -> None:
    asked = CASES[case]
    seen = {}
    for viewer in VIEWERS:
        response = world.clients[viewer].post(
            "/graphql", json={"query": asked.query, "variables": {"id": world.node_id}}
        )
        assert response.status_code == 200, (viewer, response.text)
        body = response.json()
        # Amounts come back as decimals: "7314159.00" holds the canary too.
        canary = world.canary(asked)
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
        )))  # fmt: skip


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
