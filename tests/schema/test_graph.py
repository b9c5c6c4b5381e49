"""Relay nodes, connections and relations over HTTP, on the demo data."""

import base64

import pytest
from starlette.testclient import TestClient

from atmp_graph.enums import Role
from tests.conftest import GraphQLClient, api_key


def _ids(gql: GraphQLClient, field: str) -> list[str]:
    data = gql.execute(f"{{ {field}(first: 100) {{ nodes {{ id }} }} }}")
    return [node["id"] for node in data[field]["nodes"]]


@pytest.mark.parametrize(
    ("field", "type_name", "count"),
    [
        ("agreements", "Agreement", 1),
        ("institutions", "Institution", 12),
        ("facilities", "Facility", 8),
        ("people", "Person", 3),
        ("projects", "Project", 8),
        ("products", "Product", 10),
        ("trials", "ClinicalTrial", 3),
        ("partnerships", "Partnership", 5),
        ("conditions", "Condition", 8),
        ("exchanges", "Exchange", 2),
        ("educationActivities", "EducationActivity", 2),
        ("ingestRuns", "IngestRun", 4),
    ],
)
def test_every_list_is_a_connection_whose_nodes_resolve_by_id(
    gql: GraphQLClient, field: str, type_name: str, count: int
) -> None:
    ids = _ids(gql, field)
    assert len(ids) == count
    assert gql.execute(f"{{ {field} {{ totalCount }} }}")[field]["totalCount"] == count

    data = gql.execute("query($id: ID!) { node(id: $id) { __typename id } }", {"id": ids[-1]})

    assert data["node"] == {"__typename": type_name, "id": ids[-1]}
    assert base64.b64decode(ids[-1]).decode().startswith(f"{type_name}:")


def test_pages_follow_cursors_to_the_end(gql: GraphQLClient) -> None:
    query = """
      query($after: String) {
        facilities(first: 3, after: $after) {
          totalCount
          pageInfo { hasNextPage hasPreviousPage endCursor }
          edges { cursor node { name } }
        }
      }"""
    names: list[str] = []
    after = None
    pages = 0
    while True:
        page = gql.execute(query, {"after": after})["facilities"]
        pages += 1
        assert page["totalCount"] == 8
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        names += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages == 3
    assert names[0] == "LUMC GMP facility for cell and gene therapy"
    assert len(names) == len(set(names)) == 8


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 101", "first: 101 is not between 0 and 100"),
        ('after: "bm9wZQ=="', "after: 'bm9wZQ==' is not a cursor from this API"),
    ],
)
def test_bad_paging_arguments_are_explained(
    gql: GraphQLClient, arguments: str, message: str
) -> None:
    body = gql.post(f"{{ trials({arguments}) {{ totalCount }} }}")
    assert [error["message"] for error in body["errors"]] == [message]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('institutions(filter: {kind: {eq: COMPANY}}) { nodes { name } }',
         ["Nordic Cell Process AB", "Medicon Vector Labs AB", "Öresund Biologics AB",
          "Leiden Vector Works B.V."]),
        ('institutions(filter: {search: "skåne"}) { nodes { name } }',
         ["Skåne University Hospital", "Region Skåne"]),
        ('projects(filter: {area: {eq: EDUCATION}}) { nodes { title } }',
         ["Kurs: GMP-tillverkning av ATMP", "Joint ATMP course Leiden–Lund"]),
        ('trials(filter: {search: "stem-pd"}) { nodes { nctId } }', ["NCT05635409"]),
        ('facilities(filter: {kind: {eq: SCIENCE_PARK}}) { nodes { name } }',
         ["Leiden Bio Science Park", "Medicon Village"]),
    ],
)  # fmt: skip
def test_filters_narrow_lists(gql: GraphQLClient, query: str, expected: list[str]) -> None:
    connection = next(iter(gql.execute(f"{{ {query} }}").values()))
    assert [next(iter(node.values())) for node in connection["nodes"]] == expected


def test_relations_run_both_ways(gql: GraphQLClient) -> None:
    data = gql.execute(
        """{
          trial(registryId: "2021-001366-38") {
            acronym
            sponsor { name sponsoredTrials { acronym } }
            products { name trials { nctId } projects { code } }
            conditions { name trials { nctId } }
            sites { name trial { nctId } institution { trialSites { name } } }
          }
          institutions(filter: {rorId: {eq: "012a77v79"}}) {
            nodes {
              ledProjects { code }
              facilities { name owner { name } }
              partnerships { code partner { name companyPartnerships { code } } }
            }
          }
        }"""
    )

    trial = data["trial"]
    assert trial["acronym"] == "STEM-PD"
    assert trial["sponsor"] == {"name": "Region Skåne", "sponsoredTrials": [{"acronym": "STEM-PD"}]}
    # Lund/Skåne's product, and the intervention ClinicalTrials.gov lists for the same trial.
    assert trial["products"] == [
        {
            "name": "STEM-PD dopaminerga progenitorceller",
            "trials": [{"nctId": "NCT05635409"}],
            "projects": [{"code": "LU-P-0001"}],
        },
        {"name": "STEM-PD", "trials": [{"nctId": "NCT05635409"}], "projects": []},
    ]
    assert [c["name"] for c in trial["conditions"]] == ["Parkinsons sjukdom", "Parkinson Disease"]
    assert {c["trials"][0]["nctId"] for c in trial["conditions"]} == {"NCT05635409"}
    assert trial["sites"][0]["trial"] == {"nctId": "NCT05635409"}
    assert trial["sites"][0]["institution"] == {
        "trialSites": [{"name": "Skånes universitetssjukhus"}]
    }
    lund = data["institutions"]["nodes"][0]
    assert [p["code"] for p in lund["ledProjects"]] == [
        "LU-P-0001",
        "LU-P-0002",
        "LU-P-0004",
        "LU-P-0005",
    ]
    assert lund["facilities"] == [
        {"name": "Lund Stem Cell Center", "owner": {"name": "Lund University"}}
    ]
    assert [p["code"] for p in lund["partnerships"]] == ["LU-A-101", "LU-A-102", "LU-A-103"]
    # One company, seen by both partners' feeds, with its agreements on both sides.
    assert lund["partnerships"][0]["partner"] == {
        "name": "Nordic Cell Process AB",
        "companyPartnerships": [{"code": "LU-A-101"}, {"code": "LUMC-C-56"}],
    }


