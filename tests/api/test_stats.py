"""Dashboards: counts and breakdowns that count exactly what the lists list.

A small Lund/Skåne export goes in, each row shaped for one counting rule: trials with two
products of one class, with sites in two countries or twice in one, with no sponsor, phase,
site country, product or start date; projects with several partners or none; a confidential
partnership value among open ones.  The aggregates come out with exact group counts, on
SQLite and PostgreSQL: the same filter and the same trials as the list, retired nodes left
out, one SQL statement per field asked for, and no sum of confidential values for anyone
below an admin.
"""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from atmp_graph.access.viewer import Tier
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.schema.stats import StatsQuery
from atmp_graph.schema.visibility import AGGREGATES, FIELD_TIERS
from benchmarks.exports import PRODUCTS_HEADER, TRIALS_HEADER
from tests.conftest import BACKENDS, GraphQLClient, api_key, migrated_database

PROJECTS_HEADER = (
    "Projekt-ID;Titel;Område;Status;Start;Slut;Ansvarig enhet;Partner-ROR;Diagnos;Produkt-ID"
)
PARTNERSHIPS_HEADER = (
    "Avtals-ID;Företag;Organisationsnummer;Avtalstyp;Start;Slut;Status;Projekt-ID;"
    "Avtalsvärde (SEK);Konfidentiellt"
)
SUS, LUND_UNIVERSITY = "Skånes universitetssjukhus", "Lunds universitet"
SECRET_AMOUNT = "7314159"  # confidential: only its parties and admins may see it
EXPORT = {
    "products.csv": [
        PRODUCTS_HEADER,
        f"P-GT1;Gene one;GTMP;Genterapi;Fas I;;{SUS}",
        "P-GT2;Gene two;GTMP;Genterapi;Fas II;;",
        "P-SC1;Cells one;sCTMP;Cellterapi;Preklinisk;;",
        "P-NONE;Unclassed;;Cellterapi;;;",
        "P-TEP;Cornea;TEP;Vävnadsteknik;Preklinisk;;",
    ],
    "trials.csv": [
        TRIALS_HEADER,
        # Two GTMP products; a site in SE, one in NL and one in a country no feed gives.
        f"T-1;;;Trial one;I;Rekryterar;Region Skåne;10;;P-GT1|P-GT2;"
        f"{SUS}, Lund|Leiden University Medical Center, Leiden|Rigshospitalet, København;"
        "2023-05-01",
        # An SCTMP, a GTMP and an unclassed product; two sites, both in SE.
        f"T-2;;;Trial two;I;Avslutad;Region Skåne;20;;P-SC1|P-GT1|P-NONE;"
        f"{SUS}, Lund|{LUND_UNIVERSITY}, Lund;2023-09-01",
        # No sponsor, enrollment or start date; a product without a class; a site in an
        # unknown country.
        "T-3;;;Trial three;II;Rekryterar;;;;P-NONE;Oslo universitetssykehus, Oslo;",
        # No phase, no products, no sites.
        f"T-4;;;Trial four;;Rekryterar;{LUND_UNIVERSITY};30;;;;2024-01-01",
        f"T-5;;;Trial five;III;Rekryterar;Region Skåne;1000;;P-SC1;{SUS}, Lund;2022-01-01",
    ],
    "projects.csv": [
        PROJECTS_HEADER,
        f"PR-1;Project one;Forskning;Pågående;2021-01-01;;{LUND_UNIVERSITY};05xvt9f17;;",
        f"PR-2;Project two;Forskning;Planerad;2022-01-01;;{SUS};05xvt9f17|012a77v79;;",
        f"PR-3;Project three;Utbildning;Avslutad;;;{LUND_UNIVERSITY};;;",
        f"PR-4;Project four;Vårdleverans;Pågående;2020-01-01;;{LUND_UNIVERSITY};;;",
    ],
    "partnerships.csv": [
        PARTNERSHIPS_HEADER,
        f"A-1;Secret Cell AB;556900-0011;Licensavtal;2024-01-01;;Aktivt;;{SECRET_AMOUNT};Ja",
        "A-2;Open Vector AB;556900-0012;Licensavtal;2024-01-01;;Aktivt;;1000000;Nej",
        "A-3;Open Vector AB;556900-0012;Tillverkningsavtal;2024-01-01;;Under förhandling;;;Nej",
    ],
}
# What the confidential value would show summed with the open one, or averaged.
SECRET_SUMS = [SECRET_AMOUNT, "8314159", "4157079"]


