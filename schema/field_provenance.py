"""Where each field of a node comes from: every source's value, and which one is shown.

A field asked for that no source gives (one the type does not have, or one no record claims,
such as the name of a condition, which is made from what records name it) is answered with a
note saying so and naming the fields the sources do give, never left out without a word.
"""

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case, to_snake_case

import atmp_graph.model as m
from atmp_graph.identity.claims import counting, record_claims
from atmp_graph.identity.resolution import TITLE_STAND_INS, FieldView, field_views
from atmp_graph.schema.context import Info

# What a trial's title stands in for, in the words of a note.
STAND_IN_NAMES = {
    "acronym": "acronym",
    "nct_id": "NCT id",
    "eudract_id": "EudraCT number",
    "euct_id": "EU CT number",
}


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
    claims: list[FieldClaim] | None = strawberry.field(
        description="Every source that speaks of the field, the winner first, with the values "
        "that lost (curators and admins)."
    )
    note: str | None = strawberry.field(
        default=None,
        description="What the claims alone do not say: that no source gives the field (and "
        "which fields they give), or that the value shown stands in for one no source gives "
        "(a trial without a title is named by its acronym or a registry id).",
    )


def _claims(view: FieldView) -> list[FieldClaim]:
    return [
        FieldClaim(
            feed=claim.feed,
            source_id=claim.source_id,
            fetched_at=claim.fetched_at,
            value=claim.values[view.field],
            chosen=claim is view.winner,
            retired_at=claim.retired_at,
        )
        for claim in view.ranked
    ]


def _stand_in(views: dict[str, FieldView]) -> tuple[Any, str | None]:
    """A trial's title where no source gives one: the value shown, and a note that says so."""
    for name in TITLE_STAND_INS:
        view = views.get(name)
        if view is not None and view.winner is not None:
            return (
                view.value,
                f"no source gives a title: the trial is named by its {STAND_IN_NAMES[name]}",
            )
    return None, "no source gives a title"


def _unexplained(node_type: type[Any], name: str, views: dict[str, FieldView]) -> str:
    """Why provenance has nothing on `name`, and what it has."""
    type_name = node_type.__name__
    definition = getattr(node_type, "__strawberry_definition__", None)
    fields = {f.python_name for f in definition.fields} if definition else set()
    given = ", ".join(to_camel_case(field) for field in views)
    what = (
        f"its sources give {given}"
        if given
        else f"its sources keep no values field by field for a {type_name}: the records in its "
        "sources built it"
    )
    if to_snake_case(name) in fields:
        return f"no source gives {name} as a value of its own; {what}"
    return f"{type_name} has no field {name}; {what}"


async def field_provenance(
    info: Info,
    model: type[m.Base],
    entity_id: int,
    fields: list[str] | None,
    *,
    node_type: type[Any] | None = None,
) -> list[FieldProvenance]:
    """The provenance of the node's fields (of `fields` only, if given); `node_type` is its
    GraphQL type, which notes on the fields asked for name."""
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
    views = {view.field: view for view in field_views(entity_type, claims, precedence)}
    wanted = None if fields is None else list(dict.fromkeys(fields))
    asked = None if wanted is None else {to_snake_case(name) for name in wanted}
    shown = [view for view in views.values() if asked is None or view.field in asked]
    answer = []
    for view in shown:
        value, note = view.value, None
        if entity_type == "clinical_trial" and view.field == "title" and view.winner is None:
            value, note = _stand_in(views)
        answer.append(
            FieldProvenance(
                field=to_camel_case(view.field),
                value=value,
                rule=precedence.order_for(entity_type, view.field),
                conflicting=view.field in conflicts,
                claims=_claims(view),
                note=note,
            )
        )
    for name in [name for name in wanted or [] if to_snake_case(name) not in views]:
        answer.append(
            FieldProvenance(
                field=name,
                value=None,
                rule=precedence.order_for(entity_type, to_snake_case(name)),
                conflicting=False,
                claims=[],
                note=_unexplained(node_type or model, name, views),
            )
        )
    return answer
