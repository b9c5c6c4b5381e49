"""Someone looks for a word and finds the trials, projects, products, institutions,
partnerships, people and conditions that hold it, best first, on SQLite and PostgreSQL alike.

The demo data answers the read-only stories; the others ingest small feeds of their own and
then change them (a new record, a retired one, a curator's edit, a merge and its split) to see
the index follow at once.  A canary in a confidential field, and a title that lost to the
registry's, are never found.
"""

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

import atmp_graph.model as m
from atmp_graph.access.viewer import Tier
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from atmp_graph.ingest import ingest
from atmp_graph.model import search_index
from atmp_graph.model.database import alembic_config, make_engine, upgrade
from atmp_graph.model.search_documents import FIELDS, KINDS
from atmp_graph.model.search_query import START, STOP
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lumc import LumcFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.schema import visibility
from atmp_graph.schema.mapping import global_id
from atmp_graph.schema.search import LISTED_AS, SearchType, fragment
from atmp_graph.schema.visibility import FIELD_TIERS, PUBLIC, TYPE_TIERS
from benchmarks.exports import TRIALS_HEADER
from tests.api.conftest import clients_of
from tests.conftest import POSTGRES_URL, GraphQLClient, api_key
from tests.databases import migrate
from tests.ingest.json_feed import JsonTrials, write_trials

SEARCH = """
query Search($query: String!, $types: [SearchType!], $first: Int, $after: String) {
  search(query: $query, types: $types, first: $first, after: $after) {
    totalCount
    counts { type count }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges {
      cursor
      node {
        type
        score
        highlights { field fragment }
        node {
          id
          ... on ClinicalTrial { title }
          ... on Project { title }
          ... on Product { name }
          ... on Institution { name }
          ... on Partnership { code }
          ... on Person { name }
          ... on Condition { name }
        }
      }
    }
  }
}"""


def _search(client: GraphQLClient, query: str, **variables: Any) -> dict[str, Any]:
    return dict(client.execute(SEARCH, {"query": query, **variables})["search"])


def _label(hit: dict[str, Any]) -> tuple[str, str]:
    node = hit["node"]
    return hit["type"], node.get("title") or node.get("name") or node["code"]


def _hits(found: dict[str, Any]) -> list[tuple[str, str]]:
    return [_label(edge["node"]) for edge in found["edges"]]


PARKINSON_DISEASE = ("CONDITION", "Parkinson Disease")
STEM_PD_TRIAL = (
    "CLINICAL_TRIAL",
    "A Trial to Determine the Safety and Tolerability of Transplanted Stem Cell Derived "
    "Dopamine Neurons to the Brains of Individuals With Parkinson's Disease",
)
SKANE = [
    ("INSTITUTION", "Region Skåne"),
    ("INSTITUTION", "Skåne University Hospital"),
    ("PROJECT", "ATMP-centrum vid Skånes universitetssjukhus"),
]

# The best hits, in order, that both databases give for the demo data.
TOP_HITS = {
    # Short names that are all match first.
    "parkinson": [PARKINSON_DISEASE],
    # Accents need not be typed, nor may they hurt.
    "Skåne": SKANE,
    "skane": SKANE,
    "renstrom": [("PERSON", "Erik Renström")],
    # Swedish stems: blodsjukdom is what blodsjukdomar stems to.
    "blodsjukdom": [("PROJECT", "Genterapi för ärftliga blodsjukdomar")],
    # An id: the node whose field it is comes first.
    "NCT05635409": [STEM_PD_TRIAL],
    "LU-P-0001": [("PROJECT", "Stamcellsbaserad dopaminersättning vid Parkinsons sjukdom")],
    "012a77v79": [("INSTITUTION", "Lund University")],
    "genterapi": [
        ("PRODUCT", "Lentiviral genterapi för hemoglobinopatier"),
        ("PROJECT", "Genterapi för ärftliga blodsjukdomar"),
        ("PROJECT", "Forskarutbyte Lund–Leiden inom cell- och genterapi"),
    ],
    "lund university": [("INSTITUTION", "Lund University")],
}


@pytest.mark.parametrize("query", TOP_HITS)
def test_the_best_hits_are_the_same_on_both_databases(anonymous: GraphQLClient, query: str) -> None:
    expected = TOP_HITS[query]

    assert _hits(_search(anonymous, query))[: len(expected)] == expected


