"""What a feed adapter is: the object a plugin hands the host for each feed it serves."""

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from plugins.records import SourceRow


@runtime_checkable
class FeedAdapter(Protocol):
    """Reads one institution's or registry's export and yields its records.

    `name` is how users pick the feed (`atmp-graph ingest NAME PATH`); `streams` lists the
    entity types it yields, in the order it yields them, so that references point backwards.
    """

    name: str
    title: str
    version: str
    institution_ror: str | None
    streams: tuple[str, ...]

    def read(self, source: Path) -> Iterator[SourceRow]:
        """Yield every record of the export at `source`, one `SourceRow` each."""
        ...

    def sample(self) -> Path | None:
        """A bundled sample export, ingested by `serve --demo`; None if there is none."""
        ...
