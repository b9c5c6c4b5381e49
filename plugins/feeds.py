"""What a feed adapter is: the object a plugin hands the host for each feed it serves."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from atmp_graph.plugins.cursors import (
    CURSOR_TYPES,
    CursorError,
    CursorType,
    CursorValue,
    canonical,
    is_after,
    parse_cursor,
)
from atmp_graph.plugins.records import SourceRow


@dataclass(frozen=True)
class Stream:
    """One kind of record a feed yields.

    `entity` is its record type and `primary_key` the field that is its source id.
    `cursor_field` is the field whose value orders it for incremental reads (None: it is
    always read whole), and `cursor_type` what that value is: "date" (YYYY-MM-DD), "datetime"
    (ISO 8601 with an offset), "number", or "text" (the default, compared as text, as every
    cursor was in contract 1.0).  The host quarantines a record whose cursor is not of that
    type, compares cursors as values of it, and keeps and hands back the state in canonical
    text (`canonical_cursor`: timestamps in UTC).

    `full_read_is_complete` says that a read of the whole stream yields every record the
    source has: a record that such a read (not narrowed by a setting or its source, see
    `narrows_read`) no longer yields is retired.  By default (False) a record is kept until
    the feed sends a deletion for it (`SourceRow(deleted=True)`).
    """

    entity: str
    primary_key: str
    cursor_field: str | None = None
    cursor_type: CursorType = "text"
    full_read_is_complete: bool = False

    def __post_init__(self) -> None:
        if self.cursor_type not in CURSOR_TYPES:
            allowed = ", ".join(CURSOR_TYPES)
            raise ValueError(
                f"stream {self.entity!r}: cursor_type {self.cursor_type!r} is not one of {allowed}"
            )

    def cursor_value(self, cursor: str) -> CursorValue:
        """`cursor` as a value of the stream's cursor type; CursorError says why it is not."""
        return parse_cursor(self.cursor_type, cursor)

    def canonical_cursor(self, cursor: str) -> str:
        """`cursor` in the text form the host keeps the state in."""
        return canonical(self.cursor_value(cursor))

    def newer_than(self, cursor: str | None, state: str | None) -> bool:
        """Whether a record with `cursor` is past `state` (None: no state, read it all).

        A record without a cursor, or with one that is not of the stream's type, cannot be
        placed in time: it is read (and the host quarantines the second kind).
        """
        if state is None or cursor is None or not cursor.strip():
            return True
        try:
            return is_after(self.cursor_value(cursor), self.cursor_value(state))
        except CursorError:
            return True


class NoConfig(BaseModel):
    """The configuration of a feed that takes none: any key is a mistake."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def narrows_read(self, source: str) -> bool:
        """Nothing narrows a read: each read of `source` is a read of the whole feed."""
        return False


def narrows_read(config: BaseModel, source: str) -> bool:
    """Whether reading `source` with these settings reads only part of what the feed has (a
    query, a page limit, one file of many), as the config model says with a
    `narrows_read(source)` method; a model without one narrows nothing."""
    method = getattr(config, "narrows_read", None)
    return bool(method(source)) if callable(method) else False


@runtime_checkable
class FeedAdapter(Protocol):
    """Reads one institution's or registry's export and yields its records.

    `name` is how users pick the feed (`atmp-graph ingest NAME SOURCE`); `institution_ror` is
    the ROR id of the institution it speaks for, where it has one; `streams` lists the entity
    types it yields, in the order it yields them, so that references point backwards;
    `config_model` is a pydantic model of its settings (the host validates them, and names
    the feed and key when they are wrong); a model whose settings (or sources) can narrow a
    read to part of the feed says when with a `narrows_read(source)` method, and a narrowed
    read retires nothing.
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
        """Yield the records at `source` (a path or URL) whose cursor is past `state[entity]`.

        `state` holds, per stream, the cursor of the newest record the host stored, in the
        stream's canonical text (`Stream.canonical_cursor`; `Stream.newer_than` compares);
        a stream it has no entry for is read whole.
        """
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