def test_confidential_terms_stay_with_the_parties(
    app_client: TestClient, demo_database_url: str
) -> None:
    """Lund University is party to the Lund/Skåne partnerships, not to LUMC's."""
    lund = {"Authorization": f"Bearer {api_key(demo_database_url, Role.PARTNER, '012a77v79')}"}
    body = app_client.post(
        "/graphql",
        json={"query": "{ partnerships { nodes { code terms { valueAmount confidential } } } }"},
        headers=lund,
    ).json()

    assert body["data"]["partnerships"]["nodes"] == [
        {"code": "LU-A-101", "terms": {"valueAmount": "4500000.00", "confidential": True}},
        {"code": "LU-A-102", "terms": {"valueAmount": "1200000.00", "confidential": True}},
        {"code": "LU-A-103", "terms": {"valueAmount": None, "confidential": False}},
        {"code": "LUMC-C-55", "terms": None},
        {"code": "LUMC-C-56", "terms": {"valueAmount": None, "confidential": False}},
    ]
    assert [error["path"] for error in body["errors"]] == [["partnerships", "nodes", 3, "terms"]]


def test_exchange_and_course_projects_build_their_own_nodes(gql: GraphQLClient) -> None:
    data = gql.execute(
        """{
          exchanges(first: 1) { nodes { title fromInstitution { name } toInstitution { name }
                                        startDate project { code } sources { feed sourceId } } }
          educationActivities(first: 1) { nodes { title kind hostInstitution { name } endDate } }
        }"""
    )
    assert data["exchanges"]["nodes"] == [
        {
            "title": "Forskarutbyte Lund–Leiden inom cell- och genterapi",
            "fromInstitution": {"name": "Lund University"},
            "toInstitution": {"name": "Leiden University Medical Center"},
            "startDate": "2023-09-01",
            "project": {"code": "LU-P-0004"},
            "sources": [{"feed": "lund_skane", "sourceId": "LU-P-0004"}],
        }
    ]
    assert data["educationActivities"]["nodes"] == [
        {
            "title": "Kurs: GMP-tillverkning av ATMP",
            "kind": "course",
            "hostInstitution": {"name": "Lund University"},
            "endDate": "2023-02-10",
        }
    ]


def test_ingest_runs_report_their_quarantine(gql: GraphQLClient) -> None:
    data = gql.execute(
        """{ ingestRuns(filter: {feed: {eq: "lund_skane"}}) { nodes {
              status read created updated unchanged quarantined
              quarantine { sourceId field value }
        } } }"""
    )
    (run,) = data["ingestRuns"]["nodes"]
    assert {key: run[key] for key in ("status", "read", "created", "quarantined")} == {
        "status": "SUCCEEDED", "read": 22, "created": 13, "quarantined": 9,
    }  # fmt: skip
    assert run["quarantine"][0] == {
        "sourceId": "LU-ATMP-05",
        "field": "ATMP-klass",
        "value": "XTMP",
    }


def test_the_curation_lists_order_and_filter_as_the_others(gql: GraphQLClient) -> None:
    data = gql.execute(
        """{ ingestRuns(orderBy: [{field: QUARANTINED, direction: DESC}], first: 2) {
               nodes { feed quarantined
                 quarantine(filter: {file: {eq: "trials.csv"}}, orderBy: [{field: ROW}]) {
                   row sourceId } } }
             quarantinedRecords(filter: {feed: "lumc"}, orderBy: [{field: ROW, direction: DESC}])
               { nodes { row sourceId } } }"""
    )

    assert data["ingestRuns"]["nodes"] == [
        {
            "feed": "lund_skane",
            "quarantined": 9,
            "quarantine": [
                {"row": 3, "sourceId": "SUS-CART-01"},
                {"row": 4, "sourceId": "SUS-GT-02"},
            ],
        },
        {"feed": "lumc", "quarantined": 2, "quarantine": []},
    ]
    assert data["quarantinedRecords"]["nodes"] == [
        {"row": 4, "sourceId": "P24.311"},
        {"row": 3, "sourceId": None},
    ]


def test_plugins_are_listed_over_graphql(gql: GraphQLClient) -> None:
    data = gql.execute("{ plugins { name builtin feeds hooks errors } }")

    plugins = {plugin["name"]: plugin for plugin in data["plugins"]}
    assert plugins["lund_skane"] == {
        "name": "lund_skane",
        "builtin": True,
        "feeds": ["lund_skane"],
        "hooks": ["atmp_graph_claim_source", "atmp_graph_feeds"],
        "errors": [],
    }
    assert plugins["identifiers"]["hooks"] == ["atmp_graph_normalize_identifier"]
