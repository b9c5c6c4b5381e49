"""Aggregates for dashboards: counts and breakdowns over what a top-level list lists.

`trialStats(filter:)` counts the trials `trials(filter:)` lists, with the same filter input
and the same WHERE (`listed_conditions`: live rows that match the filter), and so for
projects, products and partnerships.  Each field asked for is one SQL statement that groups
and counts in the database (the read planner puts those of a root field into one); a field
not asked for is never computed.  How each breakdown counts a node that has several values
of its key, or none, is in its description.
"""

from operator import attrgetter
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, Numeric, SQLColumnExpression, func, select, type_coerce

import atmp_graph.model as m
from atmp_graph.model.aggregates import Grouping, many_values, one_value, year_of
from atmp_graph.model.associations import project_partner, trial_product
from atmp_graph.schema.breakdowns import (
    AtmpClassGroup,
    CollaborationAreaGroup,
    CountryGroup,
    DevelopmentStageGroup,
    InstitutionGroup,
    PartnershipKindGroup,
    PartnershipStatusGroup,
    PartnershipValueGroup,
    ProjectStatusGroup,
    TrialPhaseGroup,
    TrialStatusGroup,
    YearGroup,
    breakdown,
)
from atmp_graph.schema.list_names import filter_type
from atmp_graph.schema.measures import Measures, measure_field
from atmp_graph.schema.pagination import listed_conditions

Where = strawberry.Private[list[ColumnElement[bool]]]
Trial, Project, Product, Partnership = m.ClinicalTrial, m.Project, m.Product, m.Partnership
# Each aggregate takes the filter input of its list (generated: schema/list_inputs.py).
TrialFilter, ProjectFilter = filter_type(Trial), filter_type(Project)
ProductFilter, PartnershipFilter = filter_type(Product), filter_type(Partnership)
Terms = m.PartnershipTerms
NULL_IS_NONE = "The null group counts the {nodes} with no {key}."
# A root stats field's metadata: the model whose listed rows (`listed_conditions`) it counts.
AGGREGATE = "atmp_graph.aggregate"


def _by_institution(key: SQLColumnExpression[Any]) -> Grouping:
    return one_value(key, entity=m.Institution, entity_order=m.Institution.name)


def _count(model: type[m.Base], *, description: str) -> Any:
    return measure_field(
        Measures(model, {"count": func.count()}, attrgetter("count")), int, description=description
    )


@strawberry.type(description="The enrollment of the trials that give one.")
class Enrollment:
    count: int = strawberry.field(
        description="How many of the trials give an enrollment; the others are left out of "
        "sum, min, max and average."
    )
    sum: float = strawberry.field(
        description="Their enrollments added up (0 when none gives one). A Float, because "
        "the sum may pass GraphQL's 32-bit Int."
    )
    min: int | None = strawberry.field(description="The smallest; null when none gives one.")
    max: int | None = strawberry.field(description="The largest; null when none gives one.")
    average: float | None = strawberry.field(
        description="Their average, to two decimals; null when none gives one."
    )


def _enrollment(row: Any) -> Enrollment:
    average = None if row.average is None else round(float(row.average), 2)
    return Enrollment(
        count=row.count, sum=float(row.sum), min=row.min, max=row.max, average=average
    )


_ENROLLED = Trial.enrollment
ENROLLMENT = Measures(
    Trial,
    {
        "count": func.count(_ENROLLED),
        "sum": func.coalesce(func.sum(_ENROLLED), 0),
        "min": func.min(_ENROLLED),
        "max": func.max(_ENROLLED),
        "average": func.avg(_ENROLLED),
    },
    _enrollment,
)


