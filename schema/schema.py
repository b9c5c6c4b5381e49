"""Assemble the schema from the domain modules and its extensions; nothing else lives here."""

import copy
import functools

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from atmp_graph.schema.audit import AuditQuery
from atmp_graph.schema.basic_fields import read_basic_fields_directly
from atmp_graph.schema.changes import ChangesQuery, ChangeSubscription
from atmp_graph.schema.collaboration import CollaborationQuery
from atmp_graph.schema.curation import CurationMutation
from atmp_graph.schema.db_errors import DatabaseErrors
from atmp_graph.schema.errors import MaskUnexpectedErrors, log_unexpected, request_id_of
from atmp_graph.schema.field_provenance import FieldProvenance
from atmp_graph.schema.identity import IdentityMutation, IdentityQuery
from atmp_graph.schema.ingest_jobs import JobsMutation
from atmp_graph.schema.limits import QueryLimits, limit_extensions
from atmp_graph.schema.list_inputs import generate
from atmp_graph.schema.mapping import mapped_types
from atmp_graph.schema.node import NodeQuery
from atmp_graph.schema.operation_facts import OperationFacts
from atmp_graph.schema.operation_name import OperationNameRequired
from atmp_graph.schema.partnerships import PartnershipsQuery
from atmp_graph.schema.planner.compiled_reads import CompiledReads
from atmp_graph.schema.plugins import PluginsQuery
from atmp_graph.schema.provenance import ProvenanceMutation, ProvenanceQuery
from atmp_graph.schema.research import ResearchQuery
from atmp_graph.schema.search import SearchQuery
from atmp_graph.schema.stats import StatsQuery
from atmp_graph.schema.trials import TrialsQuery
from atmp_graph.schema.visibility import OperationGate, definitions, protect

Query = merge_types(
    "Query",
    (
        NodeQuery,
        CollaborationQuery,
        ResearchQuery,
        TrialsQuery,
        PartnershipsQuery,
        ProvenanceQuery,
        IdentityQuery,
        PluginsQuery,
        AuditQuery,
        StatsQuery,
        SearchQuery,
        ChangesQuery,
    ),
)

# Every mutation is a curator's or an admin's (schema/visibility.py).
Mutation = merge_types(
    "Mutation", (IdentityMutation, ProvenanceMutation, CurationMutation, JobsMutation)
)
# Live updates: the change history as it is written (schema/changes.py).
Subscription = merge_types("Subscription", (ChangeSubscription,))


class GraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Strawberry logs every error here, the client's mistakes too; we log the unexpected
        ones, before any extension replaces them, under the request id their client is given."""
        context = None if execution_context is None else execution_context.context
        log_unexpected(errors, request_id_of(context))


CONFIG = StrawberryConfig(relay_max_results=100)


@functools.cache
def _assembled() -> GraphSchema:
    # The lists' filter and order inputs, which fields name lazily, made from the types.
    generate(mapped_types())
    # Who may see each field goes on the fields before the one conversion of the types.
    # Types only named in forward references are reached from the mapping's registry.
    missing = protect(
        definitions([Query, Mutation, Subscription, FieldProvenance, *mapped_types()])
    )
    if missing:
        raise RuntimeError(
            f"schema/visibility.py TYPE_TIERS does not say who may see {', '.join(missing)}"
        )
    # Strawberry can convert the types only once (relay fields keep what it added), so every
    # schema is a copy of this one with its own extensions.
    assembled = GraphSchema(
        query=Query, mutation=Mutation, subscription=Subscription, config=CONFIG
    )
    read_basic_fields_directly(assembled._schema)
    return assembled


def build_schema(
    limits: QueryLimits | None = None, *, compiled_reads: bool = True
) -> strawberry.Schema:
    """The schema, refusing what `limits` (by default, the development limits) refuse; with
    `compiled_reads`, the read planner answers what it can (schema/planner/)."""
    limited = copy.copy(_assembled())
    limited.extensions = (
        # The parse and validation caches, then what a query may ask for (schema/limits.py).
        *limit_extensions(limits or QueryLimits()),
        # Extensions finish in reverse order: listed first, it sees what the others leave.
        MaskUnexpectedErrors,
        OperationNameRequired,
        OperationFacts,
        OperationGate,
        DatabaseErrors,
        # Last, so it answers what it can only once the document passed every check above.
        *([CompiledReads] if compiled_reads else []),
    )
    return limited


# Synchronous execution (execute_sync) has no planner, which reads asynchronously.
schema = build_schema(compiled_reads=False)
