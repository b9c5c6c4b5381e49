"""GraphQL for a curator's own values: set a node's fields by hand, with precedence over every
feed and shown in its provenance as the feed `curation`, or clear them again.

The rules live in identity/curation.py (the curation record and its claims) and
ingest/curated_values.py (which fields, checked as a feed's); every call is audited
(identity/audited.py).
"""

from typing import Annotated, Any

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case, to_snake_case

import atmp_graph.model as m
from atmp_graph.identity import audited, curation
from atmp_graph.identity.curation import CURATED_KINDS, InvalidInput
from atmp_graph.model import kinds
from atmp_graph.schema.audit import EntityRef, actor, bad_input, node_of
from atmp_graph.schema.audit import audited as audited_call
from atmp_graph.schema.context import Info
from atmp_graph.schema.mapping import entity

NODE = "The node: a ClinicalTrial, Product or Institution."
REASON = "Why, for the audit log."


def _checked(
    info: Info, node: relay.GlobalID, values: Any, reason: str
) -> tuple[type[m.Base], int, dict[str, Any]]:
    """The node's model and id and the checked values (if any), or one error that names
    every bad argument."""
    problems: list[tuple[str, str]] = []
    checked: dict[str, Any] = {}
    try:
        model, node_id = node_of(node)
    except InvalidInput as error:
        raise bad_input(error.problems) from None
    if not reason.strip():
        problems.append(("reason", "is empty: say why, for the audit log"))
    entity_type = kinds.entity_type_of(model)
    if entity_type not in CURATED_KINDS:
        named = ", ".join(CURATED_KINDS)
        problems.append(("node", f"{entity_type} nodes have no curated fields (only {named})"))
    elif values is not None and not isinstance(values, dict):
        problems.append(("values", "is not an object of field names and values"))
    elif values is not None:
        given = {to_snake_case(name): value for name, value in values.items()}
        try:
            checked = info.context.check_curated(entity_type, given, name=to_camel_case)
        except InvalidInput as error:
            problems += error.problems
    if problems:
        raise bad_input(problems)
    return model, node_id, checked


@strawberry.type
class CurationMutation:
    @strawberry.mutation(
        description="Set fields of a node by hand (a trial's title, a product's stage, …): the "
        "values win over every feed's (they are claims of the feed `curation`, first in every "
        "precedence order) and provenance lists them as the winners. Each value is checked as "
        "a feed's would be; a bad one refuses the whole call, with each field and why in "
        "`extensions.fields`. Merges, splits and re-ingests keep them."
    )
    async def edit_curated_fields(
        self,
        info: Info,
        node: Annotated[relay.GlobalID, strawberry.argument(description=NODE)],
        values: Annotated[
            JSON,
            strawberry.argument(
                description='The fields (camelCase) and their values, e.g. {"title": "…"}.'
            ),
        ],
        reason: Annotated[str, strawberry.argument(description=REASON)],
    ) -> EntityRef:
        model, node_id, checked = _checked(info, node, values, reason)
        entity_type = kinds.entity_type_of(model)
        precedence, by = info.context.precedence, actor(info.context.viewer)

        def run(session: Session) -> int:
            found = curation.curated_node(session, model, node_id)
            audited.edit_curated(session, by, found, checked, reason=reason, precedence=precedence)
            return found.id  # type: ignore[attr-defined, no-any-return]

        shown = await audited_call(info, run)
        return await entity(info, entity_type, shown)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Remove curated values from a node, so its feeds' values show again."
    )
    async def clear_curated_fields(
        self,
        info: Info,
        node: Annotated[relay.GlobalID, strawberry.argument(description=NODE)],
        reason: Annotated[str, strawberry.argument(description=REASON)],
        fields: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these fields (camelCase); null: all of them."),
        ] = None,
    ) -> EntityRef:
        model, node_id, _ = _checked(info, node, None, reason)
        entity_type = kinds.entity_type_of(model)
        names = None if fields is None else [to_snake_case(name) for name in fields]
        precedence, by = info.context.precedence, actor(info.context.viewer)

        def run(session: Session) -> int:
            found = curation.curated_node(session, model, node_id)
            audited.clear_curated(session, by, found, names, reason=reason, precedence=precedence)
            return found.id  # type: ignore[attr-defined, no-any-return]

        shown = await audited_call(info, run)
        return await entity(info, entity_type, shown)  # type: ignore[no-any-return]
