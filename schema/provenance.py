"""GraphQL types for where data came from: source records, ingest runs, quarantine, and what
was retired because its feeds no longer send it."""

import datetime as dt
from typing import Annotated, Any, Self

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.scalars import JSON

import atmp_graph.model as m
from atmp_graph.access.keys import keyed_hash
from atmp_graph.access.viewer import Tier
from atmp_graph.identity import audited
from atmp_graph.schema.audit import actor
from atmp_graph.schema.audit import audited as audited_call
from atmp_graph.schema.connection import Connection
from atmp_graph.schema.context import Info
from atmp_graph.schema.enums import IngestRunStatus, QuarantineStatus
from atmp_graph.schema.filtering import filter_conditions
from atmp_graph.schema.filters import QuarantineFilter
from atmp_graph.schema.list_names import order_type
from atmp_graph.schema.mapping import Mapped, MappedRelayNode, column_names, maps, related
from atmp_graph.schema.pagination import ORDER_BY, PAGED, connection_field, paginate


@strawberry.interface(
    description="Something feeds build: retired when its feeds no longer send it (a complete "
    "read left it out, or the feed sent a deletion). A retired one is kept as it was, left out "
    "of the top-level lists, and back as soon as a feed sends it again."
)
class Retirable:
    retired_at: dt.datetime | None = strawberry.field(
        description="When it was retired (null while a feed still sends it)."
    )
    retired_by_run_id: strawberry.Private[int | None]

    @strawberry.field(description="The ingest run that retired it.")
    async def retired_by(self, info: Info) -> "IngestRun | None":
        if self.retired_by_run_id is None:
            return None
        row = await info.context.loaders.by_id(m.IngestRun).load(self.retired_by_run_id)
        return None if row is None else IngestRun.from_row(row)


@maps(m.SourceRecord)
@strawberry.type(description="One record of one feed that built (part of) a node.")
class SourceRecord(Mapped, Retirable):
    id: strawberry.Private[int]
    feed: str = strawberry.field(description="The feed it came from, such as lund_skane.")
    entity_type: str = strawberry.field(description="The kind of record, such as project.")
    source_id: str = strawberry.field(description="Its id in the feed.")
    source_uri: str | None = strawberry.field(
        description="The file or URL it was read from (curators and admins)."
    )
    plugin_version: str | None = strawberry.field(
        description="Version of the feed adapter (curators and admins)."
    )
    fetched_at: dt.datetime = strawberry.field(description="When it was last read changed.")
    stored_hash: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        columns = [name for name in column_names(cls) if name != "stored_hash"]
        return cls(**{name: getattr(row, name) for name in columns}, stored_hash=row.content_hash)

    @strawberry.field(
        description="A fingerprint of its validated content, changing whenever the content "
        "does: SHA-256 keyed with the server's secret, so it cannot be checked against guessed "
        "content (curators and admins)."
    )
    async def content_hash(self, info: Info) -> str | None:
        return keyed_hash(await info.context.secret(), self.stored_hash)


