"""What a feed adapter is: the object a plugin hands the host for each feed it serves."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from atmp_graph.plugins.records import SourceRow


@dataclass(frozen=True)
class Stream:
    """One kind of record a feed yields: its entity type, the field that is its source id,
    and the field whose value orders it for incremental reads (None: always read whole)."""

    entity: str
    primary_key: str
    cursor_field: str | None = None


class NoConfig(BaseModel):
    """The configuration of a feed that takes none: any key is a mistake."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@runtime_checkable
class FeedAdapter(Protocol):
    """Reads one institution's or registry's export and yields its records.

    `name` is how users pick the feed (`atmp-graph ingest NAME SOURCE`); `institution_ror` is
    the ROR id of the institution it speaks for, where it has one; `streams` lists the entity
    types it yields, in the order it yields them, so that references point backwards;
    `config_model` is a pydantic model of its settings (the host validates them, and names
    the feed and key when they are wrong).
    """

    name: str
    title: str
    version: str
    institution_ror: str | None
    streams: tuple[Stream, ...]
    config_model: type[BaseModel]

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        """Yield the records at `source` (a path or URL) whose cursor is past `state[entity]`."""
        ...

    def sample(self) -> str | None:
        """A bundled sample export, ingested by `serve --demo`; None if there is none."""
        ...


class ConfigError(ValueError):
    """A feed's configuration does not fit its `config_model`."""


def feed_config(adapter: FeedAdapter, config: Mapping[str, Any] | None) -> BaseModel:
    """Validate `config` against the feed's own model; the error names the feed and key."""
    try:
        return adapter.config_model.model_validate(dict(config or {}))
    except ValidationError as error:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg'].lower()}"
            for detail in error.errors()
        )
        raise ConfigError(f"{adapter.name}: configuration: {reasons}") from None