@strawberry.type(description="Counts over the trials `trials` lists with the same filter.")
class TrialStats:
    where: Where

    count = _count(Trial, description="How many trials: the `totalCount` of `trials`.")

    enrollment = measure_field(
        ENROLLMENT,
        Enrollment,
        description="Their enrollment: how many give one, its sum and range.",
    )

    by_phase = breakdown(
        TrialPhaseGroup,
        Trial,
        one_value(Trial.phase),
        description="The trials by phase. " + NULL_IS_NONE.format(nodes="trials", key="phase"),
    )
    by_status = breakdown(
        TrialStatusGroup,
        Trial,
        one_value(Trial.status),
        description="The trials by overall status. "
        + NULL_IS_NONE.format(nodes="trials", key="status"),
    )
    by_atmp_class = breakdown(
        AtmpClassGroup,
        Trial,
        many_values(
            select(trial_product.c.clinical_trial_id, Product.atmp_class).join(
                Product, Product.id == trial_product.c.product_id
            )
        ),
        description="The trials by the ATMP classes of their products (as `products` lists "
        "them): a trial counts once in each class its products have, however many products "
        "of that class it tests. The null group counts the trials none of whose products has "
        "a class (a product from a registry has none), or that have no products.",
    )
    by_country = breakdown(
        CountryGroup,
        Trial,
        many_values(select(m.TrialSite.trial_id, m.TrialSite.country)),
        description="The trials by the countries of their sites: a trial with sites in SE and "
        "NL counts once in each, however many sites it has there. The null group counts the "
        "trials with no site in a known country.",
    )
    by_sponsor = breakdown(
        InstitutionGroup,
        Trial,
        _by_institution(Trial.sponsor_id),
        description="The trials by sponsor. "
        + NULL_IS_NONE.format(nodes="trials", key="known sponsor"),
    )
    by_start_year = breakdown(
        YearGroup,
        Trial,
        one_value(year_of(Trial.start_date)),
        description="The trials by the year they started. "
        + NULL_IS_NONE.format(nodes="trials", key="start date"),
    )


@strawberry.type(description="Counts over the projects `projects` lists with the same filter.")
class ProjectStats:
    where: Where

    count = _count(Project, description="How many projects: the `totalCount` of `projects`.")

    by_area = breakdown(
        CollaborationAreaGroup,
        Project,
        one_value(Project.area),
        description="The projects by collaboration area.",
    )
    by_status = breakdown(
        ProjectStatusGroup,
        Project,
        one_value(Project.status),
        description="The projects by status. "
        + NULL_IS_NONE.format(nodes="projects", key="status"),
    )
    by_lead_institution = breakdown(
        InstitutionGroup,
        Project,
        _by_institution(Project.lead_institution_id),
        description="The projects by the institution that leads them. "
        + NULL_IS_NONE.format(nodes="projects", key="known lead institution"),
    )
    by_partner = breakdown(
        InstitutionGroup,
        Project,
        many_values(
            select(project_partner.c.project_id, project_partner.c.institution_id),
            entity=m.Institution,
            entity_order=m.Institution.name,
        ),
        description="The projects by partner institution: a project counts once for each of "
        "its partners. " + NULL_IS_NONE.format(nodes="projects", key="partners"),
    )
    by_start_year = breakdown(
        YearGroup,
        Project,
        one_value(year_of(Project.start_date)),
        description="The projects by the year they started. "
        + NULL_IS_NONE.format(nodes="projects", key="start date"),
    )


@strawberry.type(description="Counts over the products `products` lists with the same filter.")
class ProductStats:
    where: Where

    count = _count(Product, description="How many products: the `totalCount` of `products`.")

    by_atmp_class = breakdown(
        AtmpClassGroup,
        Product,
        one_value(Product.atmp_class),
        description="The products by ATMP class. "
        + NULL_IS_NONE.format(nodes="products", key="class (registries give none)"),
    )
    by_stage = breakdown(
        DevelopmentStageGroup,
        Product,
        one_value(Product.stage),
        description="The products by development stage. "
        + NULL_IS_NONE.format(nodes="products", key="stage"),
    )
    by_originator = breakdown(
        InstitutionGroup,
        Product,
        _by_institution(Product.originator_id),
        description="The products by the institution they come from. "
        + NULL_IS_NONE.format(nodes="products", key="known originator"),
    )
    by_manufacturer = breakdown(
        InstitutionGroup,
        Product,
        _by_institution(Product.manufacturer_id),
        description="The products by the institution that makes them. "
        + NULL_IS_NONE.format(nodes="products", key="known manufacturer"),
    )


