"""The compiled read path: planned root fields answered by one SQL statement each.

A schema extension, last to run before execution, so the document has been parsed, validated
and measured against the limits, and the operation gate has had its say.  It plans the
operation once per document, operation, viewer's role and variables (a bounded cache); the
root fields it planned are answered from their statements, the others by the resolvers, as a
document of just those fields.  `extensions.readPath` says which path answered which field.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.executor import Executor
from sqlalchemy import Dialect
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from atmp_graph.schema.memo import Memo
from atmp_graph.schema.planner.assemble import connection_builder, node_root_builder
from atmp_graph.schema.planner.driver_sql import DriverStatement, driver_statement
from atmp_graph.schema.planner.json_sql import json_dialect
from atmp_graph.schema.planner.plan import (
    ConnectionRoot,
    NodeRoot,
    NotPlanned,
    OwnRoot,
    Planner,
    Root,
    RootKind,
)
from atmp_graph.schema.planner.rows_sql import rows_statement
from atmp_graph.schema.planner.search_plan import search_root
from atmp_graph.schema.planner.sql import node_statement, root_statement
from atmp_graph.schema.planner.stats_plan import plan_stats
from atmp_graph.schema.search import SEARCH
from atmp_graph.schema.stats import AGGREGATE

logger = logging.getLogger("atmp_graph.planner")

READ_PATH = "readPath"
# The root fields planned by modules of their own, by the metadata key that marks them.
ROOT_KINDS: dict[str, RootKind] = {AGGREGATE: plan_stats, SEARCH: search_root}


@dataclass(frozen=True)
class CompiledRoot:
    key: str
    statement: DriverStatement
    build: Callable[[list[Any], int | None], dict[str, Any]]
    plan: Root  # what it was compiled from (a benchmark compiles it again in another shape)


@dataclass(frozen=True)
class CompiledOperation:
    roots: tuple[CompiledRoot, ...]
    order: tuple[str, ...]
    # The document the resolvers run for the root fields left to them (None: none are).
    rest: DocumentNode | None

    @property
    def quick(self) -> bool:
        """Whether every statement reads one page or one node without counting: about a
        millisecond each, the kind the planner's own small pool serves.  A search, an aggregate
        or a totalCount reads every match, and waits for a connection elsewhere so that the
        quick ones never queue behind it."""
        return all(
            isinstance(root.plan, NodeRoot)
            or (isinstance(root.plan, ConnectionRoot) and not root.plan.counts)
            for root in self.roots
        )

    @property
    def left(self) -> list[str]:
        compiled = {root.key for root in self.roots}
        return [key for key in self.order if key not in compiled]


_PLANS: Memo[CompiledOperation | None] = Memo(size=512)


def plan_key(
    dialect: str, query: str | None, operation_name: str | None, role: Any, variables: Any
) -> tuple[Any, ...] | None:
    """What a plan is kept by: one role's plan never serves another, nor other variables."""
    frozen = frozen_variables(variables)
    return None if frozen is None else (dialect, query, operation_name, role, frozen)


def frozen_variables(variables: Any) -> bytes | None:
    """A request's variables as a key: the same values in any order give the same bytes
    (None for what JSON cannot hold)."""
    try:
        return orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None


class CompiledReads(SchemaExtension):
    def __init__(self) -> None:
        self.read_path: dict[str, list[str]] | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        operation = self._compiled(context)
        if operation is None or not operation.roots:
            yield
            return
        try:
            answers = await answer_operation(
                operation, reads=context.context.reads, engine=context.context.sessions.kw["bind"]
            )
        except asyncio.CancelledError:
            deadline = context.context.deadline
            task = asyncio.current_task()
            if deadline is None or not deadline.expired or task is None:
                raise
            task.uncancel()
            raise deadline.error() from None
        except Exception:
            # Whatever went wrong, the resolvers meet it too and say so in their own words.
            logger.warning("compiled read failed; the resolvers answer", exc_info=True)
            yield
            return
        self.read_path = {"compiled": list(answers), "resolvers": operation.left}
        if operation.rest is None:
            context.result = ExecutionResult(data=answers, errors=None)
            context.context.planned = operation
            yield
            return
        document = context.graphql_document
        context.graphql_document = operation.rest
        try:
            yield
        finally:
            context.graphql_document = document
        result = context.result
        if isinstance(result, ExecutionResult) and result.data is not None:
            merged = {**answers, **result.data}
            result.data = {key: merged[key] for key in operation.order if key in merged}

    def get_results(self) -> dict[str, Any]:
        path = self.read_path or {"compiled": [], "resolvers": self._resolved()}
        return {READ_PATH: path}

    def _resolved(self) -> list[str]:
        result = self.execution_context.result
        data = getattr(result, "data", None)
        return list(data) if isinstance(data, dict) else []

    def _compiled(self, context: Any) -> CompiledOperation | None:
        document = context.graphql_document
        if document is None or context.result is not None:
            return None
        key = plan_key(
            context.context.sessions.kw["bind"].dialect.name,
            context.query,
            context.operation_name,
            context.context.viewer.role,
            context.variables,
        )
        if key is None:
            return None
        # Kept per schema, so each app plans afresh: a plan holds the permissions declared
        # when it was made (schema/visibility.py), which a test may declare otherwise.
        return _PLANS.get((context.schema, *key), lambda: self._plan_or_none(context))

    def _plan_or_none(self, context: Any) -> CompiledOperation | None:
        try:
            return self._plan(context)
        except Exception:
            # A planner's mistake must not change an answer: the resolvers give it.
            logger.exception("the read planner could not plan a query; the resolvers answer")
            return None

    def _plan(self, context: Any) -> CompiledOperation | None:
        schema = context.schema._schema
        executor = Executor.build(
            schema,
            context.graphql_document,
            raw_variable_values=context.variables,
            operation_name=context.operation_name,
        )
        if isinstance(executor, list) or executor.operation.operation is not OperationType.QUERY:
            return None
        operation = executor.operation
        query = schema.query_type
        collected = collect_fields(
            schema, executor.fragments, executor.variable_values, query, operation
        )
        if collected.new_defer_usages:
            return None
        planner = Planner(
            schema=schema,
            fragments=executor.fragments,
            variables=executor.variable_values,
            operation=operation,
            viewer=context.context.viewer,
            scalars=context.schema.schema_converter.scalar_registry,
            config=context.schema.config,
            kinds=ROOT_KINDS,
        )
        plan = planner.plan(collected.grouped_field_set)
        if not plan.roots:
            return None
        rest = None
        if plan.left:
            rest = _only(context.graphql_document, operation, set(plan.left))
            if rest is None:
                return None
        dialect = context.context.sessions.kw["bind"].dialect
        roots = tuple(compile_root(root, dialect) for root in plan.roots)
        return CompiledOperation(roots=roots, order=plan.order, rest=rest)


