"""The model's vocabularies, registered as GraphQL enums: one definition serves both.

The model's enums stay free of Strawberry (model depends on nothing above it), so their values
cannot be `strawberry.enum_value(...)`s; each value's description is attached here instead, to
the definition `strawberry.enum` builds, and registering an enum with a value left undescribed
fails at import.
"""

import enum
from collections.abc import Mapping
from typing import TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

from atmp_graph.enums import (
    AgreementStatus,
    AtmpClass,
    ChangeKind,
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

Vocabulary = TypeVar("Vocabulary", bound=enum.Enum)


def _register(
    vocabulary: type[Vocabulary], *, description: str, values: Mapping[Vocabulary, str]
) -> None:
    """Make `vocabulary` a GraphQL enum described by `description`, each value by `values`."""
    missing = [member.name for member in vocabulary if member not in values]
    if missing:
        raise ValueError(f"{vocabulary.__name__}: no description for {', '.join(missing)}")
    registered = strawberry.enum(vocabulary, description=description)
    assert has_enum_definition(registered)
    for value in registered.__strawberry_definition__.values:
        value.description = values[vocabulary(value.value)]


_register(
    AgreementStatus,
    description="Where the agreement stands.",
    values={
        AgreementStatus.NEGOTIATION: "Still being negotiated: its terms or, for an agreement "
        "already signed, which activities the parties will take on under it.",
        AgreementStatus.AGREED: "Agreed by the parties; the work under it has not started.",
        AgreementStatus.ACTIVE: "In force, with work under it going on.",
        AgreementStatus.ENDED: "No longer in force: it expired or was ended.",
    },
)
_register(
    InstitutionKind,
    description="What kind of body it is.",
    values={
        InstitutionKind.UNIVERSITY: "A university or other higher-education institution.",
        InstitutionKind.HOSPITAL: "A hospital, such as a university hospital or medical centre.",
        InstitutionKind.HEALTHCARE_AUTHORITY: "A public authority that runs or funds "
        "healthcare, such as a Swedish region.",
        InstitutionKind.COMPANY: "A company, such as an industry partner or a trial's "
        "commercial sponsor.",
        InstitutionKind.INFRASTRUCTURE: "A research infrastructure that is a body of its own.",
        InstitutionKind.SCIENCE_PARK: "A science park that is a body of its own.",
        InstitutionKind.FUNDER: "A body that funds research, such as a research council or a "
        "foundation.",
        InstitutionKind.OTHER: "Any other kind of body, or one whose kind no feed has given.",
    },
)
_register(
    FacilityKind,
    description="What a facility is for.",
    values={
        FacilityKind.GMP_MANUFACTURING: "Manufacturing medicinal products under Good "
        "Manufacturing Practice (GMP), such as cell and gene therapies for trials.",
        FacilityKind.ATMP_CENTRE: "A centre dedicated to advanced therapy medicinal products, "
        "from development to treating patients.",
        FacilityKind.RESEARCH_CENTRE: "A research centre, such as a stem cell centre.",
        FacilityKind.RESEARCH_INFRASTRUCTURE: "Shared research infrastructure, such as a "
        "synchrotron, a neutron source or a national laboratory.",
        FacilityKind.SCIENCE_PARK: "A science park where companies and researchers work side by "
        "side.",
    },
)
_register(
    FacilityStatus,
    description="Whether it is open yet.",
    values={
        FacilityStatus.PLANNED: "Planned; building has not started.",
        FacilityStatus.UNDER_CONSTRUCTION: "Being built or fitted out; not open yet.",
        FacilityStatus.OPERATIONAL: "Open and working.",
    },
)
_register(
    CollaborationArea,
    description="The seven areas the agreement names.",
    values={
        CollaborationArea.RESEARCH: "Joint research.",
        CollaborationArea.RESEARCHER_EXCHANGE: "Researchers visiting or moving between the "
        "partners.",
        CollaborationArea.EDUCATION: "Education and training: courses, schools, programmes.",
        CollaborationArea.CLINICAL_STUDIES: "Clinical studies and trials.",
        CollaborationArea.PRODUCT_DEVELOPMENT: "Developing therapeutic products.",
        CollaborationArea.INDUSTRY_COLLABORATION: "Working with companies.",
        CollaborationArea.CARE_DELIVERY: "Bringing advanced therapies to patients in care.",
    },
)
_register(
    ProjectStatus,
    description="Where a project stands.",
    values={
        ProjectStatus.PLANNED: "Planned; not started yet.",
        ProjectStatus.ONGOING: "Started and not finished.",
        ProjectStatus.COMPLETED: "Finished.",
    },
)
_register(
    AtmpClass,
    description="EMA's ATMP class: gene therapy (GTMP), somatic cell therapy (SCTMP), tissue "
    "engineered product (TEP) or combined ATMP.",
    values={
        AtmpClass.GTMP: "Gene therapy medicinal product: acts through recombinant nucleic acid "
        "that adds, regulates, repairs, replaces or deletes a genetic sequence (genetically "
        "modified cells such as CAR-T included).",
        AtmpClass.SCTMP: "Somatic cell therapy medicinal product: cells or tissues, "
        "substantially manipulated or used for another essential function, that act "
        "pharmacologically, immunologically or metabolically.",
        AtmpClass.TEP: "Tissue engineered product: engineered cells or tissues that "
        "regenerate, repair or replace human tissue.",
        AtmpClass.COMBINED: "Combined ATMP: one of the others with a medical device as an "
        "integral part of the product.",
    },
)
_register(
    DevelopmentStage,
    description="How far a product has come.",
    values={
        DevelopmentStage.PRECLINICAL: "In laboratory or animal studies; not yet given to people.",
        DevelopmentStage.CLINICAL: "In clinical trials, the feed not saying which phase.",
        DevelopmentStage.PHASE1: "In phase 1 trials: first in people, for safety and dose.",
        DevelopmentStage.PHASE2: "In phase 2 trials: whether it works in patients, and its "
        "side effects.",
        DevelopmentStage.PHASE3: "In phase 3 trials: larger trials confirming that it works "
        "and is safe enough.",
        DevelopmentStage.AUTHORISED: "Granted a marketing authorisation.",
    },
)
_register(
    TrialPhase,
    description="ClinicalTrials.gov's trial phases.",
    values={
        TrialPhase.EARLY_PHASE1: "Early phase 1 (once called phase 0): exploratory, with very "
        "limited human exposure and no therapeutic or diagnostic intent.",
        TrialPhase.PHASE1: "Phase 1: first studies in people, of safety, dose and how the body "
        "handles the product.",
        TrialPhase.PHASE1_PHASE2: "A combined phase 1 and phase 2 trial.",
        TrialPhase.PHASE2: "Phase 2: whether it works for a condition, and its common "
        "short-term side effects, in patients with that condition.",
        TrialPhase.PHASE2_PHASE3: "A combined phase 2 and phase 3 trial.",
        TrialPhase.PHASE3: "Phase 3: larger trials gathering the evidence of benefit and risk "
        "that an authorisation needs.",
        TrialPhase.PHASE4: "Phase 4: studies after authorisation, such as of long-term effects.",
        TrialPhase.NA: "Not applicable: a trial without phases, such as one of a device or a "
        "behavioural intervention.",
    },
)
_register(
    TrialStatus,
    description="ClinicalTrials.gov's overall recruitment statuses.",
    values={
        TrialStatus.NOT_YET_RECRUITING: "Not recruiting participants yet.",
        TrialStatus.RECRUITING: "Recruiting participants.",
        TrialStatus.ENROLLING_BY_INVITATION: "Enrolling only people it invites, from a group "
        "chosen in advance.",
        TrialStatus.ACTIVE_NOT_RECRUITING: "Going on (participants treated or followed up), "
        "but recruiting no one new.",
        TrialStatus.SUSPENDED: "Stopped early, but may start again.",
        TrialStatus.TERMINATED: "Stopped early, and will not start again.",
        TrialStatus.COMPLETED: "Ended normally: the last participant's last visit is over.",
        TrialStatus.WITHDRAWN: "Stopped before its first participant enrolled.",
        TrialStatus.UNKNOWN: "ClinicalTrials.gov's unknown status: its record said it had not "
        "ended, but it is past its completion date and not verified for over two years.",
    },
)
_register(
    PartnershipKind,
    description="What a partnership is.",
    values={
        PartnershipKind.LICENSING: "A licence to use intellectual property, such as a patent "
        "or a vector.",
        PartnershipKind.SPONSORED_RESEARCH: "Research a company commissions and pays for.",
        PartnershipKind.COLLABORATIVE_RESEARCH: "Research done together, each side contributing.",
        PartnershipKind.CO_DEVELOPMENT: "Developing a product together.",
        PartnershipKind.MANUFACTURING: "Manufacturing a product or its materials, such as GMP "
        "production.",
        PartnershipKind.SPIN_OUT: "A company founded to take the partners' research further.",
    },
)
_register(
    PartnershipStatus,
    description="Where a partnership stands.",
    values={
        PartnershipStatus.NEGOTIATION: "Being negotiated; not agreed yet.",
        PartnershipStatus.ACTIVE: "Agreed and in force.",
        PartnershipStatus.ENDED: "Over: it expired or was ended.",
    },
)
_register(
    IngestRunStatus,
    description="Where an ingest run stands: waiting, running, or how it ended.",
    values={
        IngestRunStatus.QUEUED: "Asked for (runIngest, or its feed's schedule) and waiting "
        "for a worker, or behind the run of the same feed in `waitingFor`.",
        IngestRunStatus.RUNNING: "Not ended yet: still running. A run whose worker was killed "
        "shows as FAILED once its lease has expired without a heartbeat, or once its feed "
        "runs again.",
        IngestRunStatus.SUCCEEDED: "Read its source to the end; everything it wrote is "
        "committed, and the feed's state moved on.",
        IngestRunStatus.FAILED: "Stopped by an error, or interrupted; the batches it committed "
        "stay, but the feed's state did not move on, so the next run reads them again.",
    },
)
_register(
    ChangeKind,
    description="What one event of the change history says happened.",
    values={
        ChangeKind.CREATED: "A node came into the graph (made and changed in one batch: only "
        "this).",
        ChangeKind.UPDATED: "Fields of a node changed: `changes` has each with its old and new "
        "value.",
        ChangeKind.MERGED: "A node was merged into another (`mergedInto`); its id goes on "
        "finding the survivor.",
        ChangeKind.RETIRED: "No feed sends a node any more: it left the lists, and is kept.",
        ChangeKind.QUARANTINED: "A feed's record could not be stored (curators and admins).",
        ChangeKind.RUN_QUEUED: "An ingest run was asked for and waits for a worker (curators "
        "and admins).",
        ChangeKind.RUN_STARTED: "An ingest run started (curators and admins).",
        ChangeKind.RUN_PROGRESS: "An ingest run committed a batch: its report so far (curators "
        "and admins).",
        ChangeKind.RUN_FINISHED: "An ingest run ended, with its report (curators and admins).",
    },
)
_register(
    SuggestionStatus,
    description="Where a match suggestion stands: waiting for an admin, or decided.",
    values={
        SuggestionStatus.PENDING: "Waiting for an admin to accept or reject it.",
        SuggestionStatus.ACCEPTED: "The two are one: an admin accepted it or merged them.",
        SuggestionStatus.REJECTED: "The two are different things: an admin rejected it or "
        "split their merge; the pair is not suggested again.",
    },
)
_register(
    QuarantineStatus,
    description="Where a quarantined record stands: still wrong, or why it is no longer listed.",
    values={
        QuarantineStatus.OPEN: "Still wrong: no later run has stored the record.",
        QuarantineStatus.RESOLVED: "A later run stored the record, or its source deleted it.",
        QuarantineStatus.SUPERSEDED: "A later run quarantined the record again; that entry is "
        "the open one.",
        QuarantineStatus.DISCARDED: "An admin discarded it, saying why.",
    },
)

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
