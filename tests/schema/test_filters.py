"""Filters on the demo data: each operator, `and`/`or`/`not`, the relations a list is filtered
through (EXISTS), and the inputs refused with a sentence before any SQL runs."""

import json
from typing import Any

import pytest

from atmp_graph.schema.filtering import MAX_BRANCHES, MAX_FILTER_DEPTH, MAX_LIST_VALUES
from tests.conftest import GraphQLClient

STEM_PD, RAG1_SCID, CROHN = "NCT05635409", "NCT04797260", "NCT01144962"
TRIALS = "query($f: TrialFilter) { trials(filter: $f) { totalCount nodes { nctId } } }"


def nct_ids(client: GraphQLClient, filter: dict[str, Any]) -> list[str]:
    connection = client.execute(TRIALS, {"f": filter})["trials"]
    found = [node["nctId"] for node in connection["nodes"]]
    assert connection["totalCount"] == len(found)
    return found


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({}, [STEM_PD, RAG1_SCID, CROHN]),
        # An enum: eq, neq, in.
        ({"phase": {"eq": "PHASE1"}}, [STEM_PD]),
        ({"phase": {"neq": "PHASE1"}}, [RAG1_SCID, CROHN]),
        ({"phase": {"in": ["PHASE1", "PHASE1_PHASE2"]}}, [STEM_PD, RAG1_SCID, CROHN]),
        ({"status": {"in": []}}, []),
        # Dates: the four comparisons, and two of them as a range.
        ({"startDate": {"gt": "2021-03-01"}}, [STEM_PD]),
        ({"startDate": {"gte": "2021-03-01"}}, [STEM_PD, RAG1_SCID]),
        ({"startDate": {"lt": "2021-03-01"}}, [CROHN]),
        ({"startDate": {"lte": "2021-03-01"}}, [RAG1_SCID, CROHN]),
        ({"startDate": {"gte": "2011-01-01", "lt": "2022-01-01"}}, [RAG1_SCID]),
        ({"startDate": {"eq": "2010-06-15"}}, [CROHN]),
        # A number, and null: two of the trials give no enrollment.
        ({"enrollment": {"gt": 5}}, [STEM_PD]),
        ({"enrollment": {"lte": 5}}, []),
        ({"enrollment": {"isNull": True}}, [RAG1_SCID, CROHN]),
        ({"enrollment": {"isNull": False}}, [STEM_PD]),
        # Text: exact, one of, contains whatever the case; neq keeps no null.
        ({"acronym": {"eq": "STEM-PD"}}, [STEM_PD]),
        ({"acronym": {"eq": "stem-pd"}}, []),
        ({"acronym": {"contains": "scid"}}, [RAG1_SCID]),
        ({"acronym": {"neq": "STEM-PD"}}, [RAG1_SCID]),
        ({"nctId": {"in": [CROHN, STEM_PD, "NCT00000000"]}}, [STEM_PD, CROHN]),
        # % and _ are the characters themselves, not wildcards.
        ({"acronym": {"contains": "%"}}, []),
        ({"title": {"contains": "_"}}, []),
        ({"search": "stem-pd"}, [STEM_PD]),
        # Combinators: not keeps what its filter does not, nulls included.
        ({"not": {"acronym": {"eq": "STEM-PD"}}}, [RAG1_SCID, CROHN]),
        ({"or": [{"phase": {"eq": "PHASE1"}}, {"acronym": {"isNull": True}}]}, [STEM_PD, CROHN]),
        ({"and": [{"phase": {"eq": "PHASE1_PHASE2"}}, {"status": {"eq": "COMPLETED"}}]}, [CROHN]),
        ({"or": []}, []),
        ({"and": []}, [STEM_PD, RAG1_SCID, CROHN]),
        (
            {"not": {"or": [{"status": {"eq": "COMPLETED"}}, {"enrollment": {"gt": 1}}]}},
            [RAG1_SCID],
        ),
    ],
    ids=lambda value: json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else "",
)
def test_each_operator_and_combinator(
    gql: GraphQLClient, filter: dict[str, Any], expected: list[str]
) -> None:
    assert nct_ids(gql, filter) == expected