def test_every_hit_for_parkinson_with_the_word_marked(anonymous: GraphQLClient) -> None:
    found = _search(anonymous, "parkinson")

    assert found["totalCount"] == 4
    assert set(_hits(found)) == {
        PARKINSON_DISEASE,
        ("CONDITION", "Parkinsons sjukdom"),
        ("PROJECT", "Stamcellsbaserad dopaminersättning vid Parkinsons sjukdom"),
        STEM_PD_TRIAL,
    }
    highlights = {_label(e["node"]): e["node"]["highlights"] for e in found["edges"]}
    assert highlights[PARKINSON_DISEASE] == [
        {"field": "name", "fragment": "<mark>Parkinson</mark> Disease"}
    ]
    assert highlights[("CONDITION", "Parkinsons sjukdom")] == [
        {"field": "name", "fragment": "<mark>Parkinsons</mark> sjukdom"}
    ]
    assert highlights[STEM_PD_TRIAL] == [
        {
            "field": "title",
            "fragment": "A Trial to Determine the Safety and Tolerability of Transplanted Stem "
            "Cell Derived Dopamine Neurons to the Brains of Individuals With "
            "<mark>Parkinson</mark>&#x27;s Disease",
        }
    ]
    scores = [edge["node"]["score"] for edge in found["edges"]]
    assert scores == sorted(scores, reverse=True)


def test_highlights_name_each_field_that_matched(anonymous: GraphQLClient) -> None:
    (hit, *_) = [e["node"] for e in _search(anonymous, "skane")["edges"]]

    assert hit["highlights"] == [
        {"field": "name", "fragment": "Region <mark>Skåne</mark>"},
        {"field": "aliases", "fragment": "Region <mark>Skane</mark>"},
    ]
    (project,) = [e["node"] for e in _search(anonymous, "LU-P-0001")["edges"]]
    assert project["highlights"] == [{"field": "code", "fragment": "<mark>LU-P-0001</mark>"}]


def test_every_word_must_match_somewhere(anonymous: GraphQLClient) -> None:
    assert set(_hits(_search(anonymous, "parkinson sjukdom"))) == {
        ("CONDITION", "Parkinsons sjukdom"),
        ("PROJECT", "Stamcellsbaserad dopaminersättning vid Parkinsons sjukdom"),
    }
    assert _search(anonymous, "parkinson lymfom")["totalCount"] == 0


def test_types_narrow_the_hits_and_counts_stay_for_every_kind(anonymous: GraphQLClient) -> None:
    everything = _search(anonymous, "parkinson")
    projects = _search(anonymous, "parkinson", types=["PROJECT", "CLINICAL_TRIAL"])

    assert {hit[0] for hit in _hits(projects)} == {"PROJECT", "CLINICAL_TRIAL"}
    assert projects["totalCount"] == 2
    assert projects["counts"] == everything["counts"]
    assert everything["counts"] == [
        {
            "type": kind.name,
            "count": {"CLINICAL_TRIAL": 1, "PROJECT": 1, "CONDITION": 2}.get(kind.name, 0),
        }
        for kind in SearchType
    ]
    assert sum(c["count"] for c in everything["counts"]) == everything["totalCount"]
    assert _search(anonymous, "parkinson", types=[])["totalCount"] == 0


@pytest.mark.parametrize("page", [1, 2, 3])
def test_paging_through_every_hit_gives_the_order_of_one_page(
    anonymous: GraphQLClient, page: int
) -> None:
    whole = _search(anonymous, "cell", first=100)
    assert whole["totalCount"] > 5
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        found = _search(anonymous, "cell", first=page, after=after)
        paged += found["edges"]
        assert found["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]

    assert [e["node"]["node"]["id"] for e in paged] == [
        e["node"]["node"]["id"] for e in whole["edges"]
    ]
    assert len(paged) == whole["totalCount"]


def _errors(client: GraphQLClient, query: str, **variables: Any) -> list[dict[str, Any]]:
    body = client.post(SEARCH, {"query": query, **variables})
    assert body["data"] is None
    return list(body["errors"])


CURSOR_OF_ANOTHER_SEARCH = "<a cursor of the search for 'parkinson'>"


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        ("", {}, "query: give at least one word (letters or digits) to search for"),
        ("   ", {}, "query: give at least one word (letters or digits) to search for"),
        ("&& || !", {}, "query: give at least one word (letters or digits) to search for"),
        ("park\x00inson", {}, "query: holds a NUL character"),
        ("a" * 1001, {}, "query: 1001 characters, more than the 1000 this argument takes"),
        (" ".join(["cell"] * 33), {}, "query: 33 words, more than the 32 a search takes"),
        ("cell", {"first": 101}, "first: 101 is not between 0 and 100"),
        ("cell", {"first": -1}, "first: -1 is not between 0 and 100"),
        ("cell", {"after": "bm90IGEgY3Vyc29y"}, "after: 'bm90IGEgY3Vyc29y' is not a cursor "
         "from this API's search"),
        ("cell", {"after": "%%%"}, "after: '%%%' is not a cursor from this API's search"),
        ("cell", {"after": CURSOR_OF_ANOTHER_SEARCH}, "is a cursor of another search"),
    ],
)  # fmt: skip
def test_bad_input_gets_one_clear_sentence(
    anonymous: GraphQLClient, query: str, variables: dict[str, Any], message: str
) -> None:
    if variables.get("after") == CURSOR_OF_ANOTHER_SEARCH:
        variables = {"after": _search(anonymous, "parkinson", first=1)["pageInfo"]["endCursor"]}

    (error,) = _errors(anonymous, query, **variables)

    assert message in error["message"]
    assert error["path"] == ["search"]
    _no_engine_text(json.dumps(error))


