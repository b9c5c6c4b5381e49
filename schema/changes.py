"""Live updates and the change history: `graphChanges` and `ingestRuns` (subscriptions) and
`changes` (a query), all read from the outbox (model/outbox.py).

A subscription reads the events after the last one it sent, in sequence order, then waits to
be woken (api/live_updates.py: a commit here, Redis, or the poll interval) and reads again: a
wake-up carries no events, so one that is lost delays nothing for longer than the poll.  It
starts after the newest event, or resumes after `after` (the last sequence a client saw) for
as long as the retention window keeps those events; from before it, it is refused.
"""

import asyncio
import datetime as dt
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, false, func, or_, select
from strawberry import relay

import atmp_graph.model as m
from atmp_graph.enums import ChangeKind
from atmp_graph.model import outbox
from atmp_graph.model.outbox import NODE_KINDS, RUN_KINDS
from atmp_graph.schema.audit import node_of
from atmp_graph.schema.change_types import EntityType, GraphChange, graph_change, may_see_kinds
from atmp_graph.schema.connection import Connection
from atmp_graph.schema.context import Info
from atmp_graph.schema.db_errors import database_error
from atmp_graph.schema.errors import UserError
from atmp_graph.schema.filters import check_text
from atmp_graph.schema.pagination import PAGED, page_size
from atmp_graph.schema.visibility import FIELD_TIERS, require, viewer

READ_AT_ONCE = 500  # events a subscription reads per statement
PRUNED = "CHANGES_PRUNED"
Types = Annotated[
    list[EntityType] | None,
    strawberry.argument(description="Only changes of these kinds of node."),
]
Institution = Annotated[
    relay.GlobalID | None,
    strawberry.argument(description="Only changes of nodes that belong to this institution."),
]
Feed = Annotated[str | None, strawberry.argument(description="Only what this feed's runs did.")]
After = Annotated[
    int | None,
    strawberry.argument(
        description="Resume after this sequence (the last one you saw); without it, start "
        "with the next change. Events are kept for ATMP_CHANGES_RETENTION_DAYS (7 days)."
    ),
]


@strawberry.input(description="Which events of the change history (all that match every field).")
class ChangeFilter:
    types: list[EntityType] | None = strawberry.field(
        default=None, description="Of these kinds of node."
    )
    kinds: list[ChangeKind] | None = strawberry.field(default=None, description="Of these kinds.")
    node: relay.GlobalID | None = strawberry.field(default=None, description="Of this node.")
    institution: relay.GlobalID | None = strawberry.field(
        default=None, description="Of nodes that belong to this institution."
    )
    feed: str | None = strawberry.field(default=None, description="Made by this feed's runs.")
    since: dt.datetime | None = strawberry.field(default=None, description="At or after this.")
    until: dt.datetime | None = strawberry.field(default=None, description="Before this.")


def _visible(info: Info) -> ColumnElement[bool]:
    """The events the caller may see at all, as SQL (fields within them: change_types)."""
    e = m.ChangeEvent
    types, quarantine, runs = may_see_kinds(viewer(info))
    allowed: list[ColumnElement[bool]] = [e.kind.in_(NODE_KINDS) & e.entity_type.in_(sorted(types))]
    if quarantine:
        allowed.append(e.kind == ChangeKind.QUARANTINED)
    if runs:
        allowed.append(e.kind.in_(RUN_KINDS))
    return or_(false(), *allowed)


def _conditions(
    info: Info,
    *,
    types: Sequence[Any] | None = None,
    kinds: Sequence[ChangeKind] | None = None,
    institution: relay.GlobalID | None = None,
    feed: str | None = None,
    node: relay.GlobalID | None = None,
) -> list[ColumnElement[bool]]:
    e = m.ChangeEvent
    where = [_visible(info)]
    if types is not None:
        where.append(e.entity_type.in_(sorted(t.value for t in types)))
    if kinds is not None:
        where.append(e.kind.in_(kinds))
    if institution is not None:
        model, number = _node(institution, "institution")
        if model is not m.Institution:
            raise UserError(f"institution: {institution} is no institution")
        where.append(e.institution_id == number)
    if feed is not None:
        check_text(feed, argument="feed")
        where.append(e.feed == feed)
    if node is not None:
        model, number = _node(node, "node")
        where += [e.entity_type == m.kinds.entity_type_of(model), e.node_id == number]
    return where


def _node(value: relay.GlobalID, argument: str) -> tuple[type[m.Base], int]:
    try:
        return node_of(value, argument=argument)
    except Exception:
        raise UserError(f"{argument}: {value} is not a node id of this API") from None


async def _start(info: Info, after: int | None) -> int:
    """Where a subscription starts: after `after`, if the history still holds what follows."""
    async with info.context.sessions() as session:
        newest = await session.run_sync(outbox.newest_sequence)
        oldest = await session.run_sync(outbox.oldest_sequence)
    if after is None:
        return newest
    if after < 0 or after > newest:
        raise UserError(f"after: there is no event {after}; the newest is {newest}")
    if oldest is not None and after < oldest - 1:
        raise UserError(
            f"after: the events after {after} were pruned (the history keeps "
            "ATMP_CHANGES_RETENTION_DAYS days); the oldest kept is "
            f"{oldest}: read the graph afresh, then subscribe without `after`",
            extensions={"code": PRUNED, "oldest": oldest},
        )
    return after


