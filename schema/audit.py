"""The audit log admins read, and what every mutation module needs to write to it: the
caller as an actor, one audited transaction, and input errors that name each bad field.

The entries themselves are written by identity/audited.py, in the operation's transaction.
"""

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case

import atmp_graph.model as m
from atmp_graph.access.viewer import Viewer
from atmp_graph.identity.curation import InvalidInput
from atmp_graph.identity.merging import MergeError
from atmp_graph.model import change_tracking
from atmp_graph.model.audit import Actor
from atmp_graph.model.quarantine import QuarantineError
from atmp_graph.schema.connection import Connection
from atmp_graph.schema.context import Info
from atmp_graph.schema.errors import UserError
from atmp_graph.schema.filters import AuditFilter, check_text
from atmp_graph.schema.ids import row_id
from atmp_graph.schema.list_names import order_type
from atmp_graph.schema.mapping import Mapped, MappedNode, entity, maps, model_of
from atmp_graph.schema.pagination import ORDER_BY, PAGED, paginate

if TYPE_CHECKING:
    from atmp_graph.schema.collaboration import Institution

T = TypeVar("T")
BAD_INPUT = "BAD_USER_INPUT"
EntityRef = Annotated[MappedNode, strawberry.lazy("atmp_graph.schema.mapping")]


def actor(viewer: Viewer) -> Actor:
    """The caller as the audit log names them."""
    role = None if viewer.role is None else viewer.role.value
    return Actor(
        who=viewer.who, key_id=viewer.key_id, institution_id=viewer.institution_id, role=role
    )


def bad_input(problems: list[tuple[str, str]], message: str | None = None) -> UserError:
    """One error for the whole input, with each bad field (as the schema names it) and why in
    `extensions.fields`."""
    named = [(to_camel_case(field), reason) for field, reason in problems]
    message = message or "; ".join(f"{field}: {reason}" for field, reason in named)
    fields = [{"field": field, "reason": reason} for field, reason in named]
    return UserError(message, extensions={"code": BAD_INPUT, "fields": fields})


async def audited(info: Info, operation: Callable[[Session], T]) -> T:
    """Run an audited operation (identity/audited.py) in one transaction; its errors reach
    the client as the sentences they are, input errors with each field."""
    async with info.context.sessions() as session, session.begin():
        # The change history names the key behind what the operation changes.
        change_tracking.set_origin(session.sync_session, actor_key_id=info.context.viewer.key_id)
        try:
            return await session.run_sync(operation)
        except InvalidInput as error:
            raise bad_input(error.problems) from None
        except (MergeError, QuarantineError) as error:
            # The sentence as it is (the command line says the same), and the argument at fault.
            if error.field is None:
                raise UserError(str(error)) from None
            raise bad_input([(error.field, str(error))], str(error)) from None


def node_of(node: relay.GlobalID, *, argument: str = "node") -> tuple[type[m.Base], int]:
    """The model and id a global id names; InvalidInput if it names nothing of this API."""
    try:
        model = model_of(node.type_name)
    except UserError:
        model = None
    number = row_id(node.node_id)
    if model is None or number is None:
        raise InvalidInput([(argument, f"{node} is not a node id of this API")])
    return model, number


@maps(m.AuditEntry)
@strawberry.type(
    description="One operation that changed the graph by hand: who, when, what, on what, "
    "and what it changed (admins only)."
)
class AuditEntry(Mapped):
    id: int = strawberry.field(description="Its number, in the order they were written.")
    at: dt.datetime = strawberry.field(description="When.")
    operation: str = strawberry.field(
        description="The mutation (the command line writes the same names), e.g. mergeNodes."
    )
    arguments: JSON = strawberry.field(description="The arguments it was given.")
    who: str = strawberry.field(description="Who, as a sentence: a key, or a login name.")
    key_id: int | None = strawberry.field(description="The API key's number (null: the CLI).")
    institution_id: strawberry.Private[int | None]
    role: str | None = strawberry.field(description="The key's role (null: the command line).")
    target_type: str | None = strawberry.field(
        description="The kind of what it changed (clinical_trial, quarantined_record, …)."
    )
    target_id: int | None = strawberry.field(description="The number of what it changed.")
    before: JSON | None = strawberry.field(description="What it changed, as it was.")
    after: JSON | None = strawberry.field(description="What it changed, as it became.")

    @strawberry.field(description="The institution the key speaks for.")
    async def institution(
        self, info: Info
    ) -> Annotated["Institution", strawberry.lazy("atmp_graph.schema.collaboration")] | None:
        if self.institution_id is None:
            return None
        return await entity(info, "institution", self.institution_id)  # type: ignore[no-any-return]


def _conditions(filter: AuditFilter | None) -> list[ColumnElement[bool]]:
    if filter is None:
        return []
    a = m.AuditEntry
    where: list[ColumnElement[bool]] = []
    if filter.operation is not None:
        check_text(filter.operation, argument="filter.operation")
        where.append(a.operation == filter.operation)
    if filter.key_id is not None:
        where.append(a.key_id == filter.key_id)
    if filter.institution is not None:
        model, institution_id = node_of(filter.institution, argument="filter.institution")
        if model is not m.Institution:
            raise InvalidInput([("filter.institution", f"{filter.institution} is no institution")])
        where.append(a.institution_id == institution_id)
    if filter.since is not None:
        where.append(a.at >= _utc(filter.since))
    if filter.until is not None:
        where.append(a.at < _utc(filter.until))
    return where


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite compares the stored text: every moment must be written in UTC to compare right.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="What curators and admins changed by hand, oldest first: every mutation "
        "and curation command, with who, when, the arguments and before/after (admins only).",
        metadata=PAGED,
    )
    async def audit_log(
        self,
        info: Info,
        *,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Start after it.")] = None,
        order_by: Annotated[
            list[order_type(m.AuditEntry)] | None,  # type: ignore[valid-type]
            strawberry.argument(description=ORDER_BY),
        ] = None,
        filter: Annotated[
            AuditFilter | None, strawberry.argument(description="Which entries.")
        ] = None,
    ) -> Connection[AuditEntry] | None:
        try:
            where = _conditions(filter)
        except InvalidInput as error:
            raise bad_input(error.problems) from None
        return await paginate(
            info,
            AuditEntry,
            first=first,
            after=after,
            where=where,
            order_by=order_by,
            filter=filter,
        )