@maps(m.QuarantinedRecord)
@strawberry.type(
    description="A feed record that failed validation, kept whole with the reason. It stays "
    "OPEN until a later run stores the record, quarantines it again or an admin discards it; "
    "a curator may ask for it to be read again (requestReingest)."
)
class QuarantinedRecord(Mapped):
    id: int = strawberry.field(
        description="Its number, for discardQuarantinedRecord and `atmp-graph quarantine`."
    )
    feed: str = strawberry.field(description="The feed it came from.")
    entity_type: str | None = strawberry.field(description="The kind of record it claimed to be.")
    file: str | None = strawberry.field(description="The file it was in.")
    row: int | None = strawberry.field(description="Its line in that file (the header is line 1).")
    source_id: str | None = strawberry.field(description="Its id in the feed, if it had one.")
    field: str | None = strawberry.field(description="The field that failed, in the feed's words.")
    stored_value: strawberry.Private[str | None]
    stored_reason: strawberry.Private[str]
    stored_raw: strawberry.Private[dict[str, Any] | None]
    confidential: strawberry.Private[list[str] | None]
    status: QuarantineStatus = strawberry.field(description="Whether it is still wrong.")
    run: "IngestRun" = related(m.QuarantinedRecord.run, description="The run that quarantined it.")
    resolved_at: dt.datetime | None = strawberry.field(
        description="When a later run stored the record, or quarantined it again."
    )
    resolved_by: "IngestRun | None" = related(
        m.QuarantinedRecord.resolved_by_run, description="That later run."
    )
    discarded_at: dt.datetime | None = strawberry.field(description="When an admin discarded it.")
    discarded_by: str | None = strawberry.field(description="Who discarded it.")
    discard_reason: str | None = strawberry.field(description="Why it needs no fix.")
    reingest_requested_at: dt.datetime | None = strawberry.field(
        description="When a curator asked for it to be read again (requestReingest)."
    )
    reingest_requested_by: str | None = strawberry.field(description="Who asked.")
    reingest_reason: str | None = strawberry.field(description="Why it is to be read again.")
    reingest_run_id: strawberry.Private[int | None]

    @strawberry.field(
        description="The run that read its stream again as asked (null: the next run will)."
    )
    async def reingested_by(self, info: Info) -> "IngestRun | None":
        if self.reingest_run_id is None:
            return None
        row = await info.context.loaders.by_id(m.IngestRun).load(self.reingest_run_id)
        return None if row is None else IngestRun.from_row(row)

    @classmethod
    def from_row(cls, row: Any) -> Self:
        stored = {"stored_value": row.value, "stored_reason": row.reason, "stored_raw": row.raw}
        columns = [name for name in column_names(cls) if name not in stored]
        return cls(**{name: getattr(row, name) for name in columns}, **stored)

    def _hidden(self, info: Info) -> set[str]:
        """The raw keys this viewer may not read (a partnership's terms: admins only)."""
        return set() if info.context.viewer.may(Tier.ADMIN) else set(self.confidential or ())

    @strawberry.field(
        description="The value that failed (null where it is confidential and you are no admin)."
    )
    def value(self, info: Info) -> str | None:
        hidden = self._hidden(info)
        return None if "*" in hidden or self.field in hidden else self.stored_value

    @strawberry.field(
        description="The whole error: feed, place, field and reason (a confidential value "
        "left out for all but admins)."
    )
    def reason(self, info: Info) -> str:
        if self.stored_value is not None and self.value(info) is None:
            return self.stored_reason.replace(repr(self.stored_value), "(confidential)")
        return self.stored_reason

    @strawberry.field(
        description="The record exactly as read; for all but admins without what is "
        "confidential in it (a partnership's terms)."
    )
    def raw(self, info: Info) -> JSON | None:
        hidden = self._hidden(info)
        raw: Any = self.stored_raw
        if raw is None or "*" in hidden:
            return None
        return {key: value for key, value in raw.items() if key not in hidden}  # type: ignore[return-value]