async def _read(
    info: Info, where: list[ColumnElement[bool]], after: int
) -> tuple[list[m.ChangeEvent], int]:
    """The next events after `after` and how far they reach: every event up to the newest
    committed is visible once the newest is (model/outbox.py numbers them in commit order)."""
    e = m.ChangeEvent
    async with info.context.sessions() as session:
        newest = await session.run_sync(outbox.newest_sequence)
        rows = list(
            await session.scalars(
                select(e)
                .where(e.sequence > after, e.sequence <= newest, *where)
                .order_by(e.sequence)
                .limit(READ_AT_ONCE)
            )
        )
    reached = rows[-1].sequence if len(rows) == READ_AT_ONCE else newest
    return rows, reached


async def _stream(
    info: Info, where: list[ColumnElement[bool]], after: int | None
) -> AsyncGenerator[GraphChange, None]:
    live = info.context.live
    seen_by = viewer(info)
    request = info.context.request
    client = getattr(request, "client", None)
    key = seen_by.key_id if seen_by.key_id is not None else ("address", getattr(client, "host", ""))
    admitted = live.admitted(connection=id(request), key=key) if live is not None else None
    try:
        if admitted is not None:
            await admitted.__aenter__()
    except Exception as refused:
        raise UserError(str(refused), extensions={"code": "TOO_MANY_SUBSCRIPTIONS"}) from None
    last = after
    try:
        last = await _start(info, after)
        while True:
            wake_ups = live.wake_ups if live is not None else 0
            rows, last = await _read(info, where, last)
            for row in rows:
                change = graph_change(row, seen_by)
                if change is not None:
                    yield change
            if len(rows) < READ_AT_ONCE:
                await (live.wait(wake_ups) if live is not None else _poll_wait())
    except Exception as error:
        raise _resumable(error, last) from None
    finally:
        if admitted is not None:
            await admitted.__aexit__(None, None, None)


def _resumable(error: Exception, last: int | None) -> Exception:
    """A database error as the subscriber's sentence: what happened, and where to resume."""
    found = database_error(error)
    if found is None:
        return error
    message, code = found
    if last is None:
        return UserError(message, extensions={"code": code})
    return UserError(
        f"{message}; subscribe again with after: {last} to miss nothing",
        extensions={"code": code, "after": last},
    )


async def _poll_wait() -> None:
    """Without the API's wake-ups (the schema run directly): look again each second."""
    await asyncio.sleep(1.0)


@strawberry.type
class ChangeSubscription:
    @strawberry.subscription(
        description="The graph's changes as they are committed, in sequence order: nodes "
        "created, updated (with the fields), merged and retired, and (curators) records "
        "quarantined and ingest runs. Each shows what your key may see."
    )
    async def graph_changes(
        self,
        info: Info,
        *,
        types: Types = None,
        kinds: Annotated[
            list[ChangeKind] | None, strawberry.argument(description="Only these kinds.")
        ] = None,
        institution: Institution = None,
        feed: Feed = None,
        after: After = None,
    ) -> AsyncGenerator[GraphChange, None]:
        where = _conditions(info, types=types, kinds=kinds, institution=institution, feed=feed)
        async for change in _stream(info, where, after):
            yield change

    @strawberry.subscription(
        description="Ingest runs as they start, commit each batch and finish, with their "
        "reports (curators and admins)."
    )
    async def ingest_runs(
        self, info: Info, *, feed: Feed = None, after: After = None
    ) -> AsyncGenerator[GraphChange, None]:
        require(info, FIELD_TIERS[("Subscription", "ingest_runs")])
        where = _conditions(info, kinds=sorted(RUN_KINDS, key=lambda k: k.value), feed=feed)
        async for change in _stream(info, where, after):
            yield change


@strawberry.type
class ChangesQuery:
    @strawberry.field(
        description="The change history, oldest first: what `graphChanges` sent, kept for "
        "ATMP_CHANGES_RETENTION_DAYS (7 days); e.g. the trials whose status changed this month "
        "(kinds: [UPDATED], types: [CLINICAL_TRIAL], since: ...). A cursor is a sequence.",
        metadata=PAGED,
    )
    async def changes(
        self,
        info: Info,
        filter: Annotated[
            ChangeFilter | None, strawberry.argument(description="Which events.")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Start after this cursor.")
        ] = None,
    ) -> Connection[GraphChange]:
        size = page_size(first)
        given = filter or ChangeFilter()
        where = _conditions(
            info,
            types=given.types,
            kinds=given.kinds,
            institution=given.institution,
            feed=given.feed,
            node=given.node,
        )
        e = m.ChangeEvent
        if given.since is not None:
            where.append(e.at >= _utc(given.since))
        if given.until is not None:
            where.append(e.at < _utc(given.until))
        start = 0 if after is None else _cursor(after)
        async with info.context.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(e).where(*where))
            rows = list(
                await session.scalars(
                    select(e).where(e.sequence > start, *where).order_by(e.sequence).limit(size + 1)
                )
            )
        seen_by = viewer(info)
        page = [change for row in rows[:size] if (change := graph_change(row, seen_by))]
        return Connection.of(
            page,
            cursors=[str(change.sequence) for change in page],
            total=total or 0,
            has_next=len(rows) > size,
            has_previous=start > 0,
        )


def _cursor(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise UserError(f"after: {text[:40]!r} is not a cursor of this list (a sequence)")
    return int(text)


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite compares the stored text: every moment must be written in UTC to compare right.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
