"""Assemble the schema from the domain modules; nothing else lives here."""

import copy
import functools

import strawberry
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from atmp_graph.schema.audit import AuditQuery
from atmp_graph.schema.collaboration import CollaborationQuery
from atmp_graph.schema.curation import CurationMutation
from atmp_graph.schema.db_errors import DatabaseErrors
from atmp_graph.schema.field_provenance import FieldProvenance
from atmp_graph.schema.identity import IdentityMutation, IdentityQuery
from atmp_graph.schema.limits import QueryLimits, limit_extensions
from atmp_graph.schema.mapping import mapped_types
from atmp_graph.schema.partnerships import PartnershipsQuery
from atmp_graph.schema.plugins import PluginsQuery
from atmp_graph.schema.provenance import ProvenanceMutation, ProvenanceQuery
from atmp_graph.schema.research import ResearchQuery
from atmp_graph.schema.trials import TrialsQuery
from atmp_graph.schema.visibility import OperationGate, definitions, protect


@strawberry.type
class NodeQuery:
    node: relay.Node | None = relay.node(description="Any node, by its global id.")


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
    ),
)

# Every mutation is a curator's or an admin's (schema/visibility.py).
Mutation = merge_types("Mutation", (IdentityMutation, ProvenanceMutation, CurationMutation))


@functools.cache
def _assembled() -> strawberry.Schema:
    # Who may see each field goes on the fields before the one conversion of the types.
    # Types only named in forward references are reached from the mapping's registry.
    missing = protect(definitions([Query, Mutation, FieldProvenance, *mapped_types()]))
    if missing:
        raise RuntimeError(
            f"schema/visibility.py TYPE_TIERS does not say who may see {', '.join(missing)}"
        )
    # Strawberry can convert the types only once (relay fields keep what it added), so every
    # schema is a copy of this one with its own extensions.
    return strawberry.Schema(
        query=Query, mutation=Mutation, config=StrawberryConfig(relay_max_results=100)
    )


def build_schema(limits: QueryLimits | None = None) -> strawberry.Schema:
    """The schema, refusing what `limits` (by default, the development limits) refuse."""
    limited = copy.copy(_assembled())
    limited.extensions = (*limit_extensions(limits or QueryLimits()), OperationGate, DatabaseErrors)
    return limited


schema = build_schema()
