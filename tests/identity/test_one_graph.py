"""One node per real-world thing, where every value came from, and an admin who can fix a match.

The story: every built-in sample goes in; a frontend sees STEM-PD once, with the registry's
title and the partner's title side by side; an admin works through the review queue, merges
two products, finds the merge was wrong, splits it, and the next ingest leaves it split.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.identity.merging import split
from atmp_graph.identity.precedence import load_precedence
from atmp_graph.ingest import ingest
from atmp_graph.model import EntityMerge, Institution, TrialSite
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.manager import build_plugin_host
from benchmarks.exports import TRIALS_HEADER
from tests.conftest import GraphQLClient, admin_headers


@pytest.fixture
def admin(demo_engine: Engine, database_url: str) -> Iterator[GraphQLClient]:
    """An admin's GraphQL client over a fresh demo database of each kind."""
    settings = Settings(database_url=database_url)
    with TestClient(create_app(settings), headers=admin_headers(database_url)) as http:
        yield GraphQLClient(http)


def reingest(engine: Engine, *feeds: str) -> None:
    host = build_plugin_host(load_entry_points=False)
    for name in feeds:
        adapter = host.builtin_feeds()[name]
        ingest(engine, adapter, adapter.sample(), host=host, full=True)


STEM_PD = """{
  trial(registryId: "NCT05635409") {
    id title
    sources { feed sourceId }
    products { id name }
    provenance(fields: ["title", "phase", "sponsor"]) {
      field value rule conflicting claims { feed sourceId value chosen }
    }
  }
}"""


def test_a_trial_from_two_feeds_is_one_node_showing_the_registrys_title(gql: GraphQLClient) -> None:
    trial = gql.execute(STEM_PD)["trial"]

    assert trial["sources"] == [
        {"feed": "lund_skane", "sourceId": "CCTU0263"},
        {"feed": "ctgov", "sourceId": "NCT05635409"},
    ]
    phase, sponsor, title = trial["provenance"]
    assert [phase["field"], sponsor["field"], title["field"]] == ["phase", "sponsor", "title"]
    assert title["rule"] == "registry_first"
    assert title["conflicting"] is True
    assert [(c["feed"], c["chosen"]) for c in title["claims"]] == [
        ("ctgov", True),
        ("lund_skane", False),
    ]
    assert trial["title"] == title["value"] == title["claims"][0]["value"]
    assert title["claims"][1]["value"].startswith("STEM-PD: säkerhet")
    # Both say phase 1; "Region Skane" and "Region Skåne" are one institution: no conflict.
    assert (phase["conflicting"], phase["value"]) == (False, "PHASE1")
    assert sponsor["conflicting"] is False
    assert {c["value"]["name"] for c in sponsor["claims"]} == {"Region Skane", "Region Skåne"}


def test_conflicts_lists_the_real_disagreements_of_the_samples(gql: GraphQLClient) -> None:
    conflicts = gql.execute(
        """{ conflicts(first: 50) { totalCount nodes {
               entityType
               node { ... on ClinicalTrial { nctId } }
               fields { field claims { feed value } } } } }"""
    )["conflicts"]

    found = {
        (c["entityType"], c["node"]["nctId"], f["field"], tuple(x["feed"] for x in f["claims"]))
        for c in conflicts["nodes"]
        for f in c["fields"]
    }
    assert found == {("clinical_trial", "NCT05635409", "title", ("ctgov", "lund_skane"))}
    assert conflicts["totalCount"] == 1


@pytest.mark.parametrize(
    ("name", "feeds"),
    [
        ("Leiden University Medical Center", {"collaboration"}),
        ("Nordic Cell Process AB", {"lund_skane", "lumc"}),
    ],
)
def test_an_institution_named_by_several_feeds_is_one_node(
    gql: GraphQLClient, name: str, feeds: set[str]
) -> None:
    found = gql.execute(
        """query ($name: String!) { institutions(filter: {search: $name}) { nodes {
               name sources { feed } companyPartnerships { code } } } }""",
        {"name": name},
    )["institutions"]["nodes"]

    assert [node["name"] for node in found] == [name]
    assert {source["feed"] for source in found[0]["sources"]} >= feeds


