"""The model's vocabularies, registered as GraphQL enums: one definition serves both."""

import strawberry

from atmp_graph.enums import (
    AgreementStatus,
    AtmpClass,
    CollaborationArea,
    DevelopmentStage,
    FacilityKind,
    FacilityStatus,
    IngestRunStatus,
    InstitutionKind,
    PartnershipKind,
    PartnershipStatus,
    ProjectStatus,
    QuarantineStatus,
    SuggestionStatus,
    TrialPhase,
    TrialStatus,
)

_DESCRIPTIONS = {
    AgreementStatus: "Where the agreement stands.",
    InstitutionKind: "What kind of body it is.",
    FacilityKind: "What a facility is for.",
    FacilityStatus: "Whether it is open yet.",
    CollaborationArea: "The seven areas the agreement names.",
    ProjectStatus: "Where a project stands.",
    AtmpClass: "EMA's ATMP class: gene therapy (GTMP), somatic cell therapy (SCTMP), tissue "
    "engineered product (TEP) or combined ATMP.",
    DevelopmentStage: "How far a product has come.",
    TrialPhase: "ClinicalTrials.gov's trial phases.",
    TrialStatus: "ClinicalTrials.gov's overall recruitment statuses.",
    PartnershipKind: "What a partnership is.",
    PartnershipStatus: "Where a partnership stands.",
    IngestRunStatus: "How an ingest run ended.",
    SuggestionStatus: "Where a match suggestion stands: waiting for an admin, or decided.",
    QuarantineStatus: "Where a quarantined record stands: OPEN while it is still wrong; "
    "RESOLVED once a later run stored it (or its source deleted it); SUPERSEDED when a later "
    "run quarantined it again (that entry is the open one); DISCARDED by an admin.",
}
for _enum, _description in _DESCRIPTIONS.items():
    strawberry.enum(_enum, description=_description)

__all__ = [
    "AgreementStatus",
    "AtmpClass",
    "CollaborationArea",
    "DevelopmentStage",
    "FacilityKind",
    "FacilityStatus",
    "IngestRunStatus",
    "InstitutionKind",
    "PartnershipKind",
    "PartnershipStatus",
    "ProjectStatus",
    "QuarantineStatus",
    "SuggestionStatus",
    "TrialPhase",
    "TrialStatus",
]
