"""GraphQL types for industry partnerships."""

import datetime as dt
from decimal import Decimal
from typing import ClassVar

import strawberry
from strawberry import relay

import atmp_graph.model as m
from atmp_graph.access.viewer import Tier
from atmp_graph.schema.collaboration import Institution
from atmp_graph.schema.context import Info
from atmp_graph.schema.enums import PartnershipKind, PartnershipStatus
from atmp_graph.schema.mapping import Mapped, MappedNode, maps, related
from atmp_graph.schema.pagination import connection_field
from atmp_graph.schema.provenance import Retirable
from atmp_graph.schema.research import Product, Project
from atmp_graph.schema.visibility import require


@maps(m.PartnershipTerms)
@strawberry.type(description="The commercial terms of a partnership.")
class PartnershipTerms(Mapped):
    value_amount: Decimal | None = strawberry.field(description="Its value.")
    currency: str | None = strawberry.field(description="ISO 4217 currency of the value.")
    confidential: bool = strawberry.field(description="Whether only the parties may see it.")


@maps(m.Partnership)
@strawberry.type(description="An agreement between a company and academic partners.")
class Partnership(MappedNode, Retirable):
    __search__: ClassVar = ("code",)
    id: relay.NodeID[int]
    code: str | None = strawberry.field(description="Its id in the feed that reported it.")
    kind: PartnershipKind = strawberry.field(description="What kind of partnership.")
    status: PartnershipStatus | None = strawberry.field(description="Where it stands.")
    start_date: dt.date | None = strawberry.field(description="When it starts.")
    end_date: dt.date | None = strawberry.field(description="When it ends.")
    partner: Institution = related(m.Partnership.partner, description="The company.")
    institutions: list[Institution] = related(
        m.Partnership.institutions, description="The academic parties."
    )
    projects: list[Project] = related(m.Partnership.projects, description="Linked projects.")
    products: list[Product] = related(m.Partnership.products, description="Linked products.")

    @strawberry.field(
        description="Its commercial terms: for signed-in partners; confidential terms only for "
        "the partnership's parties (the company and the academic institutions) and admins."
    )
    async def terms(self, info: Info) -> PartnershipTerms | None:
        rows = await info.context.loaders.by_relation(m.Partnership.terms).load(self.id)
        if not rows:
            return None
        if rows[0].confidential:
            loaders = info.context.loaders
            partner = await loaders.by_relation(m.Partnership.partner).load(self.id)
            academic = await loaders.by_relation(m.Partnership.institutions).load(self.id)
            require(info, Tier.PARTY, {row.id for row in (*partner, *academic)})
        return PartnershipTerms.from_row(rows[0])


@strawberry.type
class PartnershipsQuery:
    partnerships = connection_field(Partnership, description="Industry partnerships.")