def test_nordic_cell_process_partners_with_both_sides(gql: GraphQLClient) -> None:
    (company,) = gql.execute(
        """{ institutions(filter: {search: "Nordic Cell"}) { nodes {
               companyPartnerships { code institutions { name } } } } }"""
    )["institutions"]["nodes"]

    sides = {i["name"] for p in company["companyPartnerships"] for i in p["institutions"]}
    assert {"Lund University", "Leiden University Medical Center"} <= sides


QUEUE = """{ matchSuggestions(filter: {status: {eq: PENDING}}) { nodes {
    id entityType reason node { id ... on Product { name } ... on Condition { name } }
    other { id ... on Product { name } ... on Condition { name } } } } }"""


def pending(client: GraphQLClient) -> dict[tuple[str, str], dict[str, Any]]:
    nodes = client.execute(QUEUE)["matchSuggestions"]["nodes"]
    return {(n["node"].get("name"), n["other"].get("name")): n for n in nodes}


def test_uncertain_matches_wait_in_the_review_queue(gql: GraphQLClient) -> None:
    queue = pending(gql)

    assert set(queue) == {
        ("Parkinsons sjukdom", "Parkinson Disease"),
        ("STEM-PD dopaminerga progenitorceller", "STEM-PD"),
        ("RAG1 LV CD34+ cells", "Gene therapy"),
    }
    assert "parkinson" in queue["Parkinsons sjukdom", "Parkinson Disease"]["reason"]
    assert "NCT05635409" in queue["STEM-PD dopaminerga progenitorceller", "STEM-PD"]["reason"]


def test_curation_needs_a_curators_or_admins_key(anonymous: GraphQLClient) -> None:
    response = anonymous.http.post(
        "/graphql", json={"query": "mutation { rejectMatch(id: 1) { status } }"}
    )

    assert response.status_code == 403
    assert response.json().get("data") is None
    assert response.json()["errors"][0]["message"] == "only curators and admins may see this"


def test_an_accepted_merge_can_be_split_and_stays_split(
    admin: GraphQLClient, demo_engine: Engine
) -> None:
    suggestion = pending(admin)["STEM-PD dopaminerga progenitorceller", "STEM-PD"]
    survivor, merged = suggestion["node"]["id"], suggestion["other"]["id"]

    merge = admin.execute(
        "mutation ($id: Int!) { acceptMatch(id: $id) { id survivor { id } mergedNodeId } }",
        {"id": suggestion["id"]},
    )["acceptMatch"]

    assert (merge["survivor"]["id"], merge["mergedNodeId"]) == (survivor, merged)
    trial = admin.execute(STEM_PD)["trial"]
    assert [p["name"] for p in trial["products"]] == ["STEM-PD dopaminerga progenitorceller"]
    # The merged-away id still finds the product it became part of.
    node = admin.execute("query ($id: ID!) { node(id: $id) { id } }", {"id": merged})["node"]
    assert node == {"id": survivor}
    names = admin.execute(
        'query ($id: ID!) { node(id: $id) { ... on Entity { provenance(fields: ["name"]) { '
        "value conflicting claims { feed value } } } } }",
        {"id": survivor},
    )["node"]["provenance"]
    assert names == [
        {
            "value": "STEM-PD dopaminerga progenitorceller",
            "conflicting": True,
            "claims": [
                {"feed": "lund_skane", "value": "STEM-PD dopaminerga progenitorceller"},
                {"feed": "ctgov", "value": "STEM-PD"},
            ],
        }
    ]

    split = admin.execute(
        "mutation ($id: Int!) { splitMerge(id: $id) { splitAt } }", {"id": int(merge["id"])}
    )["splitMerge"]
    assert split["splitAt"] is not None
    reingest(demo_engine, "lund_skane", "ctgov")

    trial = admin.execute(STEM_PD)["trial"]
    assert sorted(p["id"] for p in trial["products"]) == sorted([survivor, merged])
    assert ("STEM-PD dopaminerga progenitorceller", "STEM-PD") not in pending(admin)
    again = admin.post(
        "mutation ($id: Int!) { splitMerge(id: $id) { id } }", {"id": int(merge["id"])}
    )
    assert again["errors"][0]["message"] == f"merge {merge['id']} was split already"


