"""The shared model: one SQLAlchemy 2 typed ORM for every entity of the collaboration."""

from model.base import Base
from model.collaboration import (
    Agreement,
    Facility,
    FacilityAlias,
    Institution,
    InstitutionAlias,
    Person,
    Signatory,
)
from model.identity import EntityMerge, EntityRedirect, FieldConflict, MatchSuggestion
from model.partnerships import Partnership, PartnershipTerms
from model.provenance import (
    EntitySource,
    FeedState,
    IngestRun,
    PendingLink,
    QuarantinedRecord,
    SourceRecord,
)
from model.research import Condition, ConditionAlias, EducationActivity, Exchange, Product, Project
from model.trials import ClinicalTrial, TrialSite

__all__ = [
    "Agreement",
    "Base",
    "ClinicalTrial",
    "Condition",
    "ConditionAlias",
    "EducationActivity",
    "EntityMerge",
    "EntityRedirect",
    "EntitySource",
    "Exchange",
    "Facility",
    "FacilityAlias",
    "FeedState",
    "FieldConflict",
    "IngestRun",
    "Institution",
    "InstitutionAlias",
    "MatchSuggestion",
    "Partnership",
    "PartnershipTerms",
    "PendingLink",
    "Person",
    "Product",
    "Project",
    "QuarantinedRecord",
    "Signatory",
    "SourceRecord",
    "TrialSite",
]
