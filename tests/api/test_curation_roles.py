"""Which of the six viewers may change the graph by hand: every curation mutation, called by
each of anonymous, partner A, partner B, the industry partner, a curator and an admin.

The world is the permission matrix's (tests/api/permission_world.py), with what the
mutations act on: its pending match suggestion, its open quarantined record, an institution
with an alias, and two things an admin did earlier (two facilities merged by mistake, a trial
title curated), so that splitMerge and clearCuratedFields have something to undo.  Who may
run each mutation is written out by hand below, not taken from schema/visibility.py.  A
viewer the table refuses gets HTTP 403 and one sentence, and the database is exactly as it
was, the audit log included; a viewer it allows changes the graph, and one audit entry names
their key.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import atmp_graph.model as m
from atmp_graph.access.viewer import Tier
from atmp_graph.schema.visibility import FIELD_TIERS
from tests.api.permission_world import VIEWERS, World, build_world
from tests.conftest import GraphQLClient, answer

CURATORS = frozenset({"curator", "admin"})
ADMINS = frozenset({"admin"})
# Who may run each mutation of the schema, by hand.
MAY_RUN = {
    "acceptMatch": CURATORS,
    "rejectMatch": CURATORS,
    "mergeNodes": CURATORS,
    "splitMerge": CURATORS,
    "addAlias": CURATORS,
    "removeAlias": CURATORS,
    "discardQuarantinedRecord": CURATORS,
    "requestReingest": CURATORS,
    "editCuratedFields": CURATORS,
    "clearCuratedFields": CURATORS,
    "runIngest": ADMINS,
}
ROLES = {"curator": "CURATOR", "admin": "ADMIN"}
REFUSED = {
    "message": "only curators and admins may see this",
    "extensions": {"code": "FORBIDDEN", "tier": "curator"},
}
REFUSED_TO_ALL_BUT_ADMINS = {
    "message": "only admins may do this",
    "extensions": {"code": "FORBIDDEN", "tier": "admin"},
}


@dataclass(frozen=True)
class Targets:
    """What the mutations act on."""

    ids: dict[str, str]  # global ids of nodes, by name
    suggestion: int  # pending: Open Vector AB and Open Vector Zephyrine AB
    merge: int  # the facilities an admin merged by mistake
    quarantined: int  # open: LU-A-903, whose start date is no date


Call = tuple[str, Callable[[Targets], dict[str, Any]]]  # the document and its variables
CALLS: dict[str, Call] = {
    "acceptMatch": (
        "mutation ($id: Int!) { acceptMatch(id: $id) { id } }",
        lambda t: {"id": t.suggestion},
    ),
    "rejectMatch": (
        "mutation ($id: Int!) { rejectMatch(id: $id) { id status } }",
        lambda t: {"id": t.suggestion},
    ),
    "mergeNodes": (
        'mutation ($s: ID!, $m: ID!) { mergeNodes(survivor: $s, merged: $m, reason: "one '
        'company") { id } }',
        lambda t: {"s": t.ids["Open Vector AB"], "m": t.ids["Open Vector Zephyrine AB"]},
    ),
    "splitMerge": (
        "mutation ($id: Int!) { splitMerge(id: $id) { id splitAt } }",
        lambda t: {"id": t.merge},
    ),
    "addAlias": (
        'mutation ($node: ID!) { addAlias(node: $node, alias: "Canary Cell Aktiebolag") }',
        lambda t: {"node": t.ids["Canary Cell AB"]},
    ),
    "removeAlias": (
        'mutation ($node: ID!) { removeAlias(node: $node, alias: "LU") }',
        lambda t: {"node": t.ids["Lund University"]},
    ),
    "discardQuarantinedRecord": (
        "mutation ($id: Int!) { discardQuarantinedRecord(id: $id, "
        'reason: "never signed") { status } }',
        lambda t: {"id": t.quarantined},
    ),
    "requestReingest": (
        'mutation ($id: Int!) { requestReingest(id: $id, reason: "fixed again") { status } }',
        lambda t: {"id": t.quarantined},
    ),
    "editCuratedFields": (
        "mutation ($node: ID!, $values: JSON!) { editCuratedFields(node: $node, "
        'values: $values, reason: "from the protocol") { id } }',
        lambda t: {"node": t.ids["NCT09990001"], "values": {"acronym": "CANARY"}},
    ),
    "clearCuratedFields": (
        "mutation ($node: ID!) { clearCuratedFields(node: $node, fields: "
        '["title"], reason: "the registry is right") { id } }',
        lambda t: {"node": t.ids["NCT09990001"]},
    ),
    # The world's jobs file names ctgov (tests/api/permission_world.py).
    "runIngest": (
        'mutation { runIngest(feed: "ctgov") { id status } }',
        lambda t: {},
    ),
}

NAMES = """{
  institutions(first: 100) { nodes { id name } }
  facilities(first: 100) { nodes { id name } }
  trials(first: 100) { nodes { id nctId } }
}"""
EARLIER = {
    "merged by mistake": (
        'mutation ($s: ID!, $m: ID!) { mergeNodes(survivor: $s, merged: $m, reason: "looked '
        'alike") { id } }'
    ),
    "a title curated": (
        'mutation ($node: ID!) { editCuratedFields(node: $node, values: {title: "STEM-PD '
        'canary"}, reason: "the registry has it wrong") { id } }'
    ),
}


@pytest.fixture
def world(reference_engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    with build_world(reference_engine, database_url, tmp_path) as built:
        yield built


@pytest.fixture
def targets(world: World) -> Targets:
    """The nodes by name, and what an admin did earlier."""
    admin = GraphQLClient(world.clients["admin"])
    found = admin.execute(NAMES)
    ids = {node["name"]: node["id"] for node in found["institutions"]["nodes"]}
    ids |= {node["name"]: node["id"] for node in found["facilities"]["nodes"]}
    ids |= {node["nctId"]: node["id"] for node in found["trials"]["nodes"]}
    merged = admin.execute(
        EARLIER["merged by mistake"],
        {"s": ids["Lund Stem Cell Center"], "m": ids["ATMP centre at Skåne University Hospital"]},
    )
    admin.execute(EARLIER["a title curated"], {"node": ids["NCT09990001"]})
    return Targets(ids, world.suggestion, merged["mergeNodes"]["id"], world.quarantined)


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order: what a refused call must leave as it was."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    sa.select(table).order_by(*(table.primary_key.columns or table.columns))
                )
            ]
            for table in m.Base.metadata.sorted_tables
        }


def _audit_log(engine: Engine) -> list[m.AuditEntry]:
    with Session(engine) as session:
        return list(session.scalars(sa.select(m.AuditEntry).order_by(m.AuditEntry.id)))


def _call(world: World, viewer: str, targets: Targets, mutation: str) -> Any:
    document, variables = CALLS[mutation]
    return world.clients[viewer].post(
        "/graphql", json={"query": document, "variables": variables(targets)}
    )


def test_the_table_names_every_mutation_of_the_schema(world: World) -> None:
    introspected = GraphQLClient(world.clients["anonymous"]).execute(
        "{ __schema { mutationType { fields { name } } } }"
    )

    names = [field["name"] for field in introspected["__schema"]["mutationType"]["fields"]]
    assert sorted(names) == sorted(MAY_RUN) == sorted(CALLS)


@pytest.mark.parametrize(
    ("mutation", "allowed"),
    [(mutation, viewer) for mutation, may in MAY_RUN.items() for viewer in sorted(may)],
)
def test_each_viewer_runs_a_mutation_exactly_as_the_table_says(
    world: World, targets: Targets, mutation: str, allowed: str
) -> None:
    """Those the table refuses, in turn: each is turned away and nothing changes, the audit
    log included; then one it allows runs the same call, and one audit entry names the key."""
    earlier, before = _audit_log(world.engine), _snapshot(world.engine)
    refused = REFUSED_TO_ALL_BUT_ADMINS if MAY_RUN[mutation] == ADMINS else REFUSED
    for viewer in [viewer for viewer in VIEWERS if viewer not in MAY_RUN[mutation]]:
        response = _call(world, viewer, targets, mutation)
        assert response.status_code == 403, (viewer, response.text)
        assert answer(response) == {"errors": [refused]}, viewer
        assert _snapshot(world.engine) == before, viewer

    response = _call(world, allowed, targets, mutation)

    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    assert body["data"][mutation] is not None
    assert _snapshot(world.engine) != before
    written = _audit_log(world.engine)[len(earlier) :]
    assert [(e.operation, e.key_id, e.role) for e in written] == [
        (mutation, world.key_ids[allowed], ROLES[allowed])
    ]
    assert written[0].who.startswith(f"key {world.key_ids[allowed]} ({allowed} of institution ")


# A partner's ways of writing rejectMatch, each of which must meet the same refusal.
SHAPES = {
    "under an alias": {"query": "mutation ($id: Int!) { yes: rejectMatch(id: $id) { id } }"},
    "after __typename": {
        "query": "mutation ($id: Int!) { __typename rejectMatch(id: $id) { id } }"
    },
    "in a fragment": {
        "query": "mutation ($id: Int!) { ...R }\n"
        "fragment R on Mutation { rejectMatch(id: $id) { id } }"
    },
    "in an inline fragment": {
        "query": "mutation ($id: Int!) { ... on Mutation { rejectMatch(id: $id) { id } } }"
    },
    "chosen by operationName next to a query": {
        "query": "query Q { __typename }\nmutation M($id: Int!) { rejectMatch(id: $id) { id } }",
        "operationName": "M",
    },
    "under @include": {
        "query": "mutation ($id: Int!) { rejectMatch(id: $id) @include(if: true) { id } }"
    },
}


def test_a_refused_mutation_is_refused_however_it_is_written(world: World) -> None:
    partner = world.clients["partner A"]
    before = _snapshot(world.engine)
    variables = {"id": world.suggestion}

    for shape, body in SHAPES.items():
        response = partner.post("/graphql", json={**body, "variables": variables})
        assert (response.status_code, answer(response)) == (403, {"errors": [REFUSED]}), shape
    by_get = partner.get(
        "/graphql", params={**SHAPES["under an alias"], "variables": json.dumps(variables)}
    )
    assert by_get.status_code == 405
    with partner.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": dict(partner.headers)})
        assert ws.receive_json()["type"] == "connection_ack"
        (document,) = SHAPES["under an alias"].values()
        ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": document, "variables": variables}}
        )
        message = ws.receive_json()
        assert (message["type"], message["payload"]["errors"]) == ("next", [REFUSED])

    assert _snapshot(world.engine) == before


@pytest.mark.parametrize("shape", ["under an alias", "in a fragment", "in an inline fragment"])
def test_a_mutation_for_admins_only_is_refused_to_a_curator_in_a_fragment_too(
    world: World, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    """Were rejectMatch for admins only, as runIngest is, a curator's fragment must not carry
    it past the refusal (the declaration changed here, as data, is the only change)."""
    monkeypatch.setitem(FIELD_TIERS, ("Mutation", "reject_match"), Tier.ADMIN)
    before = _snapshot(world.engine)

    response = world.clients["curator"].post(
        "/graphql", json={**SHAPES[shape], "variables": {"id": world.suggestion}}
    )

    assert response.status_code == 403, response.text
    assert answer(response) == {
        "errors": [
            {
                "message": "only admins may do this",
                "extensions": {"code": "FORBIDDEN", "tier": "admin"},
            }
        ]
    }
    assert _snapshot(world.engine) == before