def fastest_shape(dialect: str) -> str:
    """Compact rows on PostgreSQL, JSON on SQLite, which has no arrays.  benchmarks/read_shapes.py
    measured rows at 0.85 of JSON's CPU (database and Python) for a page of 20 and 0.83 for a
    page of 100, once the limits were written into the statements and the nodes' builders
    generated (JSON had won below 50 before, at 1.06 for 20)."""
    return "rows" if dialect == "postgresql" else "json"


def compile_root(root: Root, dialect: Dialect, *, shape: str | None = None) -> CompiledRoot:
    """`root` as one statement and what assembles its answer: read as `shape` ("json" or
    "rows"), by default the faster one for its database, and as JSON where rows
    cannot hold it."""
    json = json_dialect(dialect.name)
    if isinstance(root, OwnRoot):
        statement, build = root.compiled(dialect)
        return CompiledRoot(key=root.key, statement=statement, build=build, plan=root)
    if isinstance(root, NodeRoot):
        return CompiledRoot(
            key=root.key,
            statement=driver_statement(node_statement(root, json), dialect, counts=False),
            build=node_root_builder(root.shape),
            plan=root,
        )
    if (shape or fastest_shape(dialect.name)) == "rows":
        try:
            rows = rows_statement(root)
        except NotPlanned:
            pass  # a shape compact rows cannot hold: read as JSON
        else:
            return CompiledRoot(
                key=root.key,
                statement=driver_statement(
                    rows, dialect, counts=root.counts, id_at=len(root.keys) - 1
                ),
                build=connection_builder(root, flat=True),
                plan=root,
            )
    return CompiledRoot(
        key=root.key,
        statement=driver_statement(root_statement(root, json), dialect, counts=root.counts),
        build=connection_builder(root),
        plan=root,
    )


async def answer_operation(
    operation: CompiledOperation, *, reads: AsyncEngine | None, engine: AsyncEngine
) -> dict[str, Any]:
    """The answers of an operation's planned roots: a quick one's on `reads`, the planner's
    small pool of connections outside transactions (few connections taking turns keep
    PostgreSQL's caches warm: benchmarks/peer_postgraphile.py); a slower one's, any without
    `reads`, and a quick one that found no connection of `reads` free within its short pool
    timeout (a machine so busy that each statement takes long), on the requests' engine.
    On SQLite every planned read takes `reads`: its pools are not sized (model/database.py),
    so none queues behind another there, and a requests' connection would be switched to
    autocommit and back through aiosqlite's thread for each read (1 ms of a counted page's)."""
    if reads is not None and (operation.quick or reads.dialect.name == "sqlite"):
        try:
            return await answer_roots(reads, operation.roots, outside_transactions=True)
        except PoolTimeout:
            pass
    return await answer_roots(engine, operation.roots, outside_transactions=False)


async def answer_roots(
    engine: AsyncEngine, roots: tuple[CompiledRoot, ...], *, outside_transactions: bool
) -> dict[str, Any]:
    """Each root's answer, read on one pooled connection outside any transaction (an engine
    made `reads_only` is; another is told so per connection, which costs a round trip)."""
    answers: dict[str, Any] = {}
    async with engine.connect() as connection:
        if not outside_transactions:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        driver = (await connection.get_raw_connection()).driver_connection
        for root in roots:
            page, total = await root.statement.page(connection, driver)
            answers[root.key] = root.build(page, total)
    return answers


def _only(
    document: DocumentNode, operation: OperationDefinitionNode, keys: set[str]
) -> DocumentNode | None:
    """The document with the operation's root selections cut to the fields named `keys`;
    None when its root selections are not plain fields (a fragment may hold both kinds)."""
    kept = []
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        key = (selection.alias or selection.name).value
        if key in keys:
            kept.append(selection)
    cut = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=tuple(kept)),
    )
    definitions = tuple(cut if d is operation else d for d in document.definitions)
    return DocumentNode(definitions=definitions)
