"""The controlled vocabularies of the model; the GraphQL schema exposes these same enums."""

import enum


class AgreementStatus(enum.Enum):
    NEGOTIATION = "NEGOTIATION"
    AGREED = "AGREED"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


class InstitutionKind(enum.Enum):
    UNIVERSITY = "UNIVERSITY"
    HOSPITAL = "HOSPITAL"
    HEALTHCARE_AUTHORITY = "HEALTHCARE_AUTHORITY"
    COMPANY = "COMPANY"
    INFRASTRUCTURE = "INFRASTRUCTURE"
    SCIENCE_PARK = "SCIENCE_PARK"
    FUNDER = "FUNDER"
    OTHER = "OTHER"


class FacilityKind(enum.Enum):
    GMP_MANUFACTURING = "GMP_MANUFACTURING"
    ATMP_CENTRE = "ATMP_CENTRE"
    RESEARCH_CENTRE = "RESEARCH_CENTRE"
    RESEARCH_INFRASTRUCTURE = "RESEARCH_INFRASTRUCTURE"
    SCIENCE_PARK = "SCIENCE_PARK"


class FacilityStatus(enum.Enum):
    PLANNED = "PLANNED"
    UNDER_CONSTRUCTION = "UNDER_CONSTRUCTION"
    OPERATIONAL = "OPERATIONAL"


class CollaborationArea(enum.Enum):
    RESEARCH = "RESEARCH"
    RESEARCHER_EXCHANGE = "RESEARCHER_EXCHANGE"
    EDUCATION = "EDUCATION"
    CLINICAL_STUDIES = "CLINICAL_STUDIES"
    PRODUCT_DEVELOPMENT = "PRODUCT_DEVELOPMENT"
    INDUSTRY_COLLABORATION = "INDUSTRY_COLLABORATION"
    CARE_DELIVERY = "CARE_DELIVERY"


class ProjectStatus(enum.Enum):
    PLANNED = "PLANNED"
    ONGOING = "ONGOING"
    COMPLETED = "COMPLETED"


class AtmpClass(enum.Enum):
    """EMA's ATMP classes."""

    GTMP = "GTMP"
    SCTMP = "SCTMP"
    TEP = "TEP"
    COMBINED = "COMBINED"


class DevelopmentStage(enum.Enum):
    PRECLINICAL = "PRECLINICAL"
    CLINICAL = "CLINICAL"
    PHASE1 = "PHASE1"
    PHASE2 = "PHASE2"
    PHASE3 = "PHASE3"
    AUTHORISED = "AUTHORISED"


class TrialPhase(enum.Enum):
    """ClinicalTrials.gov's phases, with combined phases spelt out."""

    EARLY_PHASE1 = "EARLY_PHASE1"
    PHASE1 = "PHASE1"
    PHASE1_PHASE2 = "PHASE1_PHASE2"
    PHASE2 = "PHASE2"
    PHASE2_PHASE3 = "PHASE2_PHASE3"
    PHASE3 = "PHASE3"
    PHASE4 = "PHASE4"
    NA = "NA"


class TrialStatus(enum.Enum):
    """ClinicalTrials.gov's overall statuses; every feed translates into these."""

    NOT_YET_RECRUITING = "NOT_YET_RECRUITING"
    RECRUITING = "RECRUITING"
    ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION"
    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    COMPLETED = "COMPLETED"
    WITHDRAWN = "WITHDRAWN"
    UNKNOWN = "UNKNOWN"


class PartnershipKind(enum.Enum):
    LICENSING = "LICENSING"
    SPONSORED_RESEARCH = "SPONSORED_RESEARCH"
    COLLABORATIVE_RESEARCH = "COLLABORATIVE_RESEARCH"
    CO_DEVELOPMENT = "CO_DEVELOPMENT"
    MANUFACTURING = "MANUFACTURING"
    SPIN_OUT = "SPIN_OUT"


class PartnershipStatus(enum.Enum):
    NEGOTIATION = "NEGOTIATION"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


class IngestRunStatus(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ChangeKind(enum.Enum):
    """What one event of the change history (model/outbox.py) says happened."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    MERGED = "MERGED"
    RETIRED = "RETIRED"
    QUARANTINED = "QUARANTINED"
    RUN_QUEUED = "RUN_QUEUED"
    RUN_STARTED = "RUN_STARTED"
    RUN_PROGRESS = "RUN_PROGRESS"
    RUN_FINISHED = "RUN_FINISHED"


class SuggestionStatus(enum.Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class QuarantineStatus(enum.Enum):
    """Where a quarantined record stands: still wrong, or why it no longer is listed."""

    OPEN = "OPEN"  # still wrong: no later run has stored it
    RESOLVED = "RESOLVED"  # a later run stored the record (or its source deleted it)
    SUPERSEDED = "SUPERSEDED"  # a later run quarantined it again; that entry is the open one
    DISCARDED = "DISCARDED"  # an admin discarded it, saying why


class Role(enum.Enum):
    """What an API key may do, beyond what anyone may read."""

    PARTNER = "PARTNER"
    CURATOR = "CURATOR"
    ADMIN = "ADMIN"
