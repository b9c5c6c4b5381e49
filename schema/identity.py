"""GraphQL for one graph from many feeds: per-field provenance, conflicts, the review queue of
uncertain matches, merges, and the admin mutations that judge, merge, split and edit aliases.

The rules themselves live in identity/ (identity/resolution.py, identity/review.py); this module
only reads them out and hands admin requests to them, each audited (identity/audited.py).
"""

import datetime as dt
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.utils.str_converters import to_snake_case

import atmp_graph.model as m
from atmp_graph.identity import audited
from atmp_graph.identity.curation import InvalidInput
from atmp_graph.model import kinds
from atmp_graph.model.kinds import model_for
from atmp_graph.schema.audit import actor, bad_input, node_of
from atmp_graph.schema.audit import audited as audited_call
from atmp_graph.schema.connection import Connection
from atmp_graph.schema.context import Info
from atmp_graph.schema.enums import SuggestionStatus
from atmp_graph.schema.field_provenance import FieldProvenance, field_provenance
from atmp_graph.schema.filters import ConflictFilter, check_text
from atmp_graph.schema.keyset import (
    Key,
    after_condition,
    decode_cursor,
    encode_cursor,
    fingerprint,
    order_clauses,
)
from atmp_graph.schema.mapping import Mapped, MappedNode, entity, global_id, maps
from atmp_graph.schema.ordering import CodePointOrder
from atmp_graph.schema.pagination import PAGED, connection_field, page_size

EntityRef = Annotated[MappedNode, strawberry.lazy("atmp_graph.schema.mapping")]


@strawberry.type(description="A node whose sources disagree, with the fields they disagree on.")
class Conflict:
    entity_type: str = strawberry.field(description="The kind of node (clinical_trial, …).")
    entity_id: strawberry.Private[int]

    @strawberry.field(description="The node.")
    async def node(self, info: Info) -> EntityRef | None:
        return await entity(info, self.entity_type, self.entity_id)  # type: ignore[no-any-return]

    @strawberry.field(description="Only the fields its sources disagree on.")
    async def fields(self, info: Info) -> list[FieldProvenance]:
        model = model_for(self.entity_type)
        views = await field_provenance(info, model, self.entity_id, None)
        return [view for view in views if view.conflicting]


@maps(m.MatchSuggestion)
@strawberry.type(
    description="Two nodes that may be one thing (similar names, no shared identifier). "
    "Nothing merges until an admin accepts; a rejected pair is never suggested again."
)
class MatchSuggestion(Mapped):
    id: int = strawberry.field(description="Its number, for acceptMatch and rejectMatch.")
    entity_type: str = strawberry.field(description="The kind of the two nodes.")
    entity_id: strawberry.Private[int]
    other_id: strawberry.Private[int]
    score: float = strawberry.field(description="How alike they are, 0 to 1.")
    reason: str = strawberry.field(description="Why they were suggested.")
    status: SuggestionStatus = strawberry.field(description="Waiting, accepted or rejected.")
    created_at: dt.datetime = strawberry.field(description="When it was suggested.")
    decided_at: dt.datetime | None = strawberry.field(description="When an admin decided.")

    @strawberry.field(description="One of the pair (the older).")
    async def node(self, info: Info) -> EntityRef | None:
        return await entity(info, self.entity_type, self.entity_id)  # type: ignore[no-any-return]

    @strawberry.field(description="The other of the pair.")
    async def other(self, info: Info) -> EntityRef | None:
        return await entity(info, self.entity_type, self.other_id)  # type: ignore[no-any-return]


