"""Every node says which feed records built it, and provenance says what it cannot explain.

The node types are read from the schema (every type that implements `Entity`), so a type added
later is checked too: its nodes in the demo must list their records.
"""

from typing import Any

import graphql
import pytest

from atmp_graph.schema.schema import schema
from tests.conftest import GraphQLClient

SDL = graphql.build_schema(schema.as_str())
ENTITY = SDL.get_type("Entity")
assert isinstance(ENTITY, graphql.GraphQLInterfaceType)
ENTITY_TYPES = sorted(node_type.name for node_type in SDL.get_possible_types(ENTITY))
LABELS = ("name", "title", "code")


def _list_of(type_name: str) -> str | None:
    """The root connection whose nodes are of this type."""
    for name, field in SDL.query_type.fields.items():  # type: ignore[union-attr]
        connection = graphql.get_named_type(field.type)
        nodes = getattr(connection, "fields", {}).get("nodes")
        if nodes is not None and graphql.get_named_type(nodes.type).name == type_name:
            return name
    return None


def _read_all(gql: GraphQLClient, field: str, selection: str) -> list[dict[str, Any]]:
    query = f"""query($after: String) {{
      {field}(first: 100, after: $after) {{
        pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }}
      }}
    }}"""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql.execute(query, {"after": after})[field]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def test_the_schema_has_node_types() -> None:
    assert {"ClinicalTrial", "Condition", "Institution", "Person"} <= set(ENTITY_TYPES)


@pytest.mark.parametrize("type_name", ENTITY_TYPES)
def test_every_node_in_the_demo_lists_the_records_that_built_it(
    gql: GraphQLClient, type_name: str
) -> None:
    field = _list_of(type_name)
    assert field is not None, f"{type_name} has no list on Query to read it from"
    node_type = SDL.get_type(type_name)
    assert isinstance(node_type, graphql.GraphQLObjectType)
    label = next(name for name in (*LABELS, "id") if name in node_type.fields)

    nodes = _read_all(gql, field, f"{label} sources {{ feed sourceId }}")

    assert nodes, f"the demo has no {type_name}: add one, so its sources are checked"
    assert [node[label] for node in nodes if not node["sources"]] == []


SOURCES = """query($search: String!) {
  conditions(filter: {search: $search}) { nodes { name sources { feed entityType sourceId } } }
  people(filter: {search: $search}) { nodes { name sources { feed entityType sourceId } } }
  institutions(filter: {search: $search}) {
    nodes { name sources { feed entityType sourceId } }
  }
}"""


@pytest.mark.parametrize(
    ("search", "named"),
    [
        # A condition lists the trials, products and projects that name it.
        ("Parkinson", {
            "Parkinsons sjukdom": [
                ("lund_skane", "product", "LU-ATMP-01"),
                ("lund_skane", "project", "LU-P-0001"),
                ("lund_skane", "clinical_trial", "CCTU0263"),
            ],
            "Parkinson Disease": [("ctgov", "clinical_trial", "NCT05635409")],
        }),
        # A signatory lists the agreement that names them.
        ("Renström", {
            "Erik Renström": [("collaboration", "agreement", "MOU-LU-SUS-LUMC-2022")],
        }),
        # An institution only a registry names, as a collaborator, lists that trial record.
        ("Cambridge", {
            "Cambridge University Hospitals NHS Foundation Trust": [
                ("ctgov", "clinical_trial", "NCT05635409"),
            ],
            "University of Cambridge": [("ctgov", "clinical_trial", "NCT05635409")],
        }),
    ],
)  # fmt: skip
def test_a_node_made_from_a_name_lists_the_records_that_name_it(
    gql: GraphQLClient, search: str, named: dict[str, list[tuple[str, str, str]]]
) -> None:
    data = gql.execute(SOURCES, {"search": search})

    found = {
        node["name"]: [(s["feed"], s["entityType"], s["sourceId"]) for s in node["sources"]]
        for connection in data.values()
        for node in connection["nodes"]
    }
    assert found == named


def test_provenance_says_which_fields_it_cannot_explain(gql: GraphQLClient) -> None:
    data = gql.execute(
        """{
          trial(registryId: "NCT01144962") {
            provenance(fields: ["phase", "sites", "nope"]) { field value note claims { feed } }
          }
          conditions(filter: {search: "Lymfom"}) {
            nodes { provenance(fields: ["name"]) { field value note claims { feed } } }
          }
        }"""
    )

    given = (
        "acronym, completionDate, enrollment, euctId, eudractId, localId, nctId, phase, "
        "sponsor, startDate, status, studyType, title"
    )
    assert data["trial"]["provenance"] == [
        {"field": "phase", "value": "PHASE1_PHASE2", "note": None, "claims": [{"feed": "lumc"}]},
        {
            "field": "sites",
            "value": None,
            "note": f"no source gives sites as a value of its own; its sources give {given}",
            "claims": [],
        },
        {
            "field": "nope",
            "value": None,
            "note": f"ClinicalTrial has no field nope; its sources give {given}",
            "claims": [],
        },
    ]
    assert data["conditions"]["nodes"] == [
        {
            "provenance": [
                {
                    "field": "name",
                    "value": None,
                    "note": "no source gives name as a value of its own; its sources keep no "
                    "values field by field for a Condition: the records in its sources built it",
                    "claims": [],
                }
            ]
        }
    ]
