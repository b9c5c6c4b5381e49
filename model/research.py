"""Projects across the seven collaboration areas, ATMP products, conditions, exchanges, courses."""

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atmp_graph.enums import AtmpClass, CollaborationArea, DevelopmentStage, ProjectStatus
from atmp_graph.model.associations import (
    partnership_product,
    partnership_project,
    product_indication,
    project_condition,
    project_partner,
    project_product,
    trial_condition,
    trial_product,
)
from atmp_graph.model.base import Base, IdMixin, NodeIdMixin, RetirementMixin, enum_column
from atmp_graph.model.collaboration import AliasMixin, Facility, Institution, Person

if TYPE_CHECKING:
    from atmp_graph.model.partnerships import Partnership
    from atmp_graph.model.trials import ClinicalTrial


class Condition(NodeIdMixin, Base):
    """A disease or indication; `normalized` is the folded name lookups compare."""

    __tablename__ = "condition"

    name: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500), unique=True)
    mesh_id: Mapped[str | None] = mapped_column(String(20))
    icd10: Mapped[str | None] = mapped_column(String(20))
    mondo_id: Mapped[str | None] = mapped_column(String(20))

    trials: Mapped[list["ClinicalTrial"]] = relationship(
        secondary=trial_condition, back_populates="conditions", lazy="raise"
    )
    products: Mapped[list["Product"]] = relationship(
        secondary=product_indication, back_populates="indications", lazy="raise"
    )
    projects: Mapped[list["Project"]] = relationship(
        secondary=project_condition, back_populates="conditions", lazy="raise"
    )
    aliases: Mapped[list["ConditionAlias"]] = relationship(
        back_populates="condition", lazy="raise", cascade="all, delete-orphan"
    )


class ConditionAlias(AliasMixin, Base):
    """Another name of a condition ("Parkinsons sjukdom" for Parkinson Disease)."""

    __tablename__ = "condition_alias"

    condition_id: Mapped[int] = mapped_column(
        ForeignKey("condition.id", ondelete="CASCADE"), index=True
    )
    condition: Mapped[Condition] = relationship(back_populates="aliases", lazy="raise")


class Product(NodeIdMixin, RetirementMixin, Base):
    """An ATMP candidate."""

    __tablename__ = "product"

    name: Mapped[str] = mapped_column(String(500))
    code: Mapped[str | None] = mapped_column(String(300))
    # Registries list interventions without an ATMP class; a partner feed may fill it in.
    atmp_class: Mapped[AtmpClass | None] = mapped_column(enum_column(AtmpClass))
    intervention_type: Mapped[str | None] = mapped_column(String(40))
    modality: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[DevelopmentStage | None] = mapped_column(enum_column(DevelopmentStage))
    originator_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    manufacturer_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    manufacturing_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))

    originator: Mapped[Institution | None] = relationship(
        foreign_keys=[originator_id], lazy="raise"
    )
    manufacturer: Mapped[Institution | None] = relationship(
        foreign_keys=[manufacturer_id], lazy="raise"
    )
    manufacturing_facility: Mapped[Facility | None] = relationship(lazy="raise")
    indications: Mapped[list[Condition]] = relationship(
        secondary=product_indication, back_populates="products", lazy="raise"
    )
    trials: Mapped[list["ClinicalTrial"]] = relationship(
        secondary=trial_product, back_populates="products", lazy="raise"
    )
    projects: Mapped[list["Project"]] = relationship(
        secondary=project_product, back_populates="products", lazy="raise"
    )
    partnerships: Mapped[list["Partnership"]] = relationship(
        secondary=partnership_product, back_populates="products", lazy="raise"
    )


Index("ix_product_atmp_class", Product.atmp_class, Product.id)


class Project(IdMixin, RetirementMixin, Base):
    """A piece of joint work in one of the agreement's collaboration areas."""

    __tablename__ = "project"
    __table_args__ = (Index("ix_project_area", "area", "id"),)

    code: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(1000))
    summary: Mapped[str | None] = mapped_column(String(5000))
    area: Mapped[CollaborationArea] = mapped_column(enum_column(CollaborationArea))
    status: Mapped[ProjectStatus | None] = mapped_column(enum_column(ProjectStatus))
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]
    lead_unit: Mapped[str | None] = mapped_column(String(500))
    lead_institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id"), index=True
    )

    lead_institution: Mapped[Institution | None] = relationship(
        back_populates="led_projects", lazy="raise"
    )
    partners: Mapped[list[Institution]] = relationship(
        secondary=project_partner, back_populates="partner_projects", lazy="raise"
    )
    conditions: Mapped[list[Condition]] = relationship(
        secondary=project_condition, back_populates="projects", lazy="raise"
    )
    products: Mapped[list[Product]] = relationship(
        secondary=project_product, back_populates="projects", lazy="raise"
    )
    partnerships: Mapped[list["Partnership"]] = relationship(
        secondary=partnership_project, back_populates="projects", lazy="raise"
    )


class Exchange(IdMixin, RetirementMixin, Base):
    """Researchers moving between partner institutions for a while."""

    __tablename__ = "exchange"

    title: Mapped[str] = mapped_column(String(1000))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    from_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    to_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]

    person: Mapped[Person | None] = relationship(lazy="raise")
    from_institution: Mapped[Institution | None] = relationship(
        foreign_keys=[from_institution_id], lazy="raise"
    )
    to_institution: Mapped[Institution | None] = relationship(
        foreign_keys=[to_institution_id], lazy="raise"
    )
    project: Mapped[Project | None] = relationship(lazy="raise")


class EducationActivity(IdMixin, RetirementMixin, Base):
    """A course or training the partners give together."""

    __tablename__ = "education_activity"

    title: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str | None] = mapped_column(String(120))
    host_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]

    host_institution: Mapped[Institution | None] = relationship(lazy="raise")
    project: Mapped[Project | None] = relationship(lazy="raise")
