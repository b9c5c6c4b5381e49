"""The plugin contract: every hook a feed plugin may implement.

A plugin needs only `pluggy.HookimplMarker("atmp_graph")` and functions named like these.
pluggy passes each implementation only the arguments it names, so a hook can gain arguments
later without breaking plugins written against an older contract.  A hook that raises is
reported once with its plugin, and what it was asked is handled as if it had no answer; a
validation hook that raises quarantines the record it could not check.

`atmp_graph_validate_record`: an implementation that names `row` (the `SourceRow` as the
adapter yielded it, with its cursor and labels) is asked about every record, also one the
built-in checks rejected: then `record` is None and `problems` holds the built-in problems
(`Problem`s, in the feed's words).  One that does not name `row` (as plugins written before it
existed) is asked about valid records only, so its `record` is never None.  Any (field, reason)
pair it returns quarantines the record, after the built-in reasons; `field` is a record field,
which the quarantine shows in the feed's words (the row's `labels`).
"""

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from atmp_graph.plugins.feeds import FeedAdapter
    from atmp_graph.plugins.records import Record, SourceRow
    from atmp_graph.plugins.report import IngestReport, Problem

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
def atmp_graph_validate_record(
    feed: str, record: "Record | None", row: "SourceRow", problems: "tuple[Problem, ...]"
) -> list[tuple[str, str]] | None:
    """Return problems with a record as (field, reason) pairs, after the built-in ones."""


@hookspec(firstresult=True)
def atmp_graph_normalize_identifier(scheme: str, value: str) -> str | None:
    """Return the canonical form of an identifier of `scheme` (nct, eudract, ...), or None."""


@hookspec
def atmp_graph_after_ingest(report: "IngestReport") -> None:
    """Called after every ingest run (dry runs included) with its report."""
