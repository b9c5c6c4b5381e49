"""Live updates over a real server: a subscriber sees an ingest as its batches commit, resumes
from the last sequence it saw, sees only what its key may, and is capped; Redis wakes every
server of a deployment, and without it the server finds other processes' changes itself."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from atmp_graph.enums import Role
from atmp_graph.ingest import ingest
from atmp_graph.model.database import make_engine
from atmp_graph.plugins.builtin.collaboration import CollaborationFeed
from benchmarks.live_client import CHANGES, connected
from tests.conftest import api_key
from tests.databases import migrate
from tests.live_server import serving

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
HISTORY = """
query History($filter: ChangeFilter, $after: String) {
  changes(filter: $filter, first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { sequence kind entityType nodeId institutionId }
  }
}
"""
RUNS = "subscription { ingestRuns { sequence kind report { status } } }"


@pytest.fixture
def migrated(database_url: str) -> str:
    migrate(database_url)
    return database_url


def server(database_url: str, cwd: Path, **settings: str) -> Any:
    env = {"ATMP_DATABASE_URL": database_url, "ATMP_RATE_LIMIT": "false", **settings}
    return serving(COMMAND, cwd=cwd, env=env)


def ingest_collaboration(database_url: str, *, batch_size: int = 5) -> None:
    """The collaboration feed's sample, in batches of `batch_size` records."""
    engine = make_engine(database_url)
    feed = CollaborationFeed()
    ingest(engine, feed, feed.sample(), batch_size=batch_size)
    engine.dispose()


def history(base: str, token: str | None, **filter: Any) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx2.post(
        f"{base}/graphql",
        json={"query": HISTORY, "variables": {"filter": filter or None}},
        headers=headers,
    )
    body = response.json()
    assert "errors" not in body, body
    page = body["data"]["changes"]
    assert not page["pageInfo"]["hasNextPage"]
    assert page["totalCount"] == len(page["nodes"])
    return list(page["nodes"])