@maps(m.EntityMerge)
@strawberry.type(description="One node merged into another; splitMerge undoes it.")
class EntityMerge(Mapped):
    id: int = strawberry.field(description="Its number, for splitMerge.")
    entity_type: str = strawberry.field(description="The kind of the two nodes.")
    survivor_id: strawberry.Private[int]
    merged_id: strawberry.Private[int]
    reason: str = strawberry.field(description="Why: an accepted suggestion, an admin, a feed.")
    merged_at: dt.datetime = strawberry.field(description="When.")
    split_at: dt.datetime | None = strawberry.field(description="When it was split again.")

    @strawberry.field(description="The node that took the other in (or its survivor since).")
    async def survivor(self, info: Info) -> EntityRef | None:
        return await entity(info, self.entity_type, self.survivor_id)  # type: ignore[no-any-return]

    @strawberry.field(description="The global id of the node merged away: it still resolves.")
    def merged_node_id(self) -> relay.GlobalID:
        return global_id(self.entity_type, self.merged_id)


async def _conflicts(
    info: Info, first: int | None, after: str | None, filter: ConflictFilter | None
) -> Connection[Conflict]:
    size = page_size(first)
    conflict = m.FieldConflict
    where: list[ColumnElement[bool]] = []
    if filter and filter.entity_type:
        check_text(filter.entity_type, argument="filter.entityType")
        where.append(conflict.entity_type == filter.entity_type)
    if filter and filter.field:
        check_text(filter.field, argument="filter.field")
        where.append(conflict.field == to_snake_case(filter.field))
    # One node per row, by kind and then id.
    keys = [
        Key("ENTITY_TYPE", CodePointOrder(conflict.__table__.c.entity_type), kind=str),
        Key("ID", conflict.__table__.c.entity_id),
    ]
    list_fingerprint = fingerprint("Conflict", None, filter)
    conditions = list(where)
    if after is not None:
        conditions.append(after_condition(keys, decode_cursor(after, keys, list_fingerprint)))
    nodes = [conflict.entity_type, conflict.entity_id]
    conflicted = select(*nodes).where(*where).group_by(*nodes)
    page = select(*nodes).where(*conditions).group_by(*nodes)
    async with info.context.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(conflicted.subquery())) or 0
        rows = (await session.execute(page.order_by(*order_clauses(keys)).limit(size + 1))).all()
    shown = rows[:size]
    return Connection.of(
        [Conflict(entity_type=kind, entity_id=node) for kind, node in map(tuple, shown)],
        cursors=[encode_cursor(list(row), list_fingerprint) for row in shown],
        total=total,
        has_next=len(rows) > size,
        has_previous=after is not None,
    )


@strawberry.type
class IdentityQuery:
    @strawberry.field(
        description="Nodes whose sources disagree on some field (a trial's phase or status "
        "differing between a partner's feed and the registry, say), with the competing values "
        "(curators and admins).",
        metadata=PAGED,
    )
    async def conflicts(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Start after it.")] = None,
        filter: Annotated[
            ConflictFilter | None, strawberry.argument(description="Which conflicts.")
        ] = None,
    ) -> Connection[Conflict] | None:
        return await _conflicts(info, first, after, filter)

    match_suggestions = connection_field(
        MatchSuggestion,
        description="Possible matches for an admin to judge; filter status PENDING for the queue "
        "(curators and admins).",
        nullable=True,
    )
    merges = connection_field(
        EntityMerge,
        description="Merges, oldest first, split ones included (curators and admins).",
        nullable=True,
    )


def _node_id(node: relay.GlobalID, argument: str) -> tuple[type[m.Base], int]:
    try:
        return node_of(node, argument=argument)
    except InvalidInput as error:
        raise bad_input(error.problems) from None


ALIASED = "An institution, facility or condition."


def _admin(description: str) -> Any:
    # Who may call it: schema/visibility.py (curators and admins).
    return strawberry.mutation(description=description)


