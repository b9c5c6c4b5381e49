"""GraphQL types for where data came from: source records, ingest runs, quarantine."""

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy import func, select
from strawberry import relay
from strawberry.scalars import JSON

import atmp_graph.model as m
from atmp_graph.schema.context import Info
from atmp_graph.schema.enums import IngestRunStatus
from atmp_graph.schema.filters import IngestRunFilter, QuarantineFilter
from atmp_graph.schema.mapping import Mapped, MappedRelayNode, maps, related
from atmp_graph.schema.pagination import Connection, connection_field, filter_conditions, paginate


@maps(m.SourceRecord)
@strawberry.type(description="One record of one feed that built (part of) a node.")
class SourceRecord(Mapped):
    id: strawberry.Private[int]
    feed: str = strawberry.field(description="The feed it came from, such as lund_skane.")
    entity_type: str = strawberry.field(description="The kind of record, such as project.")
    source_id: str = strawberry.field(description="Its id in the feed.")
    source_uri: str | None = strawberry.field(description="The file or URL it was read from.")
    plugin_version: str | None = strawberry.field(description="Version of the feed adapter.")
    fetched_at: dt.datetime = strawberry.field(description="When it was last read changed.")
    content_hash: str = strawberry.field(description="SHA-256 of its validated content.")


@maps(m.QuarantinedRecord)
@strawberry.type(description="A feed record that failed validation, kept whole with the reason.")
class QuarantinedRecord(Mapped):
    id: strawberry.Private[int]
    feed: str = strawberry.field(description="The feed it came from.")
    entity_type: str | None = strawberry.field(description="The kind of record it claimed to be.")
    file: str | None = strawberry.field(description="The file it was in.")
    row: int | None = strawberry.field(description="Its line in that file (the header is line 1).")
    source_id: str | None = strawberry.field(description="Its id in the feed, if it had one.")
    field: str | None = strawberry.field(description="The field that failed, in the feed's words.")
    value: str | None = strawberry.field(description="The value that failed.")
    reason: str = strawberry.field(description="The whole error: feed, place, field and reason.")
    raw: JSON | None = strawberry.field(description="The record exactly as read.")


@maps(m.IngestRun)
@strawberry.type(description="One run of one feed and its report: read = stored + quarantined.")
class IngestRun(MappedRelayNode):
    id: relay.NodeID[int]
    feed: str = strawberry.field(description="The feed that ran.")
    source_uri: str | None = strawberry.field(description="What it read.")
    started_at: dt.datetime = strawberry.field(description="When it started.")
    finished_at: dt.datetime | None = strawberry.field(description="When it ended.")
    status: IngestRunStatus = strawberry.field(description="How it ended.")
    error: str | None = strawberry.field(description="Why it failed, if it did.")
    read: int = strawberry.field(description="Records read.")
    created: int = strawberry.field(description="Records that built new nodes.")
    updated: int = strawberry.field(description="Records that changed existing nodes.")
    unchanged: int = strawberry.field(description="Records already stored as they are.")
    quarantined: int = strawberry.field(description="Records quarantined.")
    quarantine: list[QuarantinedRecord] = related(
        m.IngestRun.quarantine, description="The records it quarantined, with their reasons."
    )


@strawberry.type
class ProvenanceQuery:
    ingest_runs = connection_field(
        IngestRun, IngestRunFilter, description="Ingest runs with their reports, oldest first."
    )

    @strawberry.field(
        description="Feed records that failed validation, with their reasons: those of each "
        "feed's latest run, or of the run that `filter.runId` names."
    )
    async def quarantined_records(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Start after it.")] = None,
        filter: Annotated[
            QuarantineFilter | None, strawberry.argument(description="Which records.")
        ] = None,
    ) -> Connection[QuarantinedRecord]:
        where = filter_conditions(m.QuarantinedRecord, filter)
        if filter is None or filter.run_id is None:
            latest = select(func.max(m.IngestRun.id)).group_by(m.IngestRun.feed)
            where.append(m.QuarantinedRecord.run_id.in_(latest))
        return await paginate(info, QuarantinedRecord, first=first, after=after, where=where)
