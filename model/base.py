"""Declarative base shared by every table."""

import datetime as dt
import enum
from typing import Any, ClassVar

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Predictable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    """Every entity has an integer key; GraphQL turns it into a global id."""

    id: Mapped[int] = mapped_column(primary_key=True)


class NodeIdMixin(IdMixin):
    """The key of a node that can be merged away: it is never handed out again, so the global
    id of a merged node keeps meaning that node (PostgreSQL sequences never reuse an id;
    SQLite needs AUTOINCREMENT for that)."""

    __table_args__: ClassVar[Any] = {"sqlite_autoincrement": True}


class RetirementMixin:
    """A row feeds build can be retired: a source record when its feed no longer sends it (a
    complete read left it out, or the feed sent a deletion), a node when no feed still sends
    any record that built it.  Retired rows are kept, as they were, with when and by which
    ingest run; the top-level lists leave them out, and a record sent again brings them back.
    """

    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The ingest run that retired it (no foreign key, like SourceRecord.run_id: a bookkeeping
    # number that must not tie a node to the run table).
    retired_by_run_id: Mapped[int | None]


def enum_column(enum_type: type[enum.Enum]) -> Any:
    """Store an enum by value as a plain string, so both databases read it the same way."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda members: [member.value for member in members],
    )
