"""ATMP Graph's public plugin API: everything a feed plugin needs, and nothing else.

    from atmp_graph import CONTRACT_VERSION, FeedAdapter, SourceRow, Stream, hookimpl

A plugin module declares the contract it was written for (`ATMP_GRAPH_CONTRACT = "1.1"`,
or the older version whose hooks it uses); the host refuses one written for another major
version.  Importing this module loads neither SQLAlchemy nor the ORM: the contract is hooks,
records, enums, identifier rules and the limits a record is read within (`MAX_FIELD_LENGTH`,
..., and the reasons that quarantine what exceeds them).
"""

from atmp_graph.enums import (
    AgreementStatus,
    AtmpClass,
    CollaborationArea,
    DevelopmentStage,
    FacilityKind,
    FacilityStatus,
    InstitutionKind,
    PartnershipKind,
    PartnershipStatus,
    ProjectStatus,
    TrialPhase,
    TrialStatus,
)
from atmp_graph.normalize import (
    EU_CT_NUMBER,
    EUDRACT_NUMBER,
    NCT_ID,
    canonical_eudract,
    compact_identifier,
    strip_ror_prefix,
)
from atmp_graph.plugins.contract import CONTRACT_VERSION
from atmp_graph.plugins.feeds import FeedAdapter, NoConfig, Stream
from atmp_graph.plugins.hookspecs import hookimpl
from atmp_graph.plugins.limits import (
    MAX_FIELD_LENGTH,
    MAX_NESTING_DEPTH,
    MAX_RECORD_SIZE,
    MAX_SOURCE_ID_LENGTH,
    field_too_long,
    kept_text,
    nested_too_deep,
    record_too_big,
    undecodable,
)
from atmp_graph.plugins.records import (
    AgreementRecord,
    CompanyRef,
    FacilityRecord,
    Identifier,
    InstitutionRecord,
    InstitutionRef,
    PartnershipRecord,
    ProductRecord,
    ProjectRecord,
    Record,
    SignatoryRecord,
    SiteRecord,
    SourceRow,
    TermsRecord,
    TrialRecord,
)
from atmp_graph.plugins.report import IngestReport, Problem, Quarantined

__all__ = [
    "CONTRACT_VERSION",
    "EUDRACT_NUMBER",
    "EU_CT_NUMBER",
    "MAX_FIELD_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_RECORD_SIZE",
    "MAX_SOURCE_ID_LENGTH",
    "NCT_ID",
    "AgreementRecord",
    "AgreementStatus",
    "AtmpClass",
    "CollaborationArea",
    "CompanyRef",
    "DevelopmentStage",
    "FacilityKind",
    "FacilityRecord",
    "FacilityStatus",
    "FeedAdapter",
    "Identifier",
    "IngestReport",
    "InstitutionKind",
    "InstitutionRecord",
    "InstitutionRef",
    "NoConfig",
    "PartnershipKind",
    "PartnershipRecord",
    "PartnershipStatus",
    "Problem",
    "ProductRecord",
    "ProjectRecord",
    "ProjectStatus",
    "Quarantined",
    "Record",
    "SignatoryRecord",
    "SiteRecord",
    "SourceRow",
    "Stream",
    "TermsRecord",
    "TrialPhase",
    "TrialRecord",
    "TrialStatus",
    "canonical_eudract",
    "compact_identifier",
    "field_too_long",
    "hookimpl",
    "kept_text",
    "nested_too_deep",
    "record_too_big",
    "strip_ror_prefix",
    "undecodable",
]