def test_a_long_text_is_cut_around_its_first_match_at_words() -> None:
    words = [f"word{n}" for n in range(60)]
    words[30] = f"{START}Parkinson{STOP}"

    shown = fragment(" ".join(words) + " <b>", room=80)

    assert shown == (
        "…word28 word29 <mark>Parkinson</mark> word31 word32 word33 word34 word35 word36 "
        "word37 word38…"
    )
    assert fragment(f"{START}<b>{STOP} & x") == "<mark>&lt;b&gt;</mark> &amp; x"
    assert fragment("nothing marked") is None


def _no_engine_text(text: str) -> None:
    for word in ("SELECT", "sqlite", "psycopg", "fts5", "tsquery", "syntax", "Traceback"):
        assert word.lower() not in text.lower(), text


@pytest.mark.parametrize(
    "query",
    [
        '"parkinson', 'parkinson"', '"', "'parkinson'", "parkinson & dopamin", "parkinson | x",
        "!parkinson", "parkinson:*", "parkinson*", "(parkinson", "parkinson)", "()", "NEAR(a b)",
        "AND", "OR parkinson", "NOT", "-parkinson", "parkinson^", "col:parkinson", "\\", "a''b",
        "{x}", "[x]", "<->", "parkinson <-> dopamin", "+x", "x.y", "%", "_", "*",
    ],
)  # fmt: skip
def test_query_syntax_characters_are_only_text(anonymous: GraphQLClient, query: str) -> None:
    body = anonymous.post(SEARCH, {"query": query})

    _no_engine_text(json.dumps(body))
    if body.get("errors"):
        (error,) = body["errors"]
        assert error["message"].startswith("query: give at least one word"), error
    else:
        assert body["data"]["search"]["totalCount"] >= 0


def test_the_cost_counts_each_hit_of_the_page(anonymous: GraphQLClient) -> None:
    query = '{ search(query: "cell", first: 50) { hits { score highlights { field } } } }'
    response = anonymous.http.post("/graphql", json={"query": query})

    # search: 1 + 50 × (hits: 1 + score 1 + highlights: 1 + 10 assumed × field 1)
    assert response.json()["extensions"]["cost"]["requested"] == 1 + 50 * (1 + 1 + (1 + 10))


def test_a_hits_node_has_all_its_fields(anonymous: GraphQLClient) -> None:
    query = """{ search(query: "NCT05635409", first: 1) { hits { node {
      ... on ClinicalTrial { nctId acronym phase sponsor { name } sites { name } } } } } }"""

    (hit,) = anonymous.execute(query)["search"]["hits"]

    assert hit["node"]["acronym"] == "STEM-PD"
    assert hit["node"]["sponsor"] == {"name": "Region Skåne"}
    assert len(hit["node"]["sites"]) == 2


# -- what each viewer may find ---------------------------------------------------------------


def test_every_indexed_field_is_public() -> None:
    """A highlight shows an indexed field's text: each must be one anyone may read."""
    kinds = {kind.entity_type: kind for kind in KINDS}
    for search_type, (type_name, list_field) in LISTED_AS.items():
        assert TYPE_TIERS[type_name] is PUBLIC
        assert FIELD_TIERS.get(("Query", list_field), PUBLIC) is PUBLIC
        for name in kinds[search_type.value].fields:
            assert name in FIELDS
            assert FIELD_TIERS.get((type_name, name), PUBLIC) is PUBLIC, (type_name, name)
    assert not {"terms", "value_amount", "currency", "confidential"} & set(FIELDS)


