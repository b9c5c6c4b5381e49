"""What the host says of each plugin: its failures, and the listing of `atmp-graph plugins`
and the GraphQL `plugins` query."""

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

VALIDATE = "atmp_graph_validate_record"


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    reason: str

    def message(self) -> str:
        return f"plugin {self.plugin!r}: {self.reason}"


def unchecked_mark(plugin: str) -> str:
    """How the quarantine reason of a record begins when `plugin`'s validation hook raised on
    it: a later command finds the plugin's failure in the quarantine by this text."""
    return f"plugin {plugin!r} could not check it: "


@dataclass(frozen=True)
class PluginInfo:
    """What `atmp-graph plugins` and the GraphQL `plugins` query show of one plugin."""

    name: str
    version: str | None
    builtin: bool
    hooks: tuple[str, ...]
    feeds: tuple[str, ...]
    errors: tuple[str, ...] = ()

    def unchecked_mark(self) -> str | None:
        """The text that marks, in the quarantine, the records its validation hook could not
        check; None if it has no validation hook."""
        return unchecked_mark(self.name) if VALIDATE in self.hooks else None

    def with_unchecked(self, latest: Iterable[tuple[str, int, int, str]]) -> "PluginInfo":
        """This listing, plus what each feed's latest run quarantined because this plugin's
        validation hook raised: (feed, run id, records, one of their reasons) per feed.

        The ingest that met the failure may have been another process, so the quarantine is
        where a later command (`atmp-graph plugins`, the server) learns of it.
        """
        mark = self.unchecked_mark()
        if mark is None:
            return self
        errors = list(self.errors)
        for feed, run_id, count, reason in latest:
            # The stored reason joins the record's problems with "; "; the hook's is one line.
            error = reason.partition(mark)[2].split("; ")[0]
            records = "record" if count == 1 else "records"
            errors.append(
                f"{error} in the latest {feed} ingest (run {run_id}), which quarantined "
                f"{count} {records} it could not check: fix the hook, then read them again "
                f"with `atmp-graph ingest --full {feed} SOURCE`"
            )
        return dataclasses.replace(self, errors=tuple(errors))
