"""Which nodes are one real-world thing: suggestions, merges, redirects and conflicts.

Merges are recorded whole (what moved, what was folded away), so that one admin operation
can split them again; a merged-away id keeps resolving to its survivor through a redirect.
"""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atmp_graph.enums import SuggestionStatus
from atmp_graph.model.base import Base, IdMixin, enum_column
from atmp_graph.model.provenance import utcnow


class EntityRedirect(Base):
    """A node that was merged away: its id now means `new_id`."""

    __tablename__ = "entity_redirect"

    entity_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    old_id: Mapped[int] = mapped_column(primary_key=True)
    new_id: Mapped[int] = mapped_column(index=True)


class MatchSuggestion(IdMixin, Base):
    """Two nodes that may be one thing (similar names, no shared identifier).

    Never merged until an admin accepts; a rejected pair is never suggested again.
    `entity_id` is always the smaller of the two ids.
    """

    __tablename__ = "match_suggestion"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", "other_id"),)

    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int]
    other_id: Mapped[int]
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[SuggestionStatus] = mapped_column(
        enum_column(SuggestionStatus), default=SuggestionStatus.PENDING, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EntityMerge(IdMixin, Base):
    """One merge of `merged_id` into `survivor_id`, with all it takes to undo it."""

    __tablename__ = "entity_merge"
    __table_args__ = (Index("ix_entity_merge_entity", "entity_type", "merged_id"),)

    entity_type: Mapped[str] = mapped_column(String(60))
    survivor_id: Mapped[int]
    merged_id: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    # The merged-away row as it was, the rows re-pointed at the survivor (table -> keys) and
    # the rows dropped because the survivor already had their like (table -> rows).
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    moved: Mapped[dict[str, Any]] = mapped_column(JSON)
    dropped: Mapped[dict[str, Any]] = mapped_column(JSON)
    merged_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    split_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class FieldConflict(Base):
    """A field of a node on which its source records disagree (kept by identity/resolution.py)."""

    __tablename__ = "field_conflict"

    entity_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    entity_id: Mapped[int] = mapped_column(primary_key=True)
    field: Mapped[str] = mapped_column(String(60), primary_key=True)
