"""The plugin contract: every hook a feed plugin may implement.

A plugin needs only `pluggy.HookimplMarker("atmp_graph")` and functions named like these.
pluggy passes each implementation only the arguments it names, so a hook can gain arguments
later without breaking plugins written against an older contract.
"""

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from atmp_graph.plugins.feeds import FeedAdapter
    from atmp_graph.plugins.records import Record
    from atmp_graph.plugins.report import IngestReport

PROJECT_NAME = "atmp_graph"

# pluggy's markers are typed: a marked function keeps its signature for mypy.
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def atmp_graph_feeds() -> "list[FeedAdapter]":  # type: ignore[empty-body]
    """Return the feed adapters this plugin provides."""


@hookspec(firstresult=True)
def atmp_graph_claim_source(source: str) -> str | None:
    """Return the name of the feed that reads `source` (a path or URL), or None."""


@hookspec
def atmp_graph_validate_record(feed: str, record: "Record") -> list[tuple[str, str]] | None:
    """Return more problems with a valid record as (field, reason) pairs; any quarantines it."""


@hookspec(firstresult=True)
def atmp_graph_normalize_identifier(scheme: str, value: str) -> str | None:
    """Return the canonical form of an identifier of `scheme` (nct, eudract, ...), or None."""


@hookspec
def atmp_graph_after_ingest(report: "IngestReport") -> None:
    """Called after every ingest run (dry runs included) with its report."""
