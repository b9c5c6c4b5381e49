"""Clinical trials and the sites that run them."""

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atmp_graph.enums import TrialPhase, TrialStatus
from atmp_graph.model.associations import trial_collaborator, trial_condition, trial_product
from atmp_graph.model.base import Base, IdMixin, NodeIdMixin, RetirementMixin, enum_column
from atmp_graph.model.collaboration import Facility, Institution
from atmp_graph.model.research import Condition, Product


class ClinicalTrial(NodeIdMixin, RetirementMixin, Base):
    """A trial, matched across feeds on its registry ids (NCT, EudraCT, EU CT)."""

    __tablename__ = "clinical_trial"

    nct_id: Mapped[str | None] = mapped_column(String(11), unique=True)
    eudract_id: Mapped[str | None] = mapped_column(String(14), unique=True)
    euct_id: Mapped[str | None] = mapped_column(String(17), unique=True)
    local_id: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(2000))
    acronym: Mapped[str | None] = mapped_column(String(120))
    phase: Mapped[TrialPhase | None] = mapped_column(enum_column(TrialPhase))
    status: Mapped[TrialStatus | None] = mapped_column(enum_column(TrialStatus))
    start_date: Mapped[dt.date | None]
    completion_date: Mapped[dt.date | None]
    enrollment: Mapped[int | None]
    study_type: Mapped[str | None] = mapped_column(String(40))
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)

    sponsor: Mapped[Institution | None] = relationship(
        back_populates="sponsored_trials", lazy="raise"
    )
    collaborators: Mapped[list[Institution]] = relationship(
        secondary=trial_collaborator, lazy="raise", order_by=Institution.id
    )
    sites: Mapped[list["TrialSite"]] = relationship(
        back_populates="trial", lazy="raise", cascade="all, delete-orphan", order_by="TrialSite.id"
    )
    conditions: Mapped[list[Condition]] = relationship(
        secondary=trial_condition, back_populates="trials", lazy="raise", order_by=Condition.id
    )
    products: Mapped[list[Product]] = relationship(
        secondary=trial_product, back_populates="trials", lazy="raise", order_by=Product.id
    )


# What the lists filter and sort trials by most (schema/ordering.py), each ending with the id
# as every order does.  On PostgreSQL the title's is built COLLATE "C", the order lists sort
# text in (migration 0013; reflection does not tell the collation apart).
Index(
    "ix_clinical_trial_phase_start_date",
    ClinicalTrial.phase,
    ClinicalTrial.start_date,
    ClinicalTrial.id,
)
Index(
    "ix_clinical_trial_status_start_date",
    ClinicalTrial.status,
    ClinicalTrial.start_date,
    ClinicalTrial.id,
)
Index("ix_clinical_trial_start_date", ClinicalTrial.start_date, ClinicalTrial.id)
Index("ix_clinical_trial_title", ClinicalTrial.title, ClinicalTrial.id)


class TrialSite(IdMixin, Base):
    """Where a trial runs: an institution or facility where known, always a name and place."""

    __tablename__ = "trial_site"
    # Trials by site country: the sites of a country, and their trials.
    __table_args__ = (Index("ix_trial_site_country", "country", "trial_id"),)

    trial_id: Mapped[int] = mapped_column(
        ForeignKey("clinical_trial.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(500))
    # The folded name, so that a name becoming known (an alias added) finds its sites again.
    normalized: Mapped[str | None] = mapped_column(String(500), index=True)
    city: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))

    trial: Mapped[ClinicalTrial] = relationship(back_populates="sites", lazy="raise")
    institution: Mapped[Institution | None] = relationship(
        back_populates="trial_sites", lazy="raise"
    )
    facility: Mapped[Facility | None] = relationship(lazy="raise")
