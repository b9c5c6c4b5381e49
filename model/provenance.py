"""Where everything came from: source records, ingest runs, quarantine, links still waiting."""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atmp_graph.enums import IngestRunStatus, QuarantineStatus
from atmp_graph.model.base import Base, IdMixin, RetirementMixin, enum_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SourceRecord(IdMixin, RetirementMixin, Base):
    """One record of one feed, as last seen; `content_hash` tells whether it changed.

    Retired when its feed no longer sends it; its claims then no longer count.
    """

    __tablename__ = "source_record"
    # source_id leads, so that looking up a batch of ids (source_id IN ...) uses the index.
    __table_args__ = (UniqueConstraint("source_id", "feed", "entity_type"),)

    feed: Mapped[str] = mapped_column(String(120))
    entity_type: Mapped[str] = mapped_column(String(60))
    source_id: Mapped[str] = mapped_column(String(300))
    source_uri: Mapped[str | None] = mapped_column(String(2000))
    plugin_version: Mapped[str | None] = mapped_column(String(60))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    content_hash: Mapped[str] = mapped_column(String(64))
    # External identifiers the record carried, as [scheme, value] pairs (NCT, EudraCT, ROR, ...).
    identifiers: Mapped[list[Any] | None] = mapped_column(JSON)
    # What the record says of each field of the node it built ({"phase": "PHASE1", ...}):
    # the node's values are chosen from its records' claims (identity/resolution.py).
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # The last run that read the record, and where in the export it was: a record read twice
    # in one run is found in the database, so memory does not grow with the feed.
    run_id: Mapped[int | None]
    row: Mapped[int | None]

    entities: Mapped[list["EntitySource"]] = relationship(
        back_populates="source_record", lazy="raise", cascade="all, delete-orphan"
    )


class FeedState(Base):
    """How far a feed's stream has been read: its cursor after the last complete run."""

    __tablename__ = "feed_state"

    feed: Mapped[str] = mapped_column(String(120), primary_key=True)
    stream: Mapped[str] = mapped_column(String(60), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EntitySource(Base):
    """Links a source record to every entity it built (one row may build several)."""

    __tablename__ = "entity_source"
    __table_args__ = (Index("ix_entity_source_entity", "entity_type", "entity_id"),)

    source_record_id: Mapped[int] = mapped_column(
        ForeignKey("source_record.id", ondelete="CASCADE"), primary_key=True
    )
    entity_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    entity_id: Mapped[int] = mapped_column(primary_key=True)

    source_record: Mapped[SourceRecord] = relationship(back_populates="entities", lazy="raise")


class IngestRun(IdMixin, Base):
    """One run of one feed, with the counts of its report; read = stored + quarantined."""

    __tablename__ = "ingest_run"

    feed: Mapped[str] = mapped_column(String(120), index=True)
    source_uri: Mapped[str | None] = mapped_column(String(2000))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[IngestRunStatus] = mapped_column(enum_column(IngestRunStatus))
    error: Mapped[str | None] = mapped_column(Text)
    read: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    quarantined: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[int] = mapped_column(default=0)
    retired: Mapped[int] = mapped_column(default=0)
    # A run asked for as a job (jobs/): when and by whom, the run of the same feed it waits
    # behind, the worker that took it and its last sign of life.  A run started from the
    # command line has none of these but `worker`; `started_at` of a QUEUED run is when it
    # was queued, until a worker starts it.
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str | None] = mapped_column(String(300))
    waiting_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("ingest_run.id", ondelete="SET NULL")
    )
    worker: Mapped[str | None] = mapped_column(String(300))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    waiting_for: Mapped["IngestRun | None"] = relationship(
        remote_side="IngestRun.id", foreign_keys=[waiting_for_id], lazy="raise"
    )
    quarantine: Mapped[list["QuarantinedRecord"]] = relationship(
        back_populates="run",
        lazy="raise",
        order_by="QuarantinedRecord.id",
        foreign_keys="QuarantinedRecord.run_id",
    )


class QuarantinedRecord(IdMixin, Base):
    """A record that failed validation, kept whole with the field and reason it failed on.

    It stays OPEN until a later run stores the record (RESOLVED, by that run), quarantines it
    again (SUPERSEDED: the new entry is the open one) or an admin discards it (DISCARDED).
    """

    __tablename__ = "quarantined_record"
    __table_args__ = (Index("ix_quarantined_record_record", "feed", "entity_type", "source_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.id", ondelete="CASCADE"), index=True)
    feed: Mapped[str] = mapped_column(String(120))
    entity_type: Mapped[str | None] = mapped_column(String(60))
    file: Mapped[str | None] = mapped_column(String(500))
    row: Mapped[int | None]
    source_id: Mapped[str | None] = mapped_column(String(300))
    field: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The keys of `raw` only admins may read (a partnership's terms); ["*"]: all of it.
    confidential: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[QuarantineStatus] = mapped_column(
        enum_column(QuarantineStatus), default=QuarantineStatus.OPEN, index=True
    )
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("ingest_run.id", ondelete="SET NULL")
    )
    discarded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    discarded_by: Mapped[str | None] = mapped_column(String(200))
    discard_reason: Mapped[str | None] = mapped_column(Text)
    # A curator asked for the record to be read again: the feed's next run reads the record's
    # stream whole (model/quarantine.py), and says it did in `reingest_run_id`.
    reingest_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reingest_requested_by: Mapped[str | None] = mapped_column(String(300))
    reingest_reason: Mapped[str | None] = mapped_column(Text)
    reingest_run_id: Mapped[int | None]

    run: Mapped[IngestRun] = relationship(
        back_populates="quarantine", lazy="raise", foreign_keys=[run_id]
    )
    resolved_by_run: Mapped[IngestRun | None] = relationship(
        lazy="raise", foreign_keys=[resolved_by_run_id]
    )


class PendingLink(IdMixin, Base):
    """A reference to a record of the same feed that is quarantined for now.

    The referring record is stored; the link is made as soon as its target arrives valid,
    so fixing one bad row never needs the rows that point at it to be sent again.
    """

    __tablename__ = "pending_link"
    __table_args__ = (
        UniqueConstraint("feed", "entity_type", "entity_id", "relation", "target_source_id"),
    )

    feed: Mapped[str] = mapped_column(String(120))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int]
    relation: Mapped[str] = mapped_column(String(60))
    target_entity_type: Mapped[str] = mapped_column(String(60))
    target_source_id: Mapped[str] = mapped_column(String(300))
