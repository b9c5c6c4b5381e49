"""GraphQL types for the work itself: projects, ATMP products, conditions, exchanges, courses."""

import datetime as dt
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry
from strawberry import relay

import atmp_graph.model as m
from atmp_graph.schema.collaboration import Facility, Institution, Person
from atmp_graph.schema.enums import AtmpClass, CollaborationArea, DevelopmentStage, ProjectStatus
from atmp_graph.schema.mapping import MappedNode, maps, related
from atmp_graph.schema.pagination import connection_field
from atmp_graph.schema.provenance import Retirable

if TYPE_CHECKING:
    from atmp_graph.schema.partnerships import Partnership
    from atmp_graph.schema.trials import ClinicalTrial

Lazy = strawberry.lazy


@maps(m.Condition)
@strawberry.type(description="A disease or indication, as the feeds name it.")
class Condition(MappedNode):
    __search__: ClassVar = ("name",)
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its name.")
    mesh_id: str | None = strawberry.field(description="MeSH descriptor id, where known.")
    icd10: str | None = strawberry.field(description="ICD-10 code, where known.")
    mondo_id: str | None = strawberry.field(description="MONDO id, where known.")
    trials: list[Annotated["ClinicalTrial", Lazy("atmp_graph.schema.trials")]] = related(
        m.Condition.trials, description="Trials that study it."
    )
    products: list["Product"] = related(
        m.Condition.products, description="Products meant to treat it."
    )
    projects: list["Project"] = related(m.Condition.projects, description="Projects about it.")


@maps(m.Product)
@strawberry.type(description="An ATMP candidate: a cell, tissue or gene therapy.")
class Product(MappedNode, Retirable):
    __search__: ClassVar = ("name",)
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its name.")
    code: str | None = strawberry.field(description="Its code in the feed that reported it.")
    atmp_class: AtmpClass | None = strawberry.field(
        description="EMA's ATMP class, where a feed gives it (registries do not)."
    )
    intervention_type: str | None = strawberry.field(
        description="The registry's intervention type, such as BIOLOGICAL or GENETIC."
    )
    modality: str | None = strawberry.field(description="Cell therapy, gene therapy, …")
    stage: DevelopmentStage | None = strawberry.field(description="How far it has come.")
    originator: Institution | None = related(
        m.Product.originator, description="The institution it comes from."
    )
    manufacturer: Institution | None = related(
        m.Product.manufacturer, description="The institution that makes it."
    )
    manufacturing_facility: Facility | None = related(
        m.Product.manufacturing_facility, description="The facility where it is made."
    )
    indications: list[Condition] = related(
        m.Product.indications, description="The conditions it is meant to treat."
    )
    trials: list[Annotated["ClinicalTrial", Lazy("atmp_graph.schema.trials")]] = related(
        m.Product.trials, description="Trials that test it."
    )
    projects: list["Project"] = related(m.Product.projects, description="Projects about it.")
    partnerships: list[Annotated["Partnership", Lazy("atmp_graph.schema.partnerships")]] = related(
        m.Product.partnerships, description="Industry partnerships around it."
    )


@maps(m.Project)
@strawberry.type(description="A piece of joint work in one of the agreement's areas.")
class Project(MappedNode, Retirable):
    __search__: ClassVar = ("title",)
    id: relay.NodeID[int]
    code: str | None = strawberry.field(description="Its id in the feed that reported it.")
    title: str = strawberry.field(description="Its title, in the feed's language.")
    summary: str | None = strawberry.field(description="A short description.")
    area: CollaborationArea = strawberry.field(description="Its collaboration area.")
    status: ProjectStatus | None = strawberry.field(description="Where it stands.")
    start_date: dt.date | None = strawberry.field(description="When it started.")
    end_date: dt.date | None = strawberry.field(description="When it ends or ended.")
    lead_unit: str | None = strawberry.field(
        description="The unit responsible, as the feed names it (a centre or department)."
    )
    lead_institution: Institution | None = related(
        m.Project.lead_institution, description="The institution that leads it."
    )
    partners: list[Institution] = related(m.Project.partners, description="Partner institutions.")
    conditions: list[Condition] = related(m.Project.conditions, description="What it is about.")
    products: list[Product] = related(m.Project.products, description="Products it develops.")
    partnerships: list[Annotated["Partnership", Lazy("atmp_graph.schema.partnerships")]] = related(
        m.Project.partnerships, description="Industry partnerships linked to it."
    )


@maps(m.Exchange)
@strawberry.type(description="Researchers moving between partner institutions for a while.")
class Exchange(MappedNode, Retirable):
    __search__: ClassVar = ("title",)
    id: relay.NodeID[int]
    title: str = strawberry.field(description="What the exchange is.")
    start_date: dt.date | None = strawberry.field(description="When it starts.")
    end_date: dt.date | None = strawberry.field(description="When it ends.")
    person: Person | None = related(m.Exchange.person, description="Who goes, where known.")
    from_institution: Institution | None = related(
        m.Exchange.from_institution, description="Where they come from."
    )
    to_institution: Institution | None = related(
        m.Exchange.to_institution, description="Where they go."
    )
    project: Project | None = related(m.Exchange.project, description="The project behind it.")


@maps(m.EducationActivity)
@strawberry.type(description="A course or training the partners give.")
class EducationActivity(MappedNode, Retirable):
    __search__: ClassVar = ("title",)
    id: relay.NodeID[int]
    title: str = strawberry.field(description="Its title.")
    kind: str | None = strawberry.field(description="Course, workshop, …")
    start_date: dt.date | None = strawberry.field(description="First day.")
    end_date: dt.date | None = strawberry.field(description="Last day.")
    host_institution: Institution | None = related(
        m.EducationActivity.host_institution, description="Who gives it."
    )
    project: Project | None = related(
        m.EducationActivity.project, description="The project behind it."
    )


@strawberry.type
class ResearchQuery:
    projects = connection_field(
        Project, description="Projects across the seven collaboration areas."
    )
    products = connection_field(Product, description="ATMP candidates.")
    conditions = connection_field(Condition, description="Diseases and indications.")
    exchanges = connection_field(Exchange, description="Researcher exchanges.")
    education_activities = connection_field(EducationActivity, description="Courses and training.")