_VALUE = Terms.value_amount
# A value's precision, for the sums and averages computed from it.
_MONEY = Numeric(16, 2)


@strawberry.type(
    description="Counts over the partnerships `partnerships` lists with the same filter."
)
class PartnershipStats:
    where: Where

    count = _count(
        Partnership, description="How many partnerships: the `totalCount` of `partnerships`."
    )

    by_kind = breakdown(
        PartnershipKindGroup,
        Partnership,
        one_value(Partnership.kind),
        description="The partnerships by kind.",
    )
    by_status = breakdown(
        PartnershipStatusGroup,
        Partnership,
        one_value(Partnership.status),
        description="The partnerships by status. "
        + NULL_IS_NONE.format(nodes="partnerships", key="status"),
    )
    by_partner = breakdown(
        InstitutionGroup,
        Partnership,
        _by_institution(Partnership.partner_id),
        description="The partnerships by company (the industry partner).",
    )
    value_by_currency = breakdown(
        PartnershipValueGroup,
        Partnership,
        one_value(
            Terms.currency,
            joins=[(Terms, Terms.partnership_id == Partnership.id)],
            where=[_VALUE.is_not(None)],
            measures={
                "sum": func.sum(_VALUE),
                "min": func.min(_VALUE),
                "max": func.max(_VALUE),
                "average": type_coerce(func.round(func.avg(_VALUE), 2), _MONEY),
            },
        ),
        nullable=True,
        description="The values of their terms, by currency (the partnerships whose terms give "
        "none are left out): for admins only, since a sum shows something of every value in "
        "it, and only admins may see every confidential one.",
    )


@strawberry.type
class StatsQuery:
    @strawberry.field(
        metadata={AGGREGATE: Trial},
        description="Counts for dashboards over the trials `trials` lists for the same filter "
        "(retired trials left out). Counted in the database, the fields asked for only.",
    )
    def trial_stats(
        self,
        filter: Annotated[
            TrialFilter | None,  # type: ignore[valid-type]
            strawberry.argument(description="As for `trials`."),
        ] = None,
    ) -> TrialStats:
        return TrialStats(where=listed_conditions(Trial, filter))

    @strawberry.field(
        metadata={AGGREGATE: Project},
        description="Counts for dashboards over the projects `projects` lists for the same "
        "filter (retired projects left out). Counted in the database, the fields asked for only.",
    )
    def project_stats(
        self,
        filter: Annotated[
            ProjectFilter | None,  # type: ignore[valid-type]
            strawberry.argument(description="As for `projects`."),
        ] = None,
    ) -> ProjectStats:
        return ProjectStats(where=listed_conditions(Project, filter))

    @strawberry.field(
        metadata={AGGREGATE: Product},
        description="Counts for dashboards over the products `products` lists for the same "
        "filter (retired products left out). Counted in the database, the fields asked for only.",
    )
    def product_stats(
        self,
        filter: Annotated[
            ProductFilter | None,  # type: ignore[valid-type]
            strawberry.argument(description="As for `products`."),
        ] = None,
    ) -> ProductStats:
        return ProductStats(where=listed_conditions(Product, filter))

    @strawberry.field(
        metadata={AGGREGATE: Partnership},
        description="Counts for dashboards over the partnerships `partnerships` lists for the "
        "same filter (retired ones left out). Counted in the database, the fields asked for only.",
    )
    def partnership_stats(
        self,
        filter: Annotated[
            PartnershipFilter | None,  # type: ignore[valid-type]
            strawberry.argument(description="As for `partnerships`."),
        ] = None,
    ) -> PartnershipStats:
        return PartnershipStats(where=listed_conditions(Partnership, filter))
