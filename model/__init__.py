"""The shared model: one SQLAlchemy 2 typed ORM for every entity of the collaboration."""

from atmp_graph.model.access import ApiKey, ServerSecret
from atmp_graph.model.audit import AuditEntry
from atmp_graph.model.base import Base
from atmp_graph.model.collaboration import (
    Agreement,
    Facility,
    FacilityAlias,
    Institution,
    InstitutionAlias,
    Person,
    Signatory,
)
from atmp_graph.model.identity import EntityMerge, EntityRedirect, FieldConflict, MatchSuggestion
from atmp_graph.model.jobs import IngestLease, IngestSchedule
from atmp_graph.model.outbox import ChangeEvent
from atmp_graph.model.partnerships import Partnership, PartnershipTerms
from atmp_graph.model.persisted import PersistedDocument
from atmp_graph.model.provenance import (
    EntitySource,
    FeedState,
    IngestRun,
    PendingLink,
    QuarantinedRecord,
    SourceRecord,
)
from atmp_graph.model.research import (
    Condition,
    ConditionAlias,
    EducationActivity,
    Exchange,
    Product,
    Project,
)
from atmp_graph.model.trials import ClinicalTrial, TrialSite

__all__ = [
    "Agreement",
    "ApiKey",
    "AuditEntry",
    "Base",
    "ChangeEvent",
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
    "IngestLease",
    "IngestRun",
    "IngestSchedule",
    "Institution",
    "InstitutionAlias",
    "MatchSuggestion",
    "Partnership",
    "PartnershipTerms",
    "PendingLink",
    "PersistedDocument",
    "Person",
    "Product",
    "Project",
    "QuarantinedRecord",
    "ServerSecret",
    "Signatory",
    "SourceRecord",
    "TrialSite",
]

# The change history's session events: every session of the process records what it changes.
from atmp_graph.model import change_events as _change_events  # noqa: F401
