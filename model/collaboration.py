"""The collaboration's backbone: the agreement, institutions, facilities and people."""

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atmp_graph.enums import (
    AgreementStatus,
    FacilityKind,
    FacilityStatus,
    InstitutionKind,
)
from atmp_graph.model.associations import agreement_party, person_affiliation
from atmp_graph.model.base import Base, IdMixin, NodeIdMixin, RetirementMixin, enum_column

if TYPE_CHECKING:
    from atmp_graph.model.partnerships import Partnership
    from atmp_graph.model.research import Project
    from atmp_graph.model.trials import ClinicalTrial, TrialSite


class Agreement(IdMixin, RetirementMixin, Base):
    __tablename__ = "agreement"

    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(500))
    signed_date: Mapped[dt.date | None]
    signed_place: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[AgreementStatus] = mapped_column(enum_column(AgreementStatus))
    status_note: Mapped[str | None] = mapped_column(String(2000))
    areas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    therapy_areas: Mapped[list[Any]] = mapped_column(JSON, default=list)

    parties: Mapped[list["Institution"]] = relationship(
        secondary=agreement_party, lazy="raise", order_by="Institution.id"
    )
    signatories: Mapped[list["Signatory"]] = relationship(
        back_populates="agreement", lazy="raise", cascade="all, delete-orphan"
    )


class Institution(NodeIdMixin, RetirementMixin, Base):
    """A university, hospital, company, authority or infrastructure; matched on ROR id."""

    __tablename__ = "institution"

    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[InstitutionKind] = mapped_column(enum_column(InstitutionKind))
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(200))
    ror_id: Mapped[str | None] = mapped_column(String(9), unique=True)
    registration_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    part_of_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))

    part_of: Mapped["Institution | None"] = relationship(remote_side="Institution.id", lazy="raise")
    aliases: Mapped[list["InstitutionAlias"]] = relationship(
        back_populates="institution", lazy="raise", cascade="all, delete-orphan"
    )
    facilities: Mapped[list["Facility"]] = relationship(back_populates="owner", lazy="raise")
    led_projects: Mapped[list["Project"]] = relationship(
        back_populates="lead_institution", lazy="raise"
    )
    partner_projects: Mapped[list["Project"]] = relationship(
        secondary="project_partner", back_populates="partners", lazy="raise"
    )
    sponsored_trials: Mapped[list["ClinicalTrial"]] = relationship(
        back_populates="sponsor", lazy="raise"
    )
    trial_sites: Mapped[list["TrialSite"]] = relationship(
        back_populates="institution", lazy="raise"
    )
    partnerships: Mapped[list["Partnership"]] = relationship(
        secondary="partnership_institution", back_populates="institutions", lazy="raise"
    )
    company_partnerships: Mapped[list["Partnership"]] = relationship(
        back_populates="partner", lazy="raise"
    )


# Institutions by country, by kind and by name (COLLATE "C" on PostgreSQL, as in 0013).
Index("ix_institution_country", Institution.country, Institution.id)
Index("ix_institution_kind", Institution.kind, Institution.id)
Index("ix_institution_name", Institution.name, Institution.id)


class AliasMixin(IdMixin):
    """Another name something goes by; `normalized` (the folded name) is what lookups compare.

    A folded name belongs to one owner only, so a name always finds the same node.
    """

    alias: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500), unique=True)


class InstitutionAlias(AliasMixin, Base):
    __tablename__ = "institution_alias"

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    institution: Mapped[Institution] = relationship(back_populates="aliases", lazy="raise")


class Facility(NodeIdMixin, RetirementMixin, Base):
    """A GMP facility, ATMP centre, research centre, infrastructure or science park."""

    __tablename__ = "facility"

    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    kind: Mapped[FacilityKind] = mapped_column(enum_column(FacilityKind))
    description: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[FacilityStatus | None] = mapped_column(enum_column(FacilityStatus))
    opened_year: Mapped[int | None]
    city: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    cluster: Mapped[str | None] = mapped_column(String(200))

    owner: Mapped[Institution | None] = relationship(back_populates="facilities", lazy="raise")
    aliases: Mapped[list["FacilityAlias"]] = relationship(
        back_populates="facility", lazy="raise", cascade="all, delete-orphan"
    )


class FacilityAlias(AliasMixin, Base):
    __tablename__ = "facility_alias"

    facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), index=True
    )
    facility: Mapped[Facility] = relationship(back_populates="aliases", lazy="raise")


class Person(NodeIdMixin, Base):
    """A researcher or signatory; matched on ORCID where one is known."""

    __tablename__ = "person"

    name: Mapped[str] = mapped_column(String(300))
    orcid: Mapped[str | None] = mapped_column(String(19), unique=True)

    affiliations: Mapped[list[Institution]] = relationship(
        secondary=person_affiliation, lazy="raise", order_by="Institution.id"
    )


class Signatory(IdMixin, Base):
    """A person who signed the agreement, in a role, for an institution."""

    __tablename__ = "signatory"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreement.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    role: Mapped[str | None] = mapped_column(String(200))

    agreement: Mapped[Agreement] = relationship(back_populates="signatories", lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")
    institution: Mapped[Institution | None] = relationship(lazy="raise")