def write_export(directory: Path, *, without: tuple[str, ...] = ()) -> Path:
    """The export, without the rows of these source ids."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, lines in EXPORT.items():
        kept = [line for line in lines if line.split(";")[0] not in without]
        (directory / name).write_text("\n".join(kept) + "\n", encoding="utf-8-sig")
    return directory


def load_world(engine: Engine, directory: Path) -> None:
    reference = CollaborationFeed()
    ingest(engine, reference, reference.sample())
    report = ingest(engine, LundSkaneFeed(), write_export(directory))
    assert (report.created, report.quarantined) == (17, 0), report


@pytest.fixture(scope="module", params=BACKENDS)
def world_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_problem: str | None,
) -> Iterator[str]:
    """A database of each kind with the export loaded, shared by the tests that only read."""
    directory = tmp_path_factory.mktemp("stats")
    with migrated_database(request.param, directory, postgres_problem) as (url, engine):
        load_world(engine, directory / "export")
        engine.dispose()
        yield url


# The two read paths: the read planner (the default) and the resolvers alone.
PATHS = {"compiled": True, "resolvers": False}


class Recorder(GraphQLClient):
    """A client of its own app, on one read path, that records the SQL statements each
    request runs and which path answered which root field (`extensions.readPath`)."""

    def __init__(
        self, url: str, headers: dict[str, str] | None = None, *, path: str = "compiled"
    ) -> None:
        self.app = create_app(Settings(database_url=url, compiled_reads=PATHS[path]))
        self.path = path
        self.statements: list[str] = []
        self.read_path: dict[str, list[str]] = {}
        # The planner's statements go to the reads engine, the resolvers' to the other.
        for engine in (self.app.state.engine, self.app.state.reads):
            event.listen(engine.sync_engine, "before_cursor_execute", self._record)
        super().__init__(TestClient(self.app, headers=headers or {}))

    def _record(self, _connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.statements.clear()
        body = super().post(query, variables)
        self.read_path = body.get("extensions", {}).get("readPath", {})
        return body

    @property
    def compiled(self) -> list[str]:
        """The root fields of the last request the read planner answered (none without it)."""
        return self.read_path.get("compiled", [])


@pytest.fixture(params=list(PATHS))
def anonymous_client(request: pytest.FixtureRequest, world_url: str) -> Iterator[Recorder]:
    """An anonymous caller, on each read path in turn: both must give every answer here."""
    client = Recorder(world_url, path=request.param)
    with client.http:
        yield client


def groups(client: GraphQLClient, stats: str, field: str, key: str) -> Any:
    """A breakdown's groups as (key, count) pairs (an institution by its name), and its
    totalGroups."""
    query = f"{{ {stats} {{ {field} {{ totalGroups groups {{ {key} count }} }} }} }}"
    page = client.execute(query)[stats][field]
    pairs = [(_key(group[key.partition(" ")[0]]), group["count"]) for group in page["groups"]]
    return pairs, page["totalGroups"]


def _key(value: Any) -> Any:
    return value["name"] if isinstance(value, dict) else value


INSTITUTION = "institution { name }"
BREAKDOWNS = {
    "trials by phase": (
        "trialStats",
        "byPhase",
        "phase",
        [("PHASE1", 2), ("PHASE2", 1), ("PHASE3", 1), (None, 1)],
    ),
    "trials by status": (
        "trialStats",
        "byStatus",
        "status",
        [("RECRUITING", 4), ("COMPLETED", 1)],
    ),
    # T-1's two GTMP products count once; T-2 counts in GTMP and SCTMP, not in the null
    # group for its unclassed product; T-3 (only a product without a class) and T-4 (no
    # products) are the null group.
    "trials by ATMP class": (
        "trialStats",
        "byAtmpClass",
        "atmpClass",
        [("GTMP", 2), ("SCTMP", 2), (None, 2)],
    ),
    # T-1 counts in SE and NL (not in the null group for its Danish site, whose country no
    # feed gives), T-2 once in SE for its two Swedish sites; T-3 (only a site in an unknown
    # country) and T-4 (no sites) are the null group.
    "trials by country": (
        "trialStats",
        "byCountry",
        "country",
        [("SE", 3), (None, 2), ("NL", 1)],
    ),
    "trials by sponsor": (
        "trialStats",
        "bySponsor",
        INSTITUTION,
        [("Region Skåne", 3), ("Lund University", 1), (None, 1)],
    ),
    "trials by start year": (
        "trialStats",
        "byStartYear",
        "year",
        [(2023, 2), (2022, 1), (2024, 1), (None, 1)],
    ),
    "projects by area": (
        "projectStats",
        "byArea",
        "area",
        [("RESEARCH", 2), ("CARE_DELIVERY", 1), ("EDUCATION", 1)],
    ),
    "projects by status": (
        "projectStats",
        "byStatus",
        "status",
        [("ONGOING", 2), ("COMPLETED", 1), ("PLANNED", 1)],
    ),
    "projects by lead institution": (
        "projectStats",
        "byLeadInstitution",
        INSTITUTION,
        [("Lund University", 3), ("Skåne University Hospital", 1)],
    ),
    # PR-2 counts for both its partners; PR-3 and PR-4 have none.
    "projects by partner": (
        "projectStats",
        "byPartner",
        INSTITUTION,
        [("Leiden University Medical Center", 2), (None, 2), ("Lund University", 1)],
    ),
    "projects by start year": (
        "projectStats",
        "byStartYear",
        "year",
        [(2020, 1), (2021, 1), (2022, 1), (None, 1)],
    ),
    "products by ATMP class": (
        "productStats",
        "byAtmpClass",
        "atmpClass",
        [("GTMP", 2), ("SCTMP", 1), ("TEP", 1), (None, 1)],
    ),
    "products by stage": (
        "productStats",
        "byStage",
        "stage",
        [("PRECLINICAL", 2), ("PHASE1", 1), ("PHASE2", 1), (None, 1)],
    ),
    "products by originator": ("productStats", "byOriginator", INSTITUTION, [(None, 5)]),
    "products by manufacturer": (
        "productStats",
        "byManufacturer",
        INSTITUTION,
        [(None, 4), ("Skåne University Hospital", 1)],
    ),
    "partnerships by kind": (
        "partnershipStats",
        "byKind",
        "kind",
        [("LICENSING", 2), ("MANUFACTURING", 1)],
    ),
    "partnerships by status": (
        "partnershipStats",
        "byStatus",
        "status",
        [("ACTIVE", 2), ("NEGOTIATION", 1)],
    ),
    "partnerships by company": (
        "partnershipStats",
        "byPartner",
        INSTITUTION,
        [("Open Vector AB", 2), ("Secret Cell AB", 1)],
    ),
}


@pytest.mark.parametrize(("stats", "field", "key", "expected"), BREAKDOWNS.values(), ids=BREAKDOWNS)
def test_each_breakdown_counts_by_its_rule_largest_first(
    anonymous_client: Recorder, stats: str, field: str, key: str, expected: list[Any]
) -> None:
    assert groups(anonymous_client, stats, field, key) == (expected, len(expected))
    assert anonymous_client.compiled == ([stats] if anonymous_client.path == "compiled" else [])


def test_the_counts_and_the_enrollment(anonymous_client: Recorder) -> None:
    data = anonymous_client.execute(
        "{ trialStats { count enrollment { count sum min max average } }"
        "  projectStats { count } productStats { count } partnershipStats { count } }"
    )

    assert data == {
        # T-3 gives no enrollment: four trials give one.
        "trialStats": {
            "count": 5,
            "enrollment": {"count": 4, "sum": 1060.0, "min": 10, "max": 1000, "average": 265.0},
        },
        "projectStats": {"count": 4},
        "productStats": {"count": 5},
        "partnershipStats": {"count": 3},
    }


def test_a_filter_with_nothing_to_count_answers_zero(anonymous_client: Recorder) -> None:
    data = anonymous_client.execute(
        '{ trialStats(filter: { search: "no such trial" }) {'
        "  count enrollment { count sum min max average }"
        "  byCountry { totalGroups groups { country count } } } }"
    )

    assert data["trialStats"] == {
        "count": 0,
        "enrollment": {"count": 0, "sum": 0.0, "min": None, "max": None, "average": None},
        "byCountry": {"totalGroups": 0, "groups": []},
    }


TRIAL_COUNTRIES = "nodes { sites { country } products { atmpClass } }"


@pytest.mark.parametrize(
    "trial_filter",
    [
        "{ phase: { eq: PHASE1 } }",
        "{ status: { eq: RECRUITING } }",
        '{ search: "trial t" }',
        "{ phase: { eq: PHASE4 } }",
    ],
)
def test_a_filter_narrows_every_aggregate_as_it_narrows_the_list(
    anonymous_client: Recorder, trial_filter: str
) -> None:
    listed = anonymous_client.execute(
        f"{{ trials(filter: {trial_filter}, first: 100) {{ totalCount {TRIAL_COUNTRIES} }} }}"
    )["trials"]
    stats = anonymous_client.execute(
        f"{{ trialStats(filter: {trial_filter}) {{ count"
        "  byCountry { groups { country count } } byAtmpClass { groups { atmpClass count } } } }"
    )["trialStats"]

    # The same trials, counted by hand from the list by the breakdowns' rules.
    def by_hand(values_of: Any) -> Counter[Any]:
        counted: Counter[Any] = Counter()
        for trial in listed["nodes"]:
            counted.update(values_of(trial) or {None})
        return counted

    countries = by_hand(lambda trial: {site["country"] for site in trial["sites"]} - {None})
    classes = by_hand(lambda trial: {p["atmpClass"] for p in trial["products"]} - {None})
    assert stats["count"] == listed["totalCount"]
    assert {(g["country"], g["count"]) for g in stats["byCountry"]["groups"]} == set(
        countries.items()
    )
    assert {(g["atmpClass"], g["count"]) for g in stats["byAtmpClass"]["groups"]} == set(
        classes.items()
    )


def test_a_filter_the_list_refuses_is_refused_the_same(anonymous_client: Recorder) -> None:
    for root in ("trials", "trialStats"):
        body = anonymous_client.post(
            f'{{ {root}(filter: {{ search: "a\\u0000b" }}) {{ __typename }} }}'
        )
        assert [error["message"] for error in body["errors"]] == [
            "filter.search: 'a\\x00b' holds a NUL character"
        ]


def test_retired_nodes_are_not_counted(engine: Engine, database_url: str, tmp_path: Path) -> None:
    load_world(engine, tmp_path / "export")
    dropped = ingest(
        engine, LundSkaneFeed(), write_export(tmp_path / "export", without=("T-5", "PR-4", "P-TEP"))
    )
    assert dropped.retired == 3

    with TestClient(create_app(Settings(database_url=database_url))) as http:
        client = GraphQLClient(http)
        data = client.execute("{ trials { totalCount } trialStats { count enrollment { max } } }")
        assert data == {
            "trials": {"totalCount": 4},
            "trialStats": {"count": 4, "enrollment": {"max": 30}},
        }
        assert groups(client, "trialStats", "byPhase", "phase")[0] == [
            ("PHASE1", 2),
            ("PHASE2", 1),
            (None, 1),
        ]
        assert groups(client, "projectStats", "byArea", "area")[0] == [
            ("RESEARCH", 2),
            ("EDUCATION", 1),
        ]
        assert groups(client, "productStats", "byAtmpClass", "atmpClass")[0] == [
            ("GTMP", 2),
            ("SCTMP", 1),
            (None, 1),
        ]


def test_first_caps_the_groups_and_total_groups_counts_them_all(
    anonymous_client: Recorder,
) -> None:
    page = anonymous_client.execute(
        "{ trialStats { one: byCountry(first: 1) { totalGroups groups { country count } }"
        "  none: byCountry(first: 0) { totalGroups groups { country count } }"
        "  most: byCountry(first: 100) { totalGroups } } }"
    )["trialStats"]

    assert page == {
        "one": {"totalGroups": 3, "groups": [{"country": "SE", "count": 3}]},
        "none": {"totalGroups": 3, "groups": []},
        "most": {"totalGroups": 3},
    }


@pytest.mark.parametrize("first", [-1, 101])
def test_a_breakdown_refuses_a_page_beyond_its_cap(anonymous_client: Recorder, first: int) -> None:
    body = anonymous_client.post(
        f"{{ trialStats {{ byPhase(first: {first}) {{ totalGroups }} }} }}"
    )

    assert [error["message"] for error in body["errors"]] == [
        f"first: {first} is not between 0 and 100"
    ]
    assert anonymous_client.statements == []


@pytest.mark.parametrize(("first", "cost"), [(5, 22), (None, 82), (100, 402)])
def test_the_query_cost_counts_a_breakdown_at_its_first(
    anonymous_client: Recorder, first: int | None, cost: int
) -> None:
    # trialStats 1 + byCountry 1 + first × (totalGroups 1 + groups 1 + country 1 + count 1)
    argument = "" if first is None else f"(first: {first})"
    query = (
        f"{{ trialStats {{ byCountry{argument} {{ totalGroups groups {{ country count }} }} }} }}"
    )
    response = anonymous_client.http.post("/graphql", json={"query": query})

    assert response.json()["extensions"]["cost"]["requested"] == cost


# A selection, and how many statements answer it: the resolvers run one per field asked for,
# the read planner one per root field that counts anything (and none for a __typename).
SELECTIONS = {
    "the count alone": ("trialStats { count }", 1, 1),
    "totalGroups alone": ("trialStats { byPhase { totalGroups } }", 1, 1),
    "four fields": (
        "trialStats { count enrollment { sum } byPhase { groups { phase count } }"
        " byCountry { totalGroups groups { country count } } }",
        4,
        1,
    ),
    "every trial field": (
        "trialStats { count enrollment { sum } byPhase { totalGroups } byStatus { totalGroups }"
        " byAtmpClass { totalGroups } byCountry { totalGroups } bySponsor { totalGroups }"
        " byStartYear { totalGroups } }",
        8,
        1,
    ),
    "one breakdown twice, aliased": (
        "trialStats { a: byCountry(first: 1) { totalGroups } b: byCountry { totalGroups } }",
        2,
        1,
    ),
    "a group's institution": (
        "projectStats { byPartner { groups { institution { id name country } count } } }",
        1,
        1,
    ),
    "nothing but the type": ("trialStats { __typename } productStats { __typename }", 0, 0),
    "one field of each": (
        "trialStats { count } projectStats { byArea { totalGroups } }"
        " productStats { byStage { totalGroups } } partnershipStats { byKind { totalGroups } }",
        4,
        4,
    ),
}


@pytest.mark.parametrize(
    ("selection", "by_resolvers", "by_planner"), SELECTIONS.values(), ids=SELECTIONS
)
def test_each_field_asked_for_is_counted_in_one_statement_and_no_other_runs(
    anonymous_client: Recorder, selection: str, by_resolvers: int, by_planner: int
) -> None:
    anonymous_client.execute(f"{{ {selection} }}")

    planned = anonymous_client.path == "compiled"
    expected = by_planner if planned else by_resolvers
    assert len(anonymous_client.statements) == expected, anonymous_client.statements
    # Each counts in the database: no rows come back to be counted here.
    assert all("count(" in statement for statement in anonymous_client.statements)
    # The planner answers every root field that counts something.
    assert len(anonymous_client.compiled) == (by_planner if planned else 0)


VALUES = (
    "partnershipStats { count valueByCurrency { groups { currency count sum min max average } } }"
)


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize(
    ("viewer", "role", "ror"),
    [
        ("anonymous", None, None),
        # Lund University is a party to every partnership of the export: it may see each
        # confidential value, but a sum is for admins only.
        ("a party to every partnership", Role.PARTNER, "012a77v79"),
        ("a curator", Role.CURATOR, None),
    ],
)
def test_no_one_below_an_admin_learns_a_confidential_value_from_a_sum(
    world_url: str, viewer: str, role: Role | None, ror: str | None, path: str
) -> None:
    headers = {} if role is None else {"Authorization": f"Bearer {api_key(world_url, role, ror)}"}
    client = Recorder(world_url, headers, path=path)
    with client.http:
        body = client.post(f"{{ {VALUES} }}")

    assert body["data"] == {"partnershipStats": {"count": 3, "valueByCurrency": None}}
    [error] = body["errors"]
    assert error["path"] == ["partnershipStats", "valueByCurrency"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["message"] == "only admins may do this"
    text = str(body)
    assert not [amount for amount in SECRET_SUMS if amount in text]
    # Refused before it ran: no statement read the terms.
    assert not [s for s in client.statements if "partnership_terms" in s]
    # What the viewer may not see, the planner leaves to the resolvers, who refuse it.
    assert client.compiled == []


@pytest.mark.parametrize("path", list(PATHS))
def test_an_admin_sees_the_values_summed_by_currency(world_url: str, path: str) -> None:
    client = Recorder(world_url, {"Authorization": f"Bearer {api_key(world_url)}"}, path=path)
    with client.http:
        data = client.execute(f"{{ {VALUES} }}")

    # A-3 gives no value: two partnerships give one, both in SEK.
    assert data["partnershipStats"]["valueByCurrency"] == {
        "groups": [
            {
                "currency": "SEK",
                "count": 2,
                "sum": "8314159.00",
                "min": "1000000.00",
                "max": "7314159.00",
                "average": "4157079.50",
            }
        ]
    }
    assert client.compiled == (["partnershipStats"] if path == "compiled" else [])


# Values whose sum has 16 digits, past what a double written with 15 (SQLite's JSON) keeps,
# and cents that doubles do not hold exactly; enrollments with a repeating average.
EXACT_EXPORT = {
    "products.csv": [PRODUCTS_HEADER],
    "projects.csv": [PROJECTS_HEADER],
    "trials.csv": [
        TRIALS_HEADER,
        "T-1;;;Trial one;I;Rekryterar;;10;;;;",
        "T-2;;;Trial two;I;Rekryterar;;20;;;;",
        "T-3;;;Trial three;I;Rekryterar;;25;;;;",
    ],
    "partnerships.csv": [
        PARTNERSHIPS_HEADER,
        "A-1;Big Cell AB;556900-0021;Licensavtal;2024-01-01;;Aktivt;;12 345 678 901 234,56;Nej",
        "A-2;Small Cell AB;556900-0022;Licensavtal;2024-01-01;;Aktivt;;0,10;Nej",
        "A-3;Small Cell AB;556900-0022;Licensavtal;2024-01-01;;Aktivt;;0,20;Ja",
    ],
}


@pytest.mark.parametrize("path", list(PATHS))
def test_sums_and_averages_come_out_to_the_cent_on_both_paths(
    engine: Engine, database_url: str, tmp_path: Path, path: str
) -> None:
    for name, lines in EXACT_EXPORT.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    assert ingest(engine, LundSkaneFeed(), tmp_path).quarantined == 0
    client = Recorder(database_url, {"Authorization": f"Bearer {api_key(database_url)}"}, path=path)
    with client.http:
        data = client.execute(
            "{ trialStats { enrollment { sum average } } partnershipStats { valueByCurrency "
            "{ groups { currency count sum min max average } } } }"
        )

    assert data == {
        "trialStats": {"enrollment": {"sum": 55.0, "average": 18.33}},
        "partnershipStats": {
            "valueByCurrency": {
                "groups": [
                    {
                        "currency": "SEK",
                        "count": 3,
                        "sum": "12345678901234.86",
                        "min": "0.10",
                        "max": "12345678901234.56",
                        "average": "4115226300411.62",
                    }
                ]
            }
        },
    }
    planned = ["trialStats", "partnershipStats"] if path == "compiled" else []
    assert client.compiled == planned


def test_every_aggregate_needs_the_tier_of_the_list_it_counts() -> None:
    roots = {field.python_name for field in StatsQuery.__strawberry_definition__.fields}

    assert roots == set(AGGREGATES)
    for stats, listing in AGGREGATES.items():
        assert FIELD_TIERS[("Query", stats)] is FIELD_TIERS.get(("Query", listing), Tier.PUBLIC)
