"""Breakdowns: counts of nodes by a key, for dashboards (the aggregates of schema/stats.py).

A breakdown field takes `first` (how many groups, default 20, most 100) and answers a page of
groups, largest first, with `totalGroups`: one SQL statement (model/aggregates.py) for both,
run only when the field is asked for.  Its definition (`Breakdown`) is in the field's metadata,
where the read planner reads it to put the same statement into its one per root field.
"""

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, Self, TypeVar

import strawberry

from atmp_graph.model import Base, aggregates
from atmp_graph.model.aggregates import Grouping, breakdown_statement
from atmp_graph.schema.collaboration import Institution
from atmp_graph.schema.context import Info
from atmp_graph.schema.cost import PAGE_ITEMS, PAGE_SIZE, PageSize
from atmp_graph.schema.enums import (
    AtmpClass,
    CollaborationArea,
    DevelopmentStage,
    PartnershipKind,
    PartnershipStatus,
    ProjectStatus,
    TrialPhase,
    TrialStatus,
)
from atmp_graph.schema.errors import UserError

GROUPS = PageSize(default=20, most=100)
COUNT = "How many of the counted nodes are in this group."
# A breakdown field's metadata: its Breakdown.
BREAKDOWN = "atmp_graph.breakdown"

G = TypeVar("G")


@strawberry.type(
    description="The largest groups of a breakdown, and how many groups there are in all."
)
class Page(Generic[G]):
    total_groups: int = strawberry.field(
        description="How many groups there are in all, those past `first` included."
    )
    groups: list[G] = strawberry.field(
        description="The groups, largest first; ties in the order of their key (an "
        "institution's name), the null group last among its ties.",
        metadata={PAGE_ITEMS: True},
    )


def shown_column(field: str, grouping: Grouping) -> str:
    """The column of a breakdown's row that a group's field shows: its count, a measure of the
    grouping by its name, or else the key (with an `entity`, the key's row)."""
    return field if field == aggregates.COUNT or field in grouping.measures else aggregates.KEY


class Group:
    """A group of a breakdown: its key (the one field besides `count` and the grouping's
    measures), its count and its measures."""

    @classmethod
    def from_row(cls, row: Any, grouping: Grouping) -> Self:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        return cls(**{f.name: getattr(row, shown_column(f.name, grouping)) for f in fields})


@strawberry.type(description="The trials in one phase.")
class TrialPhaseGroup(Group):
    phase: TrialPhase | None = strawberry.field(description="The phase; null: none given.")
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The trials in one overall status.")
class TrialStatusGroup(Group):
    status: TrialStatus | None = strawberry.field(description="The status; null: none given.")
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The nodes of one ATMP class.")
class AtmpClassGroup(Group):
    atmp_class: AtmpClass | None = strawberry.field(
        description="The class; null: no class known (see the breakdown's rule)."
    )
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The products at one development stage.")
class DevelopmentStageGroup(Group):
    stage: DevelopmentStage | None = strawberry.field(description="The stage; null: none given.")
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The projects in one collaboration area.")
class CollaborationAreaGroup(Group):
    area: CollaborationArea = strawberry.field(description="The area (every project has one).")
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The projects in one status.")
class ProjectStatusGroup(Group):
    status: ProjectStatus | None = strawberry.field(description="The status; null: none given.")
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The partnerships of one kind.")
class PartnershipKindGroup(Group):
    kind: PartnershipKind = strawberry.field(description="The kind (every partnership has one).")
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The partnerships in one status.")
class PartnershipStatusGroup(Group):
    status: PartnershipStatus | None = strawberry.field(description="The status; null: none given.")
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The nodes in one country.")
class CountryGroup(Group):
    country: str | None = strawberry.field(
        description="ISO 3166 two-letter country code; null: no country known."
    )
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The nodes that started in one year.")
class YearGroup(Group):
    year: int | None = strawberry.field(description="The year; null: no start date known.")
    count: int = strawberry.field(description=COUNT)


@strawberry.type(description="The nodes of one institution (the breakdown says in which role).")
class InstitutionGroup(Group):
    institution: Institution | None = strawberry.field(
        description="The institution; null: none known."
    )
    count: int = strawberry.field(description=COUNT)

    @classmethod
    def from_row(cls, row: Any, grouping: Grouping) -> Self:
        entity, count = row[0], row.count
        return cls(
            institution=None if entity is None else Institution.from_row(entity), count=count
        )


@strawberry.type(description="The partnerships whose terms give a value in one currency.")
class PartnershipValueGroup(Group):
    currency: str | None = strawberry.field(description="ISO 4217 currency; null: none given.")
    count: int = strawberry.field(description="How many partnerships give a value in it.")
    sum: Decimal = strawberry.field(description="Their values added up.")
    min: Decimal = strawberry.field(description="The smallest value.")
    max: Decimal = strawberry.field(description="The largest value.")
    average: Decimal = strawberry.field(description="Their average, to two decimals.")


@dataclass(frozen=True)
class Breakdown:
    """A breakdown field's definition: the `model` rows it counts, grouped by `grouping`,
    answered as groups of type `group`."""

    model: type[Base]
    grouping: Grouping
    group: type[Group]


def breakdown(
    group: type[Group],
    model: type[Base],
    grouping: Grouping,
    *,
    description: str,
    nullable: bool = False,
) -> Any:
    """A field of a stats type (which holds the list's WHERE as `where`): the `model` rows it
    counts, grouped by `grouping`, as a Page of `group`; `nullable` for a protected one."""

    definition = Breakdown(model, grouping, group)

    async def resolve(root: Any, info: Info, first: int | None = None) -> Page[Any]:
        size = GROUPS.default if first is None else first
        if not 0 <= size <= GROUPS.most:
            raise UserError(f"first: {size} is not between 0 and {GROUPS.most}")
        # At least one row, so that `first: 0` still learns how many groups there are.
        statement = breakdown_statement(model, grouping, where=root.where, most=max(size, 1))
        async with info.context.sessions() as session:
            rows = (await session.execute(statement)).all()
        total = rows[0].total_groups if rows else 0
        return Page(
            total_groups=total, groups=[group.from_row(row, grouping) for row in rows[:size]]
        )

    page: Any = Page[group]  # type: ignore[valid-type]
    # Strawberry reads the arguments' types from the annotations, so give it the real ones.
    resolve.__annotations__ = {
        "root": Any,
        "info": Info,
        "first": Annotated[
            int | None,
            strawberry.argument(
                description=f"How many groups (default {GROUPS.default}, most {GROUPS.most})."
            ),
        ],
        "return": page | None if nullable else page,
    }
    return strawberry.field(
        resolver=resolve,
        description=f"{description} The largest {GROUPS.default} groups, or `first` of them "
        f"(at most {GROUPS.most}).",
        metadata={PAGE_SIZE: GROUPS, BREAKDOWN: definition},
    )
