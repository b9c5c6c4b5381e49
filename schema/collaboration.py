"""GraphQL types for the backbone: the agreement, institutions, facilities, people."""

import datetime as dt
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

import atmp_graph.model as m
from atmp_graph.schema.context import Info
from atmp_graph.schema.enums import (
    AgreementStatus,
    FacilityKind,
    FacilityStatus,
    InstitutionKind,
)
from atmp_graph.schema.mapping import Mapped, MappedNode, maps, related
from atmp_graph.schema.pagination import connection_field
from atmp_graph.schema.provenance import Retirable

if TYPE_CHECKING:
    from atmp_graph.schema.partnerships import Partnership
    from atmp_graph.schema.research import Project
    from atmp_graph.schema.trials import ClinicalTrial, TrialSite

Lazy = strawberry.lazy


@maps(m.Institution)
@strawberry.type(
    description="A university, hospital, company, authority or infrastructure. One node per "
    "real-world institution, matched on ROR id, registration number, or name and aliases."
)
class Institution(MappedNode, Retirable):
    __search__: ClassVar = ("name",)
    id: relay.NodeID[int]
    name: str = strawberry.field(
        description="Its name, as the reference data or first feed gave it."
    )
    short_name: str | None = strawberry.field(description="A short name, where one is in use.")
    kind: InstitutionKind = strawberry.field(description="What kind of body it is.")
    country: str | None = strawberry.field(description="ISO 3166 two-letter country code.")
    city: str | None = strawberry.field(description="The city it is based in.")
    ror_id: str | None = strawberry.field(description="Its ROR id (https://ror.org/…), if known.")
    registration_number: str | None = strawberry.field(
        description="A company's registration number (organisationsnummer, KvK, …)."
    )

    @strawberry.field(description="Every name it goes by, its own included.")
    async def aliases(self, info: Info) -> list[str]:
        rows = await info.context.loaders.by_relation(m.Institution.aliases).load(self.id)
        return [row.alias for row in rows]

    part_of: "Institution | None" = related(
        m.Institution.part_of, description="The larger body it belongs to."
    )
    facilities: list["Facility"] = related(
        m.Institution.facilities, description="Facilities it owns."
    )
    led_projects: list[Annotated["Project", Lazy("atmp_graph.schema.research")]] = related(
        m.Institution.led_projects, description="Projects it leads."
    )
    partner_projects: list[Annotated["Project", Lazy("atmp_graph.schema.research")]] = related(
        m.Institution.partner_projects, description="Projects it takes part in as a partner."
    )
    sponsored_trials: list[Annotated["ClinicalTrial", Lazy("atmp_graph.schema.trials")]] = related(
        m.Institution.sponsored_trials, description="Clinical trials it sponsors."
    )
    trial_sites: list[Annotated["TrialSite", Lazy("atmp_graph.schema.trials")]] = related(
        m.Institution.trial_sites, description="Trial sites at this institution."
    )
    partnerships: list[Annotated["Partnership", Lazy("atmp_graph.schema.partnerships")]] = related(
        m.Institution.partnerships, description="Industry partnerships it is an academic party to."
    )
    company_partnerships: list[Annotated["Partnership", Lazy("atmp_graph.schema.partnerships")]] = (
        related(
            m.Institution.company_partnerships,
            description="Partnerships in which it is the industry partner (for companies).",
        )
    )


@maps(m.Facility)
@strawberry.type(
    description="A GMP facility, ATMP centre, research centre, research infrastructure "
    "(MAX IV, ESS) or science park (Medicon Village, Leiden Bio Science Park)."
)
class Facility(MappedNode, Retirable):
    __search__: ClassVar = ("name",)
    id: relay.NodeID[int]
    key: str | None = strawberry.field(description="Its key in the collaboration's reference data.")
    name: str = strawberry.field(description="Its name.")
    kind: FacilityKind = strawberry.field(description="What it is for.")
    description: str | None = strawberry.field(description="What it does, in a sentence or two.")
    status: FacilityStatus | None = strawberry.field(description="Whether it is open yet.")
    opened_year: int | None = strawberry.field(description="The year it opened or will open.")
    city: str | None = strawberry.field(description="Where it is.")
    country: str | None = strawberry.field(description="ISO 3166 two-letter country code.")
    cluster: str | None = strawberry.field(description="The innovation cluster it is part of.")
    owner: Institution | None = related(m.Facility.owner, description="Who runs it.")


@maps(m.Person)
@strawberry.type(description="A researcher or signatory; matched on ORCID where one is known.")
class Person(MappedNode):
    __search__: ClassVar = ("name",)
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Full name.")
    orcid: str | None = strawberry.field(description="ORCID iD, if known.")
    affiliations: list[Institution] = related(
        m.Person.affiliations, description="Institutions the person works for."
    )


@maps(m.Signatory)
@strawberry.type(description="Someone who signed the agreement, for an institution.")
class Signatory(Mapped):
    role: str | None = strawberry.field(description="The signer's role, such as Vice-chancellor.")
    person: Person = related(m.Signatory.person, description="Who signed.")
    institution: Institution | None = related(
        m.Signatory.institution, description="For which institution."
    )
    id: strawberry.Private[int]


@maps(m.Agreement)
@strawberry.type(
    description="The collaboration agreement between Lund University, Skåne University Hospital "
    "and Leiden University Medical Center."
)
class Agreement(MappedNode, Retirable):
    __search__: ClassVar = ("title",)
    id: relay.NodeID[int]
    key: str = strawberry.field(description="Its key in the reference data.")
    kind: str | None = strawberry.field(description="What kind of agreement (such as an MoU).")
    title: str = strawberry.field(description="Its title.")
    signed_date: dt.date | None = strawberry.field(description="When it was signed.")
    signed_place: str | None = strawberry.field(description="Where it was signed.")
    status: AgreementStatus = strawberry.field(description="Where it stands.")
    status_note: str | None = strawberry.field(description="What the status means now.")
    areas: JSON = strawberry.field(description="The collaboration areas it names (a list).")
    therapy_areas: JSON = strawberry.field(description="The therapy areas it names (a list).")
    parties: list[Institution] = related(m.Agreement.parties, description="Who signed it.")
    signatories: list[Signatory] = related(
        m.Agreement.signatories, description="The people who signed, in their roles."
    )


@strawberry.type
class CollaborationQuery:
    agreements = connection_field(Agreement, description="The collaboration agreement(s).")
    institutions = connection_field(
        Institution,
        description="Universities, hospitals, authorities, companies and infrastructures.",
    )
    facilities = connection_field(
        Facility, description="GMP facilities, centres, infrastructures, parks."
    )
    people = connection_field(Person, description="Researchers and signatories.")
