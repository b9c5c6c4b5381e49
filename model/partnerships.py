"""Industry partnerships; commercial terms live in their own table, visible only to parties."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atmp_graph.enums import PartnershipKind, PartnershipStatus
from atmp_graph.model.associations import (
    partnership_institution,
    partnership_product,
    partnership_project,
)
from atmp_graph.model.base import Base, IdMixin, RetirementMixin, enum_column
from atmp_graph.model.collaboration import Institution
from atmp_graph.model.research import Product, Project


class Partnership(IdMixin, RetirementMixin, Base):
    """An agreement between a company and one or more of the academic partners."""

    __tablename__ = "partnership"

    code: Mapped[str | None] = mapped_column(String(120))
    partner_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    kind: Mapped[PartnershipKind] = mapped_column(enum_column(PartnershipKind))
    status: Mapped[PartnershipStatus | None] = mapped_column(enum_column(PartnershipStatus))
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]

    partner: Mapped[Institution] = relationship(back_populates="company_partnerships", lazy="raise")
    institutions: Mapped[list[Institution]] = relationship(
        secondary=partnership_institution, back_populates="partnerships", lazy="raise"
    )
    projects: Mapped[list[Project]] = relationship(
        secondary=partnership_project, back_populates="partnerships", lazy="raise"
    )
    products: Mapped[list[Product]] = relationship(
        secondary=partnership_product, back_populates="partnerships", lazy="raise"
    )
    terms: Mapped["PartnershipTerms | None"] = relationship(
        back_populates="partnership", lazy="raise", cascade="all, delete-orphan"
    )


class PartnershipTerms(Base):
    """Commercial terms, kept apart so that access to them can be granted on their own."""

    __tablename__ = "partnership_terms"

    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), primary_key=True
    )
    value_amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    confidential: Mapped[bool] = mapped_column(default=True)

    partnership: Mapped[Partnership] = relationship(back_populates="terms", lazy="raise")