def test_a_kind_the_viewer_may_not_list_is_never_a_hit(
    anonymous: GraphQLClient, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permissions are data: were people listed for curators only, anonymous callers would
    find none of them, nor count them."""
    monkeypatch.setitem(visibility.FIELD_TIERS, ("Query", "people"), Tier.CURATOR)

    hidden = _search(anonymous, "renstrom")
    shown = _search(gql, "renstrom")

    assert (hidden["totalCount"], hidden["edges"]) == (0, [])
    assert "PERSON" not in {count["type"] for count in hidden["counts"]}
    assert _hits(shown) == [("PERSON", "Erik Renström")]


SECRET_AMOUNT, LOSING_TITLE = "7314159", "canary-title-3b7d"
PARTNERSHIPS = [
    "Avtals-ID;Företag;Organisationsnummer;Avtalstyp;Start;Slut;Status;Projekt-ID;"
    "Avtalsvärde (SEK);Konfidentiellt",
    f"LU-A-901;Canary Cell AB;556900-0001;Licensavtal;2024-01-01;;Aktivt;;{SECRET_AMOUNT};Ja",
]
TRIAL = f"LU-T-901;NCT09990001;;{LOSING_TITLE};I;Rekryterar;Region Skåne;10;;;;2024-01-01"
STUDY = {
    "protocolSection": {
        "identificationModule": {"nctId": "NCT09990001", "briefTitle": "The registry's title"},
        "statusModule": {"overallStatus": "RECRUITING"},
    }
}


@pytest.fixture
def canaries(
    reference_engine: Engine, database_url: str, tmp_path: Path
) -> Iterator[dict[str, GraphQLClient]]:
    """A confidential amount, and a Lund/Skåne title the registry's outranks."""
    export = tmp_path / "partnerships"
    export.mkdir()
    (export / "partnerships.csv").write_text("\n".join(PARTNERSHIPS) + "\n", "utf-8-sig")
    assert ingest(reference_engine, LundSkaneFeed(), str(export)).created == 1
    trials = tmp_path / "trials"
    trials.mkdir()
    (trials / "trials.csv").write_text("\n".join([TRIALS_HEADER, TRIAL]) + "\n", "utf-8-sig")
    assert ingest(reference_engine, LundSkaneFeed(), str(trials)).created == 1
    (tmp_path / "NCT09990001.json").write_text(json.dumps(STUDY), "utf-8")
    assert ingest(reference_engine, CtGovFeed(), str(tmp_path / "NCT09990001.json")).created == 1
    app = create_app(Settings(database_url=database_url))
    admin = {"Authorization": f"Bearer {api_key(database_url, Role.ADMIN)}"}
    with clients_of(app, {}, {"headers": admin}) as (anonymous, party):
        yield {"anonymous": GraphQLClient(anonymous), "admin": GraphQLClient(party)}


def test_a_confidential_amount_and_a_losing_title_are_never_found(
    canaries: dict[str, GraphQLClient],
) -> None:
    for viewer, client in canaries.items():
        for canary in (SECRET_AMOUNT, f"{SECRET_AMOUNT}.00", LOSING_TITLE):
            assert _search(client, canary)["totalCount"] == 0, (viewer, canary)
        # What is public about them is found, and says nothing more.
        found = client.post(SEARCH, {"query": "canary"})
        assert _hits(found["data"]["search"]) == [
            ("INSTITUTION", "Canary Cell AB"),
            ("PARTNERSHIP", "LU-A-901"),
        ]
        assert SECRET_AMOUNT not in json.dumps(found)
        registry = _search(client, "NCT09990001")
        assert _hits(registry) == [("CLINICAL_TRIAL", "The registry's title")]
        assert LOSING_TITLE not in json.dumps(registry)


# -- the index follows every change ----------------------------------------------------------

FIRST = {
    "id": "T1",
    "title": "Lentiviral vector for sickle cell",
    "updated": "2026-01-01T08:00:00Z",
}
SECOND = {"id": "T2", "title": "Thymus tissue engineering", "updated": "2026-01-02T08:00:00Z"}


@pytest.fixture
def clients(database_url: str, engine: Engine) -> Iterator[dict[str, GraphQLClient]]:
    app = create_app(Settings(database_url=database_url))
    curator = {"Authorization": f"Bearer {api_key(database_url, Role.CURATOR)}"}
    with clients_of(app, {}, {"headers": curator}) as (anonymous, curating):
        yield {"anonymous": GraphQLClient(anonymous), "curator": GraphQLClient(curating)}


def _trial(engine: Engine, source_id: str) -> str:
    with Session(engine) as session:
        trial_id = session.scalar(
            sa.select(m.EntitySource.entity_id)
            .join(m.SourceRecord)
            .where(m.SourceRecord.feed == "json_trials", m.SourceRecord.source_id == source_id)
        )
    assert trial_id is not None
    return str(global_id("clinical_trial", trial_id))


def test_a_new_record_is_found_at_once_and_a_retired_one_no_more(
    engine: Engine, clients: dict[str, GraphQLClient], tmp_path: Path
) -> None:
    anonymous, export = clients["anonymous"], tmp_path / "trials.json"
    ingest(engine, JsonTrials(), write_trials(export, FIRST))
    assert _hits(_search(anonymous, "thymus")) == []

    ingest(engine, JsonTrials(), write_trials(export, FIRST, SECOND))
    assert _hits(_search(anonymous, "thymus")) == [("CLINICAL_TRIAL", SECOND["title"])]

    gone = {"id": "T2", "updated": "2026-01-03T08:00:00Z", "deleted": True}
    report = ingest(engine, JsonTrials(), write_trials(export, FIRST, SECOND, gone))
    assert report.deleted == 1
    assert _search(anonymous, "thymus")["totalCount"] == 0
    back = {**SECOND, "updated": "2026-01-04T08:00:00Z"}
    ingest(engine, JsonTrials(), write_trials(export, FIRST, back))
    assert _hits(_search(anonymous, "thymus")) == [("CLINICAL_TRIAL", SECOND["title"])]


EDIT = """mutation ($node: ID!, $values: JSON!) {
  editCuratedFields(node: $node, values: $values, reason: "the protocol says so") { id } }"""


def test_a_curators_edit_a_merge_and_its_split_are_searched_at_once(
    engine: Engine, clients: dict[str, GraphQLClient], tmp_path: Path
) -> None:
    anonymous, curator = clients["anonymous"], clients["curator"]
    ingest(engine, JsonTrials(), write_trials(tmp_path / "trials.json", FIRST, SECOND))
    first, second = _trial(engine, "T1"), _trial(engine, "T2")

    curator.execute(EDIT, {"node": first, "values": {"title": "Lentiviral vector for thalassemia"}})
    assert _hits(_search(anonymous, "thalassemia")) == [
        ("CLINICAL_TRIAL", "Lentiviral vector for thalassemia")
    ]
    assert _search(anonymous, "sickle")["totalCount"] == 0

    merge = curator.execute(
        'mutation ($s: ID!, $m: ID!) { mergeNodes(survivor: $s, merged: $m, reason: "same") '
        "{ id } }",
        {"s": first, "m": second},
    )["mergeNodes"]
    # The merged-away trial is no hit; the survivor keeps the curated title.
    assert _search(anonymous, "thymus")["totalCount"] == 0
    assert _ids(_search(anonymous, "thalassemia")) == [first]

    curator.execute("mutation ($id: Int!) { splitMerge(id: $id) { id } }", {"id": merge["id"]})
    assert _ids(_search(anonymous, "thymus")) == [second]
    assert _ids(_search(anonymous, "thalassemia")) == [first]


def _ids(found: dict[str, Any]) -> list[str]:
    return [edge["node"]["node"]["id"] for edge in found["edges"]]


def test_an_alias_added_finds_its_institution(
    reference_engine: Engine, clients: dict[str, GraphQLClient]
) -> None:
    anonymous, curator = clients["anonymous"], clients["curator"]
    (lumc,) = _search(anonymous, "05xvt9f17")["edges"]
    assert _search(anonymous, "Leids Universitair")["totalCount"] == 0

    curator.execute(
        'mutation ($n: ID!) { addAlias(node: $n, alias: "Leids Universitair Medisch Centrum") }',
        {"n": lumc["node"]["node"]["id"]},
    )

    (found,) = _search(anonymous, "leids universitair")["edges"]
    assert found["node"]["node"]["id"] == lumc["node"]["node"]["id"]
    # Leids and Leiden share a stem.
    alias = "LUMC | <mark>Leiden</mark> University Medical Center (LUMC) | <mark>Leids</mark> "
    alias += "<mark>Universitair</mark> Medisch Centrum"
    assert {"field": "aliases", "fragment": alias} in found["node"]["highlights"]


DUTCH_PROJECT = {
    "id": "LUMC-PRJ-77",
    "name": "Behandeling van erfelijke bloedziekten met gentherapie",
    "theme": "research",
    "status": "active",
    "from": "01-01-2025",
    "partners": [],
}


def test_a_dutch_record_is_found_by_another_form_of_its_words(
    reference_engine: Engine, clients: dict[str, GraphQLClient], tmp_path: Path
) -> None:
    export = tmp_path / "export.json"
    export.write_text(
        json.dumps(
            {
                "source": "LUMC research administration",
                "exportedAt": "2026-11-20T06:00:00+01:00",
                "studies": [],
                "products": [],
                "projects": [DUTCH_PROJECT],
                "collaborations": [],
            }
        ),
        "utf-8",
    )
    assert ingest(reference_engine, LumcFeed(), str(export)).created == 1

    # bloedziekte (one disease) and bloedziekten (diseases) are one Dutch stem.
    for query in ("bloedziekte", "erfelijk bloedziekte"):
        assert _hits(_search(clients["anonymous"], query)) == [
            ("PROJECT", DUTCH_PROJECT["name"])
        ], query


# -- the migration and the database it runs on -------------------------------------------------

BEFORE_SEARCH = "0013"  # the revision before search's own (0014_search)


def test_the_migration_indexes_what_the_database_already_holds(database_url: str) -> None:
    """A database that held its records before search came (today's code ingests them, then
    the migrations after search's are undone, and search's with them)."""
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
        command.downgrade(alembic_config(database_url), BEFORE_SEARCH)
        with engine.connect() as connection:
            assert search_index.missing_triggers(connection) == search_index.trigger_names()

        upgrade(database_url)

        with TestClient(create_app(Settings(database_url=database_url))) as http:
            assert _hits(_search(GraphQLClient(http), "renstrom")) == [("PERSON", "Erik Renström")]
        with engine.connect() as connection:
            assert search_index.missing_triggers(connection) == set()
    finally:
        engine.dispose()


def test_a_lost_trigger_is_put_back_by_the_next_upgrade(engine: Engine, database_url: str) -> None:
    """SQLite's batch migrations re-create a table without its triggers."""
    name = sorted(search_index.trigger_names())[0]
    table = name.removeprefix("search_index_").rsplit("_", 1)[0]
    on = f" ON {table}" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TRIGGER {name}{on}"))
        assert search_index.missing_triggers(connection) == {name}

    upgrade(database_url)

    with engine.connect() as connection:
        assert search_index.missing_triggers(connection) == set()


def test_without_the_unaccent_extension_accents_must_be_typed_until_it_comes(
    postgres_problem: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """A role that may not create extensions gets an index all the same, and a warning; once a
    superuser creates `unaccent`, the next upgrade rebuilds the index with it."""
    if postgres_problem:
        pytest.skip(f"PostgreSQL is unreachable: {postgres_problem}")
    name = f"atmp_noext_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        connection.execute(sa.text(f'CREATE ROLE "{name}" LOGIN'))
    superuser = sa.create_engine(
        sa.make_url(POSTGRES_URL).set(database=name), isolation_level="AUTOCOMMIT"
    )
    url = sa.make_url(POSTGRES_URL).set(
        username=name, database=name, query={"options": "-csearch_path=app"}
    )
    try:
        with superuser.connect() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA app AUTHORIZATION "{name}"'))
        with caplog.at_level(logging.WARNING, logger="atmp_graph.search"):
            upgrade(url)
        assert "the unaccent extension could not be created" in caplog.text
        engine = make_engine(url)
        ingest(engine, CollaborationFeed(), CollaborationFeed().sample())
        with engine.connect() as connection:
            assert not search_index.unaccented(connection)
        settings = Settings(database_url=url.render_as_string(hide_password=False))
        with TestClient(create_app(settings)) as http:
            assert _search(GraphQLClient(http), "renstrom")["totalCount"] == 0
            assert _hits(_search(GraphQLClient(http), "Renström")) == [("PERSON", "Erik Renström")]

        with superuser.connect() as connection:
            connection.execute(sa.text("CREATE EXTENSION unaccent SCHEMA public"))
        upgrade(url)

        with engine.connect() as connection:
            assert search_index.unaccented(connection)
        with TestClient(create_app(settings)) as http:
            assert _hits(_search(GraphQLClient(http), "renstrom")) == [("PERSON", "Erik Renström")]
        engine.dispose()
    finally:
        superuser.dispose()
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{name}"'))
        server.dispose()
