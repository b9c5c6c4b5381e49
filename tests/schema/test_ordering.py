"""A registry export goes in; lists come out in the order `orderBy` asks, the same on SQLite and
PostgreSQL: text by code point, NULLs last ascending and first descending, ties by id in the
last key's direction; and keyset cursors page through them without a repeat or a gap, even
when the export changes between pages."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from benchmarks.exports import TRIALS_HEADER
from tests.conftest import BACKENDS, GraphQLClient, migrated_database
from tests.schema.registry_export import study, write_studies

# Trial n is NCT1000000n; its rows are made in this order, so its id is n as well.
STUDIES = [
    study("NCT10000001", acronym="Skåne", phase="PHASE2", start="2021-05-01", enrollment=30,
          sponsor="Region Skåne", countries=("SE", "SE")),
    study("NCT10000002", acronym="Västra", phase="PHASE1", enrollment=10,
          sponsor="Västra Götalandsregionen", countries=("SE",)),
    study("NCT10000003", acronym="Östra", start="2019-01-01"),
    study("NCT10000004", acronym="Leiden", phase="PHASE3", start="2021-05-01", enrollment=10,
          sponsor="Leiden University Medical Center", countries=("NL", "NL", "NL")),
    study("NCT10000005", acronym="leiden", phase="EARLY_PHASE1", start="2023-02", enrollment=200,
          sponsor="Leiden University Medical Center", countries=("NL",)),
    study("NCT10000006", phase="NA", start="2020-07-01", enrollment=50, sponsor="Region Skåne",
          countries=("SE", "NL")),
]  # fmt: skip

TRIALS = """
query Trials($order: [TrialOrder!], $first: Int, $after: String, $filter: TrialFilter) {
  trials(orderBy: $order, first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { nctId acronym } }
  }
}"""


@pytest.fixture(scope="module", params=BACKENDS)
def registry(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_problem: str | None,
) -> Iterator[GraphQLClient]:
    """Anybody's client over the six studies, on each database (read only)."""
    directory = tmp_path_factory.mktemp("registry")
    with migrated_database(request.param, directory, postgres_problem) as (url, engine):
        report = ingest(engine, CtGovFeed(), write_studies(directory / "page.json", STUDIES))
        assert (report.created, report.quarantined) == (6, 0), report.summary()
        engine.dispose()
        with TestClient(create_app(Settings(database_url=url))) as client:
            yield GraphQLClient(client)


def trials(client: GraphQLClient, **variables: Any) -> dict[str, Any]:
    return dict(client.execute(TRIALS, variables)["trials"])


def numbers(page: dict[str, Any]) -> list[int]:
    """The trials of a page by their number n (NCT1000000n)."""
    return [int(edge["node"]["nctId"][-1]) for edge in page["edges"]]


def order(*keys: str) -> list[dict[str, str]]:
    """orderBy from "KEY" or "KEY DESC" strings."""
    return [
        dict(zip(("field", "direction"), (*key.split(), "ASC")[:2], strict=True)) for key in keys
    ]


@pytest.mark.parametrize(
    ("key", "ascending"),
    [
        # Code points: capitals, then small letters, then letters beyond ASCII; NULL last.
        ("ACRONYM", [4, 1, 2, 5, 3, 6]),
        # The schema's order of phases (EARLY_PHASE1 first, NA last), not the alphabet's.
        ("PHASE", [5, 2, 1, 4, 6, 3]),
        # Trials 1 and 4 both started 2021-05-01: the id breaks the tie.
        ("START_DATE", [3, 6, 1, 4, 5, 2]),
        ("ENROLLMENT", [2, 4, 1, 6, 5, 3]),
        ("SITES_COUNT", [3, 2, 5, 1, 6, 4]),
        ("ID", [1, 2, 3, 4, 5, 6]),
    ],
)
def test_each_key_orders_both_ways_nulls_last_then_first(
    registry: GraphQLClient, key: str, ascending: list[int]
) -> None:
    up = trials(registry, order=order(key))
    down = trials(registry, order=order(f"{key} DESC"))

    assert numbers(up) == ascending
    # Descending is the exact reverse: NULLs first, ties by id descending.
    assert numbers(down) == ascending[::-1]


def test_text_sorts_by_code_point_on_both_databases(registry: GraphQLClient) -> None:
    acronyms = [
        edge["node"]["acronym"] for edge in trials(registry, order=order("ACRONYM"))["edges"]
    ]
    sponsors = registry.execute("{ institutions(orderBy: [{field: NAME}]) { nodes { name } } }")

    assert acronyms == ["Leiden", "Skåne", "Västra", "leiden", "Östra", None]
    assert [node["name"] for node in sponsors["institutions"]["nodes"]] == [
        "Leiden University Medical Center",
        "Region Skåne",
        "Västra Götalandsregionen",
    ]


def test_several_keys_order_in_turn(registry: GraphQLClient) -> None:
    # Most sites first; among trials with as many, by acronym (the one without one last).
    page = trials(registry, order=order("SITES_COUNT DESC", "ACRONYM"))

    assert numbers(page) == [4, 1, 6, 2, 5, 3]


def test_institutions_order_by_how_many_trials_they_sponsor(registry: GraphQLClient) -> None:
    data = registry.execute(
        """{ institutions(orderBy: [{field: SPONSORED_TRIALS_COUNT, direction: DESC},
                                    {field: NAME}]) { nodes { name } } }"""
    )

    assert [node["name"] for node in data["institutions"]["nodes"]] == [
        "Leiden University Medical Center",
        "Region Skåne",
        "Västra Götalandsregionen",
    ]