@maps(m.IngestRun)
@strawberry.type(description="One run of one feed and its report: read = stored + quarantined.")
class IngestRun(MappedRelayNode):
    id: relay.NodeID[int]
    feed: str = strawberry.field(description="The feed that ran.")
    source_uri: str | None = strawberry.field(description="What it read.")
    started_at: dt.datetime = strawberry.field(
        description="When it started (while it is QUEUED: when it was queued)."
    )
    finished_at: dt.datetime | None = strawberry.field(description="When it ended.")
    status: IngestRunStatus = strawberry.field(
        description="Where it stands: QUEUED, RUNNING, or how it ended."
    )
    error: str | None = strawberry.field(description="Why it failed, if it did.")
    queued_at: dt.datetime | None = strawberry.field(
        description="When it was asked for, by runIngest or its feed's schedule (null: it was "
        "started from the command line)."
    )
    requested_by: str | None = strawberry.field(
        description="Who asked for it: the API key's holder, or `schedule` (null: the command "
        "line)."
    )
    waiting_for: "IngestRun | None" = related(
        m.IngestRun.waiting_for,
        description="The run of the same feed it was queued behind, if one had not ended when "
        "it was asked for: a feed runs one run at a time, in the order they were asked for.",
    )
    worker: str | None = strawberry.field(
        description="The worker that took it (host:process:lease), while it runs and after."
    )
    heartbeat_at: dt.datetime | None = strawberry.field(
        description="Its worker's last sign of life while it ran (with the counts so far); a "
        "run whose worker stops is marked FAILED once its lease expires without one."
    )
    read: int = strawberry.field(description="Records read (while it runs: so far).")
    created: int = strawberry.field(description="Records that built new nodes.")
    updated: int = strawberry.field(description="Records that changed existing nodes.")
    unchanged: int = strawberry.field(description="Records already stored as they are.")
    quarantined: int = strawberry.field(description="Records quarantined.")
    deleted: int = strawberry.field(description="Records it retired: the feed sent a deletion.")
    retired: int = strawberry.field(
        description="Records it retired: its complete read no longer had them."
    )
    quarantine: list[QuarantinedRecord] = related(
        m.IngestRun.quarantine, description="The records it quarantined, with their reasons."
    )


@strawberry.type
class ProvenanceQuery:
    ingest_runs = connection_field(
        IngestRun,
        description="Ingest runs with their reports, oldest first (curators and admins).",
        nullable=True,
    )

    @strawberry.field(
        description="Feed records that failed validation, with their reasons: those still OPEN "
        "(what is still wrong, whichever run found it), unless `filter.status` asks for others "
        "or `filter.runId` names a run (then every one that run quarantined). Curators and "
        "admins only.",
        metadata=PAGED,
    )
    async def quarantined_records(
        self,
        info: Info,
        *,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Start after it.")] = None,
        order_by: Annotated[
            list[order_type(m.QuarantinedRecord)] | None,  # type: ignore[valid-type]
            strawberry.argument(description=ORDER_BY),
        ] = None,
        filter: Annotated[
            QuarantineFilter | None, strawberry.argument(description="Which records.")
        ] = None,
    ) -> Connection[QuarantinedRecord] | None:
        where = filter_conditions(m.QuarantinedRecord, filter)
        if filter is None or (filter.status is None and filter.run_id is None):
            where.append(m.QuarantinedRecord.status == QuarantineStatus.OPEN)
        return await paginate(
            info,
            QuarantinedRecord,
            first=first,
            after=after,
            where=where,
            order_by=order_by,
            filter=filter,
        )


@strawberry.type
class ProvenanceMutation:
    @strawberry.mutation(
        description="Discard an open quarantined record that needs no fix (the record is gone "
        "at its source, or wrong on purpose): it leaves the open list, kept with who and why.",
    )
    async def discard_quarantined_record(
        self,
        info: Info,
        id: Annotated[int, strawberry.argument(description="Its number.")],
        reason: Annotated[str, strawberry.argument(description="Why, for the record.")],
    ) -> QuarantinedRecord:
        by = actor(info.context.viewer)

        def discard(session: Session) -> QuarantinedRecord:
            entry = audited.discard_quarantined(session, by, id, reason=reason)
            return QuarantinedRecord.from_row(entry)

        return await audited_call(info, discard)

    @strawberry.mutation(
        description="Have an open quarantined record read again (its source fixed it, say, "
        "without changing what the feed's cursor reads): the feed's next run reads the "
        "record's stream whole, so the record is read whatever the cursor says, and stored "
        "(RESOLVED) or quarantined again (SUPERSEDED). The request is kept with who and why."
    )
    async def request_reingest(
        self,
        info: Info,
        id: Annotated[int, strawberry.argument(description="Its number.")],
        reason: Annotated[str, strawberry.argument(description="Why, for the record.")],
    ) -> QuarantinedRecord:
        by = actor(info.context.viewer)

        def request(session: Session) -> QuarantinedRecord:
            entry = audited.request_reingest(session, by, id, reason=reason)
            return QuarantinedRecord.from_row(entry)

        return await audited_call(info, request)
