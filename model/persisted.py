"""The documents an administrator registered ahead of time: in production
(ATMP_PERSISTED_ONLY) the only ones the API runs.  They live in the database, beside the data
they read, so they survive restarts and every worker, and a Redis flush, sees the same list."""

import datetime as dt

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atmp_graph.model.base import Base
from atmp_graph.model.provenance import utcnow


class PersistedDocument(Base):
    __tablename__ = "persisted_document"

    # The SHA-256 of the document's text, hex, as Apollo's persisted-query protocol sends it.
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    # Where the administrator's copy came from (a file name), for `persisted list`.
    source: Mapped[str] = mapped_column(String(500))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