def _id(client: GraphQLClient, field: str, filter_type: str, filter: dict[str, Any]) -> str:
    query = f"query($f: {filter_type}) {{ {field}(filter: $f) {{ nodes {{ id }} }} }}"
    (node,) = client.execute(query, {"f": filter})[field]["nodes"]
    return str(node["id"])


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"conditions": {"name": {"eq": "Parkinson Disease"}}}, [STEM_PD]),
        ({"conditions": {"name": {"contains": "crohn"}}}, [CROHN]),
        ({"sites": {"country": {"eq": "NL"}}}, [RAG1_SCID, CROHN]),
        # One site must match all of it: none in Lund is in the Netherlands.
        ({"sites": {"country": {"eq": "SE"}, "city": {"eq": "Lund"}}}, [STEM_PD]),
        ({"sites": {"country": {"eq": "NL"}, "city": {"eq": "Lund"}}}, []),
        (
            {"sponsor": {"kind": {"eq": "HOSPITAL"}, "country": {"eq": "NL"}, "and": []}},
            [RAG1_SCID, CROHN],
        ),
        ({"sites": {"country": {"isNull": True}}}, [STEM_PD]),
        ({"sites": {}}, [STEM_PD, RAG1_SCID, CROHN]),
        ({"sponsor": {"country": {"eq": "SE"}}}, [STEM_PD]),
        ({"sponsor": {"kind": {"eq": "HOSPITAL"}}}, [RAG1_SCID, CROHN]),
        ({"products": {"atmpClass": {"eq": "GTMP"}}}, [RAG1_SCID]),
        ({"products": {"atmpClass": {"eq": "SCTMP"}}}, [STEM_PD, CROHN]),
        ({"collaborators": {"name": {"eq": "Lund University"}}}, [STEM_PD]),
        # Two levels: trials whose sponsor partners in an education project.
        ({"sponsor": {"partnerProjects": {"area": {"eq": "EDUCATION"}}}}, [RAG1_SCID, CROHN]),
        ({"not": {"sites": {"country": {"eq": "SE"}}}}, [RAG1_SCID, CROHN]),
    ],
    ids=lambda value: json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else "",
)
def test_trials_are_filtered_through_their_relations(
    gql: GraphQLClient, filter: dict[str, Any], expected: list[str]
) -> None:
    assert nct_ids(gql, filter) == expected


def test_relations_are_referenced_by_global_id(gql: GraphQLClient) -> None:
    lumc = _id(gql, "institutions", "InstitutionFilter", {"rorId": {"eq": "05xvt9f17"}})
    parkinson = _id(gql, "conditions", "ConditionFilter", {"name": {"eq": "Parkinson Disease"}})
    crohn = _id(gql, "trials", "TrialFilter", {"nctId": {"eq": CROHN}})

    assert nct_ids(gql, {"sponsor": {"id": {"eq": lumc}}}) == [RAG1_SCID, CROHN]
    assert nct_ids(gql, {"conditions": {"id": {"in": [parkinson]}}}) == [STEM_PD]
    assert nct_ids(gql, {"id": {"eq": crohn}}) == [CROHN]
    assert nct_ids(gql, {"not": {"id": {"in": [crohn]}}}) == [STEM_PD, RAG1_SCID]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('projects(filter: {area: {eq: EDUCATION}}) { nodes { title } }',
         ["Kurs: GMP-tillverkning av ATMP", "Joint ATMP course Leiden–Lund"]),
        ('projects(filter: {partners: {name: {eq: "Lund University"}}}) { nodes { title } }',
         ["Joint ATMP course Leiden–Lund"]),
        ('projects(filter: {area: {in: [RESEARCH, EDUCATION]}, partners: {country: {eq: "SE"}}})'
         " { nodes { title } }",
         ["Joint ATMP course Leiden–Lund"]),
        ('institutions(filter: {country: {eq: "NL"}, kind: {eq: HOSPITAL}}) { nodes { name } }',
         ["Leiden University Medical Center"]),
        ("institutions(filter: {kind: {in: [UNIVERSITY, HEALTHCARE_AUTHORITY]}})"
         " { nodes { name } }",
         ["Lund University", "Region Skåne"]),
        ("institutions(filter: {sponsoredTrials: {}}) { nodes { name } }",
         ["Region Skåne", "Leiden University Medical Center"]),
        ('partnerships(filter: {partner: {name: {contains: "vector"}}}) { nodes { code } }',
         ["LU-A-102", "LUMC-C-55"]),
    ],
)  # fmt: skip
def test_projects_institutions_and_partnerships_filtered(
    gql: GraphQLClient, query: str, expected: list[str]
) -> None:
    connection = next(iter(gql.execute(f"{{ {query} }}").values()))
    assert [next(iter(node.values())) for node in connection["nodes"]] == expected