def test_an_alias_an_admin_adds_finds_the_node_in_the_next_ingest(
    admin: GraphQLClient, demo_engine: Engine
) -> None:
    conditions = admin.execute(
        '{ conditions(filter: {search: "parkinson"}) { nodes { id name } } }'
    )
    by_name = {c["name"]: c["id"] for c in conditions["conditions"]["nodes"]}
    english, swedish = by_name["Parkinson Disease"], by_name["Parkinsons sjukdom"]

    taken = admin.post(
        'mutation ($id: ID!) { addAlias(node: $id, alias: "Parkinsons sjukdom") }', {"id": english}
    )
    assert "already names condition" in taken["errors"][0]["message"]

    admin.execute(
        "mutation ($a: ID!, $b: ID!) { mergeNodes(survivor: $a, merged: $b, "
        'reason: "one disease, two languages") { id } }',
        {"a": english, "b": swedish},
    )
    reingest(demo_engine, "lund_skane")

    trial = admin.execute('{ trial(registryId: "NCT05635409") { conditions { id name } } }')
    assert trial["trial"]["conditions"] == [{"id": english, "name": "Parkinson Disease"}]
    aliases = admin.execute(
        'mutation ($id: ID!) { removeAlias(node: $id, alias: "Parkinsons sjukdom") }',
        {"id": english},
    )["removeAlias"]
    assert aliases == ["Parkinson Disease"]


def test_a_split_of_a_merge_an_ingest_made_survives_the_next_change(
    engine: Engine, tmp_path: Path
) -> None:
    """Lund/Skåne names "Lund Stem Cell Center" as a project lead before the reference data
    says it is Lund University's centre: the two merge. An admin who splits them (the centre
    is to be an institution of its own) keeps them split when the reference data changes."""
    reingest(engine, "lund_skane", "collaboration")
    with Session(engine) as session, session.begin():
        merges = session.scalars(select(EntityMerge)).all()
        (absorbed,) = [m for m in merges if m.snapshot["merged"]["name"] == "Lund Stem Cell Center"]
        centre_id = absorbed.merged_id
        split(session, absorbed.id, precedence=load_precedence())

    exported = sample_path("collaboration") / "collaboration.json"
    reference = json.loads(exported.read_text(encoding="utf-8"))
    (centre,) = [f for f in reference["facilities"] if f["key"] == "lund-stem-cell-center"]
    centre["note"] = "a new description, so that the record is written again"
    changed = tmp_path / "collaboration.json"
    changed.write_text(json.dumps(reference), encoding="utf-8")
    host = build_plugin_host(load_entry_points=False)
    report = ingest(engine, host.builtin_feeds()["collaboration"], changed, host=host)

    assert report.updated == 1
    with Session(engine) as session:
        institution = session.get(Institution, centre_id)
        assert institution is not None
        assert institution.name == "Lund Stem Cell Center"


@pytest.mark.parametrize("first", ["site", "sponsor"])
def test_a_site_is_placed_at_an_institution_whichever_came_first(
    engine: Engine, tmp_path: Path, first: str
) -> None:
    """One export names "Kliniken Nord" as a trial site, a later one as a sponsor too: the
    site belongs to that institution, as it would had the sponsor come first."""
    exports = {
        "site": "T-1;NCT90000001;;First trial;I;Rekryterar;Region Skåne;10;;;Kliniken Nord, Malmö;",
        "sponsor": "T-2;NCT90000002;;Second trial;I;Rekryterar;Kliniken Nord;10;;;;",
    }
    host = build_plugin_host(load_entry_points=False)
    order = [first, *(name for name in exports if name != first)]
    for count, name in enumerate(order, start=1):
        directory = tmp_path / name
        directory.mkdir()
        # The later export has the earlier trial too: the feed's export is all it has.
        rows = "".join(f"{exports[earlier]}\n" for earlier in order[:count])
        (directory / "trials.csv").write_text(f"{TRIALS_HEADER}\n{rows}", encoding="utf-8-sig")
        ingest(engine, host.builtin_feeds()["lund_skane"], directory, host=host)

    with Session(engine) as session:
        placed = session.execute(
            select(TrialSite.name, Institution.name).join(
                Institution, Institution.id == TrialSite.institution_id, isouter=True
            )
        ).all()
    assert [tuple(row) for row in placed] == [("Kliniken Nord", "Kliniken Nord")]