def _page_through(client: GraphQLClient, first: int, **variables: Any) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        page = trials(client, first=first, after=after, **variables)
        assert page["totalCount"] == 6
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += numbers(page)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    "keys",
    [
        (),
        ("ACRONYM",),
        ("ACRONYM DESC",),
        ("PHASE DESC", "START_DATE"),
        ("START_DATE", "ENROLLMENT DESC"),
        ("SITES_COUNT DESC", "ACRONYM"),
        ("ENROLLMENT", "ACRONYM DESC", "PHASE"),
    ],
    ids=lambda keys: ", ".join(keys) or "id",
)
@pytest.mark.parametrize("first", [1, 2, 4])
def test_paging_through_a_list_gives_its_whole_order_once(
    registry: GraphQLClient, keys: tuple[str, ...], first: int
) -> None:
    whole = numbers(trials(registry, order=order(*keys), first=100))

    assert _page_through(registry, first, order=order(*keys)) == whole
    assert sorted(whole) == [1, 2, 3, 4, 5, 6]


def test_a_filtered_list_pages_the_same_way(registry: GraphQLClient) -> None:
    swedish = {"sites": {"country": {"eq": "SE"}}}
    page = trials(registry, order=order("ACRONYM DESC"), first=2, filter=swedish)
    rest = trials(
        registry,
        order=order("ACRONYM DESC"),
        first=2,
        filter=swedish,
        after=page["pageInfo"]["endCursor"],
    )

    assert (numbers(page), numbers(rest)) == ([6, 2], [1])
    assert (page["totalCount"], rest["totalCount"]) == (3, 3)
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": rest["edges"][-1]["cursor"],
    }


def _tampered(cursor: str) -> str:
    text = base64.urlsafe_b64decode(cursor).decode()
    check, _, payload = text.partition(":")
    data = json.loads(payload)
    data["keys"][-1] += 1  # the next row's id: the checksum no longer matches
    return base64.urlsafe_b64encode(f"{check}:{json.dumps(data)}".encode()).decode()


@pytest.mark.parametrize(
    ("cursor_of", "used_with", "message"),
    [
        ("not base64", {}, "is not a cursor from this API"),
        ("tampered", {"order": order("ACRONYM")}, "is not a cursor from this API"),
        (
            "another order",
            {"order": order("ACRONYM DESC")},
            "is not a cursor of this list's order and filter (it was made for another; "
            "ask for the first page again)",
        ),
        (
            "another filter",
            {"order": order("ACRONYM"), "filter": {"phase": {"eq": "PHASE1"}}},
            "is not a cursor of this list's order and filter",
        ),
    ],
)
def test_a_cursor_for_another_list_order_or_filter_is_refused(
    registry: GraphQLClient, cursor_of: str, used_with: dict[str, Any], message: str
) -> None:
    cursor = trials(registry, order=order("ACRONYM"), first=2)["pageInfo"]["endCursor"]
    after = {"not base64": "%%%", "tampered": _tampered(cursor)}.get(cursor_of, cursor)

    body = registry.post(TRIALS, {"first": 2, "after": after, **used_with})

    assert body["data"] is None
    (error,) = body["errors"]
    assert error["message"].startswith("after: ")
    assert message in error["message"]
    assert "SELECT" not in json.dumps(body)


def test_a_cursor_from_another_list_is_refused(registry: GraphQLClient) -> None:
    cursor = registry.execute("{ institutions(first: 1) { pageInfo { endCursor } } }")[
        "institutions"
    ]["pageInfo"]["endCursor"]

    body = registry.post(TRIALS, {"after": cursor})

    assert "is not a cursor of this list's order and filter" in body["errors"][0]["message"]


def _export(directory: Path, *rows: str) -> str:
    directory.mkdir(exist_ok=True)
    (directory / "trials.csv").write_text("\n".join([TRIALS_HEADER, *rows]) + "\n", "utf-8-sig")
    return str(directory)


def _trial(number: int, started: str) -> str:
    return f"LU-T-{number};;;Trial {number};II;Rekryterar;Region Skåne;10;;;;{started}"


def test_a_page_after_a_cursor_neither_repeats_nor_skips_when_rows_come_and_go(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    months = {n: f"2020-0{n}-01" for n in range(1, 7)}
    ingest(
        engine, LundSkaneFeed(), _export(tmp_path / "v1", *(_trial(n, months[n]) for n in months))
    )
    query = """query($after: String) { trials(first: 2, after: $after,
                 orderBy: [{field: START_DATE, direction: DESC}]) {
                 totalCount pageInfo { hasNextPage endCursor } nodes { title } } }"""
    with TestClient(create_app(settings)) as http:
        client = GraphQLClient(http)
        first = client.execute(query)["trials"]
        assert [node["title"] for node in first["nodes"]] == ["Trial 6", "Trial 5"]

        # Before the next page: trial 5 (the cursor's own row) and trial 3 are withdrawn,
        # trial 7 (newer than the cursor) and trial 8 (older) are added.
        changed = [_trial(n, months[n]) for n in (1, 2, 4, 6)]
        changed += [_trial(7, "2020-07-01"), _trial(8, "2020-03-15")]
        export = _export(tmp_path / "v2", *changed)
        report = ingest(engine, LundSkaneFeed(), export, max_retired_share=1)
        assert (report.created, report.retired) == (2, 2), report.summary()

        rest: list[str] = []
        after = first["pageInfo"]["endCursor"]
        while after is not None:
            page = client.execute(query, {"after": after})["trials"]
            rest += [node["title"] for node in page["nodes"]]
            after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None

    assert page["totalCount"] == 6
    assert rest == ["Trial 4", "Trial 8", "Trial 2", "Trial 1"]
