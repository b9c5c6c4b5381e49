"""API keys and the server's own secret.

A key is stored only as an HMAC of it under the server secret: keys are random and long, so a
fast keyed hash is as safe as a slow password hash and costs microseconds a request.  The
secret is made once, by the migration that added keys, unless ATMP_SECRET_KEY overrides it.
"""

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atmp_graph.enums import Role
from atmp_graph.model.base import Base, IdMixin, enum_column
from atmp_graph.model.collaboration import Institution
from atmp_graph.model.provenance import utcnow


class ApiKey(IdMixin, Base):
    """One key: the institution it speaks for, its role, and whether it still works."""

    __tablename__ = "api_key"

    # The key's public part (`atmp_<prefix>_...`), shown in listings to tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    institution: Mapped[Institution] = relationship(lazy="raise")


class ServerSecret(Base):
    """The secret the key hashes (and the content hashes shown to curators) are keyed with."""

    __tablename__ = "server_secret"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