def _nested(depth: int) -> dict[str, Any]:
    filter: dict[str, Any] = {"phase": {"eq": "PHASE1"}}
    for _ in range(depth - 1):
        filter = {"not": filter}
    return filter


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        (
            _nested(MAX_FILTER_DEPTH + 1),
            f"filter{'.not' * MAX_FILTER_DEPTH}: filters nest more than {MAX_FILTER_DEPTH} deep "
            "(each and, or, not and relation is a level)",
        ),
        (
            {"sponsor": {"sponsoredTrials": {"sponsor": {"sponsoredTrials": {"sponsor": {}}}}}},
            "filter.sponsor.sponsoredTrials.sponsor.sponsoredTrials.sponsor: filters nest more "
            f"than {MAX_FILTER_DEPTH} deep",
        ),
        (
            {"nctId": {"in": [f"NCT{n:08d}" for n in range(MAX_LIST_VALUES + 1)]}},
            f"filter.nctId.in: {MAX_LIST_VALUES + 1} values, more than the {MAX_LIST_VALUES} "
            "one list may hold",
        ),
        (
            {"or": [{"enrollment": {"eq": n}} for n in range(MAX_BRANCHES + 1)]},
            f"filter.or: {MAX_BRANCHES + 1} filters, more than the {MAX_BRANCHES} one list may "
            "hold",
        ),
        (
            {"and": [{"or": [{"enrollment": {"eq": n}}] * 20} for n in range(6)]},
            "more than 100 conditions in one filter",
        ),
        (
            {"sites": {"country": {"eq": "S\u0000"}}},
            "filter.sites.country.eq: 'S\\x00' holds a NUL character",
        ),
        (
            {"or": [{}, {"acronym": {"in": ["ok", "x\u0000"]}}]},
            "filter.or[1].acronym.in: 'x\\x00' holds a NUL character",
        ),
        (
            {"sponsor": {"id": {"eq": "Q2xpbmljYWxUcmlhbDox"}}},
            "filter.sponsor.id.eq: Q2xpbmljYWxUcmlhbDox is no Institution id",
        ),
    ],
    ids=["too deep", "relations too deep", "long in", "wide or", "too many", "NUL", "NUL in or",
         "id of another type"],
)  # fmt: skip
def test_a_bad_filter_is_refused_with_a_sentence(
    gql: GraphQLClient, filter: dict[str, Any], message: str
) -> None:
    body = gql.post(TRIALS, {"f": filter})

    assert body["data"] is None
    (error,) = body["errors"]
    assert message in error["message"]
    assert "SELECT" not in error["message"]
    assert "extensions" not in error


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ("[{field: TITLE}, {field: TITLE, direction: DESC}]", "orderBy: TITLE is given twice"),
        (
            "[" + ", ".join(f"{{field: {key}}}" for key in
                            ("TITLE", "PHASE", "STATUS", "START_DATE", "ENROLLMENT", "ACRONYM"))
            + "]",
            "orderBy: 6 keys; a list sorts by at most 5",
        ),
    ],
)  # fmt: skip
def test_a_bad_order_is_refused_with_a_sentence(
    gql: GraphQLClient, order: str, message: str
) -> None:
    body = gql.post(f"{{ trials(orderBy: {order}) {{ totalCount }} }}")

    assert [error["message"] for error in body["errors"]] == [message]
