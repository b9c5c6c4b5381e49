"""Where each field of a node comes from: every source's value, and which one is shown."""

import datetime as dt

import strawberry
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case, to_snake_case

import atmp_graph.model as m
from atmp_graph.identity.claims import counting, record_claims
from atmp_graph.identity.resolution import field_views
from atmp_graph.schema.context import Info


@strawberry.type(description="What one source record says of one field.")
class FieldClaim:
    feed: str = strawberry.field(description="The feed the record came from.")
    source_id: str = strawberry.field(description="The record's id in that feed.")
    fetched_at: dt.datetime = strawberry.field(description="When the record was last read changed.")
    value: JSON | None = strawberry.field(description="The value it gives (null: none).")
    chosen: bool = strawberry.field(description="Whether this is the value the node shows.")
    retired_at: dt.datetime | None = strawberry.field(
        description="When its feed stopped sending the record (then only a node that is "
        "retired itself shows it, as what it was built from)."
    )


@strawberry.type(description="One field of a node: every source's value and which one is shown.")
class FieldProvenance:
    field: str = strawberry.field(description="The field, as the node's GraphQL type names it.")
    value: JSON | None = strawberry.field(description="The value shown, as its source gave it.")
    rule: str = strawberry.field(
        description="The precedence order that chose it (see identity/precedence.toml)."
    )
    conflicting: bool = strawberry.field(description="Whether the sources give different values.")
    claims: list[FieldClaim] = strawberry.field(
        description="Every source that speaks of the field, the winner first."
    )


async def field_provenance(
    info: Info, model: type[m.Base], entity_id: int, fields: list[str] | None
) -> list[FieldProvenance]:
    entity_type = model.__tablename__
    records = await info.context.loaders.sources(entity_type).load(entity_id)
    # Only the records its feeds still send count; a retired node shows what it was built from.
    claims = counting(
        [
            claim
            for record in records
            if record.entity_type == entity_type and (claim := record_claims(record)) is not None
        ]
    )
    conflicts = await info.context.loaders.conflicts(entity_type).load(entity_id)
    precedence = info.context.precedence
    wanted = None if fields is None else {to_snake_case(name) for name in fields}
    return [
        FieldProvenance(
            field=to_camel_case(view.field),
            value=view.value,
            rule=precedence.order_for(entity_type, view.field),
            conflicting=view.field in conflicts,
            claims=[
                FieldClaim(
                    feed=claim.feed,
                    source_id=claim.source_id,
                    fetched_at=claim.fetched_at,
                    value=claim.values[view.field],
                    chosen=claim is view.winner,
                    retired_at=claim.retired_at,
                )
                for claim in view.ranked
            ],
        )
        for view in field_views(entity_type, claims, precedence)
        if wanted is None or view.field in wanted
    ]