def errors(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A refused subscription's errors: an `error` message's, or a `next` message's."""
    payload = message["payload"]
    return list(payload if message["type"] == "error" else payload["errors"])


def sequences(events: list[dict[str, Any]]) -> list[int]:
    return [event["sequence"] for event in events]


def batches(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The events of each committed batch: a run reports its progress as each one ends."""
    batch: list[dict[str, Any]] = []
    for event in events:
        batch.append(event)
        if event["kind"] in ("RUN_STARTED", "RUN_PROGRESS", "RUN_FINISHED"):
            yield batch
            batch = []


def test_a_subscriber_sees_an_ingest_batch_by_batch_and_resumes_after_what_it_saw(
    migrated: str, tmp_path: Path
) -> None:
    token = api_key(migrated, Role.ADMIN)

    async def story(base: str) -> None:
        async with connected(base, token) as subscriber:
            await subscriber.subscribe(CHANGES)
            await asyncio.sleep(0.5)  # subscribed before the ingest starts
            await asyncio.to_thread(ingest_collaboration, migrated)
            seen = await subscriber.until("RUN_FINISHED")

            # In order, with no gap; the run's start first, its end last.
            first = seen[0]["sequence"]
            assert sequences(seen) == list(range(first, first + len(seen)))
            assert seen[0]["kind"] == "RUN_STARTED"
            assert seen[-1]["report"] == {"status": "SUCCEEDED", "read": 13, "created": 13}
            # One event per node per batch: the batches of 5 records made 16 nodes.
            nodes = [(e["entityType"], e["nodeId"]) for e in seen if e["kind"] == "CREATED"]
            assert len(nodes) == len(set(nodes)) == 16
            assert all(len(batch) > 1 for batch in list(batches(seen))[1:])
            assert {e["feed"] for e in seen} == {"collaboration"}

            # A second subscriber, resuming after the fifth, gets exactly the rest.
            async with connected(base, token) as late:
                await late.subscribe(CHANGES, after=seen[4]["sequence"])
                assert await late.events(len(seen) - 5) == [
                    {**event, "id": "1"} for event in seen[5:]
                ]
        # The history answers the same, after the institution the admin's key was made for.
        assert sequences(history(base, token)) == [1, *sequences(seen)]

    with server(migrated, tmp_path) as base:
        asyncio.run(story(base))


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server over SQLite that has the collaboration feed, and its database URL."""
    directory = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{directory / 'atmp-graph.db'}"
    migrate(url)
    ingest_collaboration(url)
    with server(url, directory) as base:
        yield base, url


@pytest.mark.parametrize(
    ("filter", "wanted"),
    [
        ({"types": ["FACILITY"]}, lambda e: e["entityType"] == "FACILITY"),
        ({"feed": "collaboration"}, lambda e: True),
        ({"feed": "lumc"}, lambda e: False),
    ],
    ids=["type", "feed", "another feed"],
)
def test_a_subscription_resumed_from_the_start_is_filtered_as_the_history(
    ingested: tuple[str, str], filter: dict[str, Any], wanted: Any
) -> None:
    base, url = ingested
    token = api_key(url, Role.ADMIN)
    everything = history(base, token)
    expected = [event for event in everything if wanted(event)]
    assert history(base, token, **filter) == expected

    async def story() -> list[dict[str, Any]]:
        async with connected(base, token) as subscriber:
            await subscriber.subscribe(CHANGES, after=0, **filter)
            return await subscriber.events(len(expected))

    assert sequences(asyncio.run(story())) == sequences(expected)


def test_an_institutions_changes_are_those_of_its_nodes(ingested: tuple[str, str]) -> None:
    base, url = ingested
    token = api_key(url, Role.ADMIN)
    everything = history(base, token)
    owner = next(e["institutionId"] for e in everything if e["entityType"] == "FACILITY")
    expected = [e for e in everything if e["institutionId"] == owner]
    assert {e["entityType"] for e in expected} == {"FACILITY", "INSTITUTION"}

    async def story() -> list[dict[str, Any]]:
        async with connected(base, token) as subscriber:
            await subscriber.subscribe(CHANGES, after=0, institution=owner)
            return await subscriber.events(len(expected))

    assert sequences(asyncio.run(story())) == sequences(expected)
    assert history(base, token, institution=owner) == expected


def test_anybody_sees_the_nodes_change_and_only_curators_see_the_runs(
    ingested: tuple[str, str],
) -> None:
    base, url = ingested
    admin = history(base, api_key(url, Role.ADMIN))
    anybody = history(base, None)
    assert {e["kind"] for e in admin} == {"RUN_STARTED", "RUN_PROGRESS", "RUN_FINISHED", "CREATED"}
    assert anybody == [e for e in admin if e["kind"] == "CREATED"]
    assert history(base, api_key(url, Role.CURATOR)) == admin

    async def story() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with connected(base) as stranger:
            await stranger.subscribe(CHANGES, after=0)
            events = await stranger.events(len(anybody))
            await stranger.subscribe(RUNS)
            return events, await stranger.message()

    events, refused = asyncio.run(story())
    assert sequences(events) == sequences(anybody)
    assert errors(refused)[0]["extensions"]["code"] == "FORBIDDEN"


def test_a_resume_from_before_the_history_or_past_its_end_is_refused(
    ingested: tuple[str, str],
) -> None:
    base, url = ingested

    async def story() -> dict[str, Any]:
        async with connected(base, api_key(url, Role.ADMIN)) as subscriber:
            await subscriber.subscribe(CHANGES, after=10_000)
            return await subscriber.message()

    refused = asyncio.run(story())
    assert errors(refused)[0]["message"].startswith("after: there is no event 10000")


def test_subscriptions_are_capped_per_connection_and_per_key(migrated: str, tmp_path: Path) -> None:
    token = api_key(migrated, Role.PARTNER)
    caps = {
        "ATMP_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
        "ATMP_MAX_SUBSCRIPTIONS_PER_KEY": "3",
    }

    async def refusal(connection: Any) -> str:
        await connection.subscribe(CHANGES)
        message = await connection.message()
        if message["type"] == "next":  # an error in the stream, then its end
            assert await connection.message() == {"id": message["id"], "type": "complete"}
        return str(errors(message)[0]["message"])

    async def story(base: str) -> None:
        async with connected(base, token) as one, connected(base, token) as two:
            await one.subscribe(CHANGES)
            await one.subscribe(CHANGES)
            assert "(ATMP_MAX_SUBSCRIPTIONS_PER_CONNECTION)" in await refusal(one)
            await two.subscribe(CHANGES)
            await asyncio.sleep(0.5)  # the subscriptions have started
            assert "(ATMP_MAX_SUBSCRIPTIONS_PER_KEY)" in await refusal(two)
            await one.complete("1")
            await asyncio.sleep(0.5)  # the server has let it go
            await two.subscribe(CHANGES)
            await asyncio.to_thread(ingest_collaboration, migrated, batch_size=100)
            # A partner sees no runs: the 16 nodes, on each of its two subscriptions.
            events = await two.events(32)
            assert sorted(event["id"] for event in events) == ["1"] * 16 + ["3"] * 16

    with server(migrated, tmp_path, **caps) as base:
        asyncio.run(story(base))


def test_redis_wakes_every_server_when_another_process_ingests(
    postgres_database_url: str, redis_settings: dict[str, Any], tmp_path: Path
) -> None:
    """Two servers over one PostgreSQL, polling only every ten minutes: only Redis can tell
    them in time of the batches a command-line ingest commits."""
    migrate(postgres_database_url)
    token = api_key(postgres_database_url, Role.ADMIN)
    shared = {
        "ATMP_REDIS_URL": redis_settings["redis_url"],
        "ATMP_REDIS_PREFIX": redis_settings["redis_prefix"],
        "ATMP_CHANGES_POLL_SECONDS": "600",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    async def story(first: str, second: str) -> None:
        async with connected(first, token) as one, connected(second, token) as two:
            await one.subscribe(CHANGES)
            await two.subscribe(CHANGES)
            await asyncio.sleep(0.5)  # both subscribed
            command = [COMMAND, "ingest", "collaboration", CollaborationFeed().sample()]
            env = {"ATMP_DATABASE_URL": postgres_database_url, **shared}
            await asyncio.to_thread(
                subprocess.run, command, env={**os.environ, **env}, check=True, timeout=120
            )
            seen_one, seen_two = await one.until("RUN_FINISHED"), await two.until("RUN_FINISHED")
        assert seen_one == seen_two
        assert sequences(seen_one) == list(range(2, 2 + len(seen_one)))

    with (
        server(postgres_database_url, tmp_path / "a", **shared) as first,
        server(postgres_database_url, tmp_path / "b", **shared) as second,
    ):
        asyncio.run(story(first, second))


def test_without_redis_a_change_made_through_the_server_wakes_its_subscribers_at_once(
    migrated: str, tmp_path: Path
) -> None:
    """A curator's edit commits in the server's own process, which wakes its subscribers
    without waiting for the (here ten-minute) poll; the event names the key that made it."""
    ingest_collaboration(migrated)
    admin = api_key(migrated, Role.ADMIN)
    edit = """
    mutation Edit($node: ID!) {
      editCuratedFields(node: $node, values: {city: "Lund C"}, reason: "moved") { id }
    }"""

    async def story(base: str) -> list[dict[str, Any]]:
        institution = next(e for e in history(base, admin) if e["entityType"] == "INSTITUTION")
        async with connected(base, admin) as subscriber:
            await subscriber.subscribe(CHANGES + " ", types=["INSTITUTION"])
            await asyncio.sleep(0.5)
            headers = {"Authorization": f"Bearer {admin}"}
            async with httpx2.AsyncClient(base_url=base, headers=headers) as http:
                response = await http.post(
                    "/graphql", json={"query": edit, "variables": {"node": institution["nodeId"]}}
                )
            assert "errors" not in response.json(), response.json()
            return await subscriber.events(1)

    with server(migrated, tmp_path, ATMP_CHANGES_POLL_SECONDS="600") as base:
        (event,) = asyncio.run(story(base))
    assert event["kind"] == "UPDATED"
    assert (event["feed"], event["runId"]) == (None, None)
    assert [change["field"] for change in event["changes"]] == ["city"]
    assert event["changes"][0]["new"] == "Lund C"