@strawberry.type
class IdentityMutation:
    @_admin(
        "Accept a match suggestion: the two nodes become one (the older keeps its id unless "
        "`survivor` says otherwise); the other's id goes on resolving to it."
    )
    async def accept_match(
        self,
        info: Info,
        id: Annotated[int, strawberry.argument(description="The suggestion's number.")],
        survivor: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Which node keeps its id.")
        ] = None,
    ) -> EntityMerge | None:
        kind = None if survivor is None else _node_id(survivor, "survivor")[0]
        survivor_id = None if survivor is None else int(survivor.node_id)
        precedence, by = info.context.precedence, actor(info.context.viewer)

        def run(session: Session) -> EntityMerge | None:
            suggestion = session.get(m.MatchSuggestion, id)
            entity_type = None if suggestion is None else suggestion.entity_type
            if kind is not None and entity_type not in (None, kinds.entity_type_of(kind)):
                raise InvalidInput(
                    [("survivor", f"{survivor} is no {entity_type}, as suggestion {id}'s are")]
                )
            record = audited.accept_match(
                session, by, id, precedence=precedence, survivor_id=survivor_id
            )
            return None if record is None else EntityMerge.from_row(record)

        return await audited_call(info, run)

    @_admin(
        "Reject a match suggestion: they are different things, and the pair is never "
        "suggested again."
    )
    async def reject_match(
        self, info: Info, id: Annotated[int, strawberry.argument(description="Its number.")]
    ) -> MatchSuggestion:
        by = actor(info.context.viewer)
        return await audited_call(
            info, lambda s: MatchSuggestion.from_row(audited.reject_match(s, by, id))
        )

    @_admin("Merge two nodes of one kind that no suggestion paired.")
    async def merge_nodes(
        self,
        info: Info,
        survivor: Annotated[relay.GlobalID, strawberry.argument(description="Keeps its id.")],
        merged: Annotated[relay.GlobalID, strawberry.argument(description="Merged into it.")],
        reason: Annotated[str, strawberry.argument(description="Why, for the record.")],
    ) -> EntityMerge:
        model, survivor_id = _node_id(survivor, "survivor")
        other, merged_id = _node_id(merged, "merged")
        problems = []
        if model is not other:
            problems.append(
                ("merged", f"a {survivor.type_name} cannot be merged with a {merged.type_name}")
            )
        if not reason.strip():
            problems.append(("reason", "is empty: say why, for the audit log"))
        if problems:
            raise bad_input(problems)
        precedence, by = info.context.precedence, actor(info.context.viewer)

        def run(session: Session) -> EntityMerge:
            record = audited.merge_nodes(
                session, by, model, survivor_id, merged_id, reason=reason, precedence=precedence
            )
            return EntityMerge.from_row(record)

        return await audited_call(info, run)

    @_admin(
        "Split a merge: the merged node comes back under its own id with the records that "
        "built it, and the pair stays apart in later ingests."
    )
    async def split_merge(
        self, info: Info, id: Annotated[int, strawberry.argument(description="Its number.")]
    ) -> EntityMerge:
        precedence, by = info.context.precedence, actor(info.context.viewer)
        return await audited_call(
            info,
            lambda s: EntityMerge.from_row(audited.split_merge(s, by, id, precedence=precedence)),
        )

    @_admin("Add an alias: from the next ingest on, a feed naming the node so finds it.")
    async def add_alias(
        self,
        info: Info,
        node: Annotated[relay.GlobalID, strawberry.argument(description=ALIASED)],
        alias: Annotated[str, strawberry.argument(description="The name to add.")],
    ) -> list[str]:
        entity_type, node_id = _aliased(node)
        by = actor(info.context.viewer)
        return await audited_call(
            info, lambda s: audited.edit_alias(s, by, entity_type, node_id, alias, add=True)
        )

    @_admin("Remove an alias a node should not go by; returns the aliases left.")
    async def remove_alias(
        self,
        info: Info,
        node: Annotated[relay.GlobalID, strawberry.argument(description=ALIASED)],
        alias: Annotated[str, strawberry.argument(description="The name to remove.")],
    ) -> list[str]:
        entity_type, node_id = _aliased(node)
        by = actor(info.context.viewer)
        return await audited_call(
            info, lambda s: audited.edit_alias(s, by, entity_type, node_id, alias, add=False)
        )


def _aliased(node: relay.GlobalID) -> tuple[str, int]:
    model, node_id = _node_id(node, "node")
    return str(model.__tablename__), node_id
