"""GraphQL types for clinical trials and their sites."""

import datetime as dt
from typing import Annotated, Any, ClassVar

import strawberry
from sqlalchemy import ColumnElement, Select, func, select
from strawberry import relay

import atmp_graph.model as m
from atmp_graph.identity import lookup
from atmp_graph.identity.claims import counting, record_claims
from atmp_graph.identity.resolution import field_views
from atmp_graph.normalize import canonical_eudract
from atmp_graph.schema.collaboration import Facility, Institution
from atmp_graph.schema.context import Info
from atmp_graph.schema.enums import TrialPhase, TrialStatus
from atmp_graph.schema.filters import check_text
from atmp_graph.schema.mapping import ONE_ROW, Mapped, MappedNode, maps, related
from atmp_graph.schema.pagination import connection_field
from atmp_graph.schema.provenance import Retirable
from atmp_graph.schema.research import Condition, Product


@maps(m.TrialSite)
@strawberry.type(description="A place a trial runs: always a name, an institution where known.")
class TrialSite(Mapped):
    __search__: ClassVar = ("name", "city")
    id: strawberry.Private[int]
    name: str = strawberry.field(description="The site's name as the feed gave it.")
    city: str | None = strawberry.field(description="Its city.")
    country: str | None = strawberry.field(description="ISO 3166 two-letter country code.")
    institution: Institution | None = related(
        m.TrialSite.institution, description="The institution, where the name is known."
    )
    facility: Facility | None = related(
        m.TrialSite.facility, description="The facility, where the name is one."
    )
    trial: "ClinicalTrial" = related(m.TrialSite.trial, description="The trial.")


@strawberry.type(description="Something a trial gives its participants, as its registry lists it.")
class TrialIntervention:
    name: str = strawberry.field(description="Its name in the registry.")
    type: str | None = strawberry.field(
        description="The registry's intervention type: GENETIC, BIOLOGICAL, DRUG or "
        "COMBINATION_PRODUCT (medicinal: also among the trial's products), or PROCEDURE, "
        "DEVICE, BEHAVIORAL, RADIATION, DIETARY_SUPPLEMENT, DIAGNOSTIC_TEST, OTHER (not)."
    )
    description: str | None = strawberry.field(description="The registry's description of it.")


@maps(m.ClinicalTrial)
@strawberry.type(
    description="A clinical trial; one node per real trial, matched on its registry ids."
)
class ClinicalTrial(MappedNode, Retirable):
    __search__: ClassVar = ("title", "acronym")
    id: relay.NodeID[int]
    nct_id: str | None = strawberry.field(description="ClinicalTrials.gov id (NCT + 8 digits).")
    eudract_id: str | None = strawberry.field(description="EudraCT number (YYYY-NNNNNN-CC).")
    euct_id: str | None = strawberry.field(description="EU CT number (YYYY-5NNNNN-NN-NN).")
    local_id: str | None = strawberry.field(description="The id the reporting institution uses.")
    title: str = strawberry.field(description="Its title, in the feed's language.")
    acronym: str | None = strawberry.field(description="Its short name, such as STEM-PD.")
    phase: TrialPhase | None = strawberry.field(description="Its phase.")
    status: TrialStatus | None = strawberry.field(description="Its overall status.")
    start_date: dt.date | None = strawberry.field(description="When it started.")
    completion_date: dt.date | None = strawberry.field(description="When it ends or ended.")
    enrollment: int | None = strawberry.field(description="How many participants.")
    study_type: str | None = strawberry.field(
        description="The registry's study type, such as INTERVENTIONAL."
    )
    sponsor: Institution | None = related(m.ClinicalTrial.sponsor, description="Its sponsor.")
    collaborators: list[Institution] = related(
        m.ClinicalTrial.collaborators, description="Institutions that collaborate on it."
    )
    sites: list[TrialSite] = related(m.ClinicalTrial.sites, description="Where it runs.")
    conditions: list[Condition] = related(
        m.ClinicalTrial.conditions, description="The conditions it studies."
    )
    products: list[Product] = related(
        m.ClinicalTrial.products, description="The products it tests (its medicinal interventions)."
    )

    @strawberry.field(
        description="Everything it gives its participants, medicinal or not (a procedure, a "
        "device), as its best-ranked source that lists them does; `provenance` shows every "
        "source's list."
    )
    async def interventions(self, info: Info) -> list[TrialIntervention]:
        records = await info.context.loaders.sources("clinical_trial").load(self.id)
        # Only the records its feeds still send count, as for its other fields.
        claims = counting(
            [
                claim
                for record in records
                if record.entity_type == "clinical_trial" and (claim := record_claims(record))
            ]
        )
        views = field_views("clinical_trial", claims, info.context.precedence)
        listed = next((view.value for view in views if view.field == "interventions"), None)
        return [TrialIntervention(**intervention) for intervention in listed or []]


def registry_statement(registry_id: str) -> Select[Any]:
    """The lookup of the trials holding `registry_id` in any of their registry columns."""
    check_text(registry_id, argument="registryId")
    wanted = canonical_eudract(registry_id)  # also upper-cases and compacts NCT and EU CT ids
    statement = lookup.trials_by_registry_id_statement(
        (scheme, wanted) for scheme in lookup.REGISTRY_COLUMNS
    )
    assert statement is not None
    return statement


def trial_row(registry_id: str) -> ColumnElement[Any]:
    """The id of the trial `trial(registryId:)` answers, as SQL, for the read planner: the
    oldest trial holding the id, as the resolver's `registry_id_owners` picks."""
    if not canonical_eudract(registry_id):
        # The resolver finds nothing for no id, but SQL would match empty columns.
        raise ValueError("no registry id")
    found = registry_statement(registry_id).subquery()
    return select(func.min(found.c.id)).scalar_subquery()


@strawberry.type
class TrialsQuery:
    trials = connection_field(ClinicalTrial, description="Clinical trials.")

    @strawberry.field(
        description="The trial known by this registry id: NCT, EudraCT or EU CT.",
        metadata={ONE_ROW: trial_row},
    )
    async def trial(
        self,
        info: Info,
        registry_id: Annotated[
            str, strawberry.argument(description="Such as NCT05635409 or 2021-001366-38.")
        ],
    ) -> ClinicalTrial | None:
        statement = registry_statement(registry_id)
        async with info.context.sessions() as session:
            owners = lookup.registry_id_owners(await session.execute(statement))
            trial_id = min(owners.values(), default=None)
            row = None if trial_id is None else await session.get(m.ClinicalTrial, trial_id)
        return None if row is None else ClinicalTrial.from_row(row)
