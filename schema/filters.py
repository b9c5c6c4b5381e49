"""Filter inputs for the top-level lists: each field is an equality on the column of its name.

Their text is checked before it reaches SQL: PostgreSQL refuses a NUL character and SQLite a
long LIKE pattern, and the client can do nothing with a database's refusal.
"""

import datetime as dt
from typing import ClassVar

import strawberry
from strawberry import relay

from atmp_graph.schema.enums import (
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
from atmp_graph.schema.errors import UserError

SEARCH = "Case-insensitive text the name or title contains."
# Room for a pasted full title; SQLite refuses LIKE patterns over 50,000 bytes.
MAX_TEXT_ARGUMENT = 1000


def shortened(value: str, limit: int = 40) -> str:
    """`value` quoted for an error message, cut short so a huge input is not echoed back."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}…"


def check_text(value: str, *, argument: str) -> None:
    """Refuse text no name or id holds, with a UserError naming the argument."""
    if "\x00" in value:
        raise UserError(f"{argument}: {shortened(value)} holds a NUL character")
    if len(value) > MAX_TEXT_ARGUMENT:
        raise UserError(
            f"{argument}: {len(value)} characters, "
            f"more than the {MAX_TEXT_ARGUMENT} this argument takes"
        )


@strawberry.input(description="Which institutions to list.")
class InstitutionFilter:
    __search__: ClassVar[tuple[str, ...]] = ("name",)
    search: str | None = strawberry.field(default=None, description=SEARCH)
    kind: InstitutionKind | None = strawberry.field(default=None, description="Of this kind.")
    country: str | None = strawberry.field(default=None, description="In this country (SE, NL…).")
    ror_id: str | None = strawberry.field(default=None, description="With this ROR id.")


@strawberry.input(description="Which facilities to list.")
class FacilityFilter:
    __search__: ClassVar[tuple[str, ...]] = ("name",)
    search: str | None = strawberry.field(default=None, description=SEARCH)
    kind: FacilityKind | None = strawberry.field(default=None, description="Of this kind.")
    status: FacilityStatus | None = strawberry.field(default=None, description="In this status.")


@strawberry.input(description="Which people to list.")
class PersonFilter:
    __search__: ClassVar[tuple[str, ...]] = ("name",)
    search: str | None = strawberry.field(default=None, description=SEARCH)
    orcid: str | None = strawberry.field(default=None, description="With this ORCID iD.")


@strawberry.input(description="Which projects to list.")
class ProjectFilter:
    __search__: ClassVar[tuple[str, ...]] = ("title",)
    search: str | None = strawberry.field(default=None, description=SEARCH)
    area: CollaborationArea | None = strawberry.field(default=None, description="In this area.")
    status: ProjectStatus | None = strawberry.field(default=None, description="In this status.")


@strawberry.input(description="Which products to list.")
class ProductFilter:
    __search__: ClassVar[tuple[str, ...]] = ("name",)
    search: str | None = strawberry.field(default=None, description=SEARCH)
    atmp_class: AtmpClass | None = strawberry.field(default=None, description="Of this class.")
    stage: DevelopmentStage | None = strawberry.field(default=None, description="At this stage.")


@strawberry.input(description="Which clinical trials to list.")
class TrialFilter:
    __search__: ClassVar[tuple[str, ...]] = ("title", "acronym")
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive text the title or acronym contains."
    )
    nct_id: str | None = strawberry.field(default=None, description="With this NCT id.")
    eudract_id: str | None = strawberry.field(default=None, description="With this EudraCT number.")
    euct_id: str | None = strawberry.field(default=None, description="With this EU CT number.")
    phase: TrialPhase | None = strawberry.field(default=None, description="In this phase.")
    status: TrialStatus | None = strawberry.field(default=None, description="In this status.")


@strawberry.input(description="Which partnerships to list.")
class PartnershipFilter:
    __search__: ClassVar[tuple[str, ...]] = ("code",)
    search: str | None = strawberry.field(default=None, description="Text the code contains.")
    kind: PartnershipKind | None = strawberry.field(default=None, description="Of this kind.")
    status: PartnershipStatus | None = strawberry.field(default=None, description="In this status.")


@strawberry.input(description="Which records to list by name or title.")
class NameFilter:
    __search__: ClassVar[tuple[str, ...]] = ("name",)
    search: str | None = strawberry.field(default=None, description=SEARCH)


@strawberry.input(description="Which records to list by title.")
class TitleFilter:
    __search__: ClassVar[tuple[str, ...]] = ("title",)
    search: str | None = strawberry.field(default=None, description=SEARCH)


@strawberry.input(description="Which ingest runs to list.")
class IngestRunFilter:
    __search__: ClassVar[tuple[str, ...]] = ()
    feed: str | None = strawberry.field(default=None, description="Runs of this feed.")
    status: IngestRunStatus | None = strawberry.field(default=None, description="Ended so.")


@strawberry.input(description="Which quarantined records to list.")
class QuarantineFilter:
    __search__: ClassVar[tuple[str, ...]] = ()
    feed: str | None = strawberry.field(default=None, description="From this feed.")
    run_id: int | None = strawberry.field(default=None, description="From this run (its number).")
    status: QuarantineStatus | None = strawberry.field(
        default=None, description="In this state (without it, and without runId: OPEN)."
    )


@strawberry.input(description="Which conflicts to list.")
class ConflictFilter:
    entity_type: str | None = strawberry.field(
        default=None, description="Only nodes of this kind (clinical_trial, product, …)."
    )
    field: str | None = strawberry.field(
        default=None, description="Only disagreements on this field (camelCase, e.g. phase)."
    )


@strawberry.input(description="Which match suggestions to list.")
class SuggestionFilter:
    status: SuggestionStatus | None = strawberry.field(
        default=None, description="In this state (PENDING for the review queue)."
    )
    entity_type: str | None = strawberry.field(
        default=None, description="Only of this kind (institution, condition, product)."
    )


@strawberry.input(description="Which merges to list.")
class MergeFilter:
    entity_type: str | None = strawberry.field(default=None, description="Only of this kind.")


@strawberry.input(description="Which audit entries to list (all that match every field set).")
class AuditFilter:
    operation: str | None = strawberry.field(
        default=None, description="Of this operation (a mutation's name, e.g. editCuratedFields)."
    )
    key_id: int | None = strawberry.field(default=None, description="Done with this API key.")
    institution: relay.GlobalID | None = strawberry.field(
        default=None, description="Done with a key of this institution (its global id)."
    )
    since: dt.datetime | None = strawberry.field(default=None, description="At or after this.")
    until: dt.datetime | None = strawberry.field(default=None, description="Before this.")
