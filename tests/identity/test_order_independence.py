"""Ingesting the feeds in any order, or re-ingesting one of them, yields the same graph.

Every order of the built-in feeds' samples is ingested into an empty database of each kind, and
the whole graph, read over GraphQL, is compared with the graph of the same samples ingested in
registration order (as `serve --demo` loads them) into another database of the same kind.
"""

import difflib
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.ingest import ingest
from atmp_graph.plugins.manager import PluginHost, build_plugin_host
from tests.conftest import GraphQLClient, admin_headers, migrated_database
from tests.identity.graph_snapshot import changed_nodes, graph_snapshot, to_text

DIFF_LINES = 200

Snapshot = dict[str, Any]


def _sample_feeds(host: PluginHost) -> list[str]:
    """The built-in feeds that bundle a sample, in registration order."""
    return [name for name, adapter in host.builtin_feeds().items() if adapter.sample() is not None]


FEEDS = _sample_feeds(build_plugin_host(load_entry_points=False))
ORDERS = list(itertools.permutations(FEEDS))


def _ingest_samples(engine: Engine, feeds: Iterable[str]) -> None:
    host = build_plugin_host(load_entry_points=False)
    adapters = host.builtin_feeds()
    for feed in feeds:
        sample = adapters[feed].sample()
        assert sample is not None, feed
        ingest(engine, adapters[feed], sample, host=host, full=True)


def _snapshot(database_url: str) -> Snapshot:
    with TestClient(
        create_app(Settings(database_url=database_url)), headers=admin_headers(database_url)
    ) as client:
        return graph_snapshot(GraphQLClient(client))


@pytest.fixture(scope="session")
def reference_snapshot(
    tmp_path_factory: pytest.TempPathFactory, postgres_problem: str | None
) -> Iterator[Callable[[str], Snapshot]]:
    """The graph of the samples ingested in registration order, by backend ("sqlite" or
    "postgresql"): built once per backend, in a database of its own, when first asked for."""
    with ExitStack() as databases:

        @functools.cache
        def build(backend: str) -> Snapshot:
            directory = tmp_path_factory.mktemp("reference")
            url, engine = databases.enter_context(
                migrated_database(backend, directory, postgres_problem)
            )
            _ingest_samples(engine, FEEDS)
            engine.dispose()
            return _snapshot(url)

        yield build


def _differences(expected: Snapshot, actual: Snapshot, *, expected_after: str, label: str) -> str:
    """The nodes that differ by name, then a unified diff of the two snapshots as indented JSON,
    cut at DIFF_LINES lines."""
    diff = list(
        difflib.unified_diff(
            to_text(expected).splitlines(),
            to_text(actual).splitlines(),
            fromfile=f"after {expected_after}",
            tofile=f"after {label}",
            n=6,
            lineterm="",
        )
    )
    shown = "\n".join(diff[:DIFF_LINES])
    more = f"\n… {len(diff) - DIFF_LINES} more diff lines" if len(diff) > DIFF_LINES else ""
    nodes = "\n".join(changed_nodes(expected, actual))
    return (
        f"the graph after {label} differs from the one after {expected_after}:\n"
        f"{nodes}\n{shown}{more}"
    )


def test_every_built_in_feed_with_a_sample_takes_part() -> None:
    assert {"collaboration", "lund_skane", "lumc", "ctgov"} <= set(FEEDS)


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_any_order_of_the_feeds_gives_the_same_graph(
    engine: Engine,
    database_url: str,
    reference_snapshot: Callable[[str], Snapshot],
    order: tuple[str, ...],
) -> None:
    _ingest_samples(engine, order)

    snapshot = _snapshot(database_url)

    expected = reference_snapshot(engine.dialect.name)
    if snapshot != expected:
        pytest.fail(
            _differences(
                expected,
                snapshot,
                expected_after="ingesting " + " > ".join(FEEDS),
                label="ingesting " + " > ".join(order),
            )
        )


@pytest.mark.parametrize("feed", FEEDS)
def test_ingesting_a_feed_again_changes_nothing(
    engine: Engine, database_url: str, feed: str
) -> None:
    _ingest_samples(engine, FEEDS)
    before = _snapshot(database_url)

    _ingest_samples(engine, [feed])

    after = _snapshot(database_url)
    if after != before:
        pytest.fail(
            _differences(
                before,
                after,
                expected_after="ingesting every feed",
                label=f"ingesting {feed} again",
            )
        )
