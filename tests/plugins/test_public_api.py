"""What a plugin author imports: `from atmp_graph import ...`, and nothing heavier."""

import subprocess
import sys

import atmp_graph

PUBLIC_API = {
    # the contract: its version, the hook marker, the adapter protocol and its parts
    "CONTRACT_VERSION",
    "hookimpl",
    "FeedAdapter",
    "Stream",
    "NoConfig",
    # what a feed yields
    "SourceRow",
    "Identifier",
    "Record",
    "AgreementRecord",
    "FacilityRecord",
    "InstitutionRecord",
    "PartnershipRecord",
    "ProductRecord",
    "ProjectRecord",
    "SignatoryRecord",
    "SiteRecord",
    "TermsRecord",
    "TrialRecord",
    "InstitutionRef",
    "CompanyRef",
    # what the after-ingest hook is given
    "IngestReport",
    "Quarantined",
    "Problem",
    # the vocabularies records are checked against
    "AgreementStatus",
    "AtmpClass",
    "CollaborationArea",
    "DevelopmentStage",
    "FacilityKind",
    "FacilityStatus",
    "InstitutionKind",
    "PartnershipKind",
    "PartnershipStatus",
    "ProjectStatus",
    "TrialPhase",
    "TrialStatus",
    # identifier rules a feed may apply before the host does
    "NCT_ID",
    "EUDRACT_NUMBER",
    "EU_CT_NUMBER",
    "canonical_eudract",
    "compact_identifier",
    "strip_ror_prefix",
    # the limits a record is read within, and the reasons that quarantine what exceeds them
    "MAX_FIELD_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_RECORD_SIZE",
    "MAX_SOURCE_ID_LENGTH",
    "field_too_long",
    "kept_text",
    "nested_too_deep",
    "record_too_big",
    "undecodable",
}


def test_the_public_api_is_exactly_the_contract() -> None:
    assert set(atmp_graph.__all__) == PUBLIC_API
    assert all(hasattr(atmp_graph, name) for name in PUBLIC_API)
    assert atmp_graph.CONTRACT_VERSION == "1.1"


def test_importing_the_public_api_loads_no_orm() -> None:
    """A plugin's import (and its tests) must not pay for, or depend on, the database layer."""
    script = (
        "import sys, atmp_graph; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' "
        "or m.startswith(('atmp_graph.model', 'atmp_graph.ingest', 'atmp_graph.identity'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


def test_hook_specifications_import_nothing_from_the_engine() -> None:
    script = (
        "import sys, atmp_graph.plugins.hookspecs; "
        "print(sorted(m for m in sys.modules if m.startswith('atmp_graph.') "
        "and not m.startswith(('atmp_graph.plugins', 'atmp_graph.enums', 'atmp_graph.normalize'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
