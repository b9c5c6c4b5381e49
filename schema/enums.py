"""The model's vocabularies, registered as GraphQL enums (one definition serves both)."""

import strawberry

from model import enums

AgreementStatus = strawberry.enum(enums.AgreementStatus, description="Where the agreement stands.")
InstitutionKind = strawberry.enum(enums.InstitutionKind, description="What kind of body it is.")
FacilityKind = strawberry.enum(enums.FacilityKind, description="What a facility is for.")
FacilityStatus = strawberry.enum(enums.FacilityStatus, description="Whether it is open yet.")
CollaborationArea = strawberry.enum(
    enums.CollaborationArea, description="The seven areas the agreement names."
)
ProjectStatus = strawberry.enum(enums.ProjectStatus, description="Where a project stands.")
AtmpClass = strawberry.enum(
    enums.AtmpClass,
    description="EMA's ATMP class: gene therapy (GTMP), somatic cell therapy (SCTMP), "
    "tissue engineered product (TEP) or combined ATMP.",
)
DevelopmentStage = strawberry.enum(
    enums.DevelopmentStage, description="How far a product has come."
)
TrialPhase = strawberry.enum(enums.TrialPhase, description="ClinicalTrials.gov's trial phases.")
TrialStatus = strawberry.enum(
    enums.TrialStatus, description="ClinicalTrials.gov's overall recruitment statuses."
)
PartnershipKind = strawberry.enum(enums.PartnershipKind, description="What a partnership is.")
PartnershipStatus = strawberry.enum(
    enums.PartnershipStatus, description="Where a partnership stands."
)
IngestRunStatus = strawberry.enum(enums.IngestRunStatus, description="How an ingest run ended.")
