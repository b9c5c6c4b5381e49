"""The audit trail: one entry per curation operation, written in the operation's transaction.

An entry says who (the caller's key, institution and role, or the command-line user), when,
what (the operation and its arguments), on what (the target node or record) and what it
changed (JSON snapshots before and after).  Key and institution are plain numbers, not foreign
keys: a merge re-points every foreign key to the merged node, and history must not move.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from atmp_graph.model.base import Base, IdMixin
from atmp_graph.model.provenance import utcnow


class AuditEntry(IdMixin, Base):
    """One operation that changed the graph by hand, with what it changed."""

    __tablename__ = "audit_entry"

    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    operation: Mapped[str] = mapped_column(String(100), index=True)
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    who: Mapped[str] = mapped_column(String(300))
    key_id: Mapped[int | None] = mapped_column(index=True)
    institution_id: Mapped[int | None] = mapped_column(index=True)
    role: Mapped[str | None] = mapped_column(String(40))
    target_type: Mapped[str | None] = mapped_column(String(60))
    target_id: Mapped[int | None]
    before: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    after: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True)


@dataclass(frozen=True)
class Actor:
    """Who did it: an API key's holder (key, institution, role) or a command-line user."""

    who: str
    key_id: int | None = None
    institution_id: int | None = None
    role: str | None = None


def record(
    session: Session,
    actor: Actor,
    operation: str,
    *,
    arguments: dict[str, Any],
    target: tuple[str, int] | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Add the entry to the session: it commits, or rolls back, with the operation."""
    entry = AuditEntry(
        operation=operation,
        arguments=arguments,
        who=actor.who,
        key_id=actor.key_id,
        institution_id=actor.institution_id,
        role=actor.role,
        target_type=None if target is None else target[0],
        target_id=None if target is None else target[1],
        before=before,
        after=after,
    )
    session.add(entry)
    return entry
