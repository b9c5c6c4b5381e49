"""Assemble the schema from the domain modules; nothing else lives here."""

import strawberry
from strawberry import relay
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from atmp_graph.schema.collaboration import CollaborationQuery
from atmp_graph.schema.db_errors import DatabaseErrors
from atmp_graph.schema.field_provenance import FieldProvenance
from atmp_graph.schema.identity import IdentityMutation, IdentityQuery
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
    ),
)

# Every mutation is a curator's or an admin's (schema/visibility.py).
Mutation = merge_types("Mutation", (IdentityMutation, ProvenanceMutation))


CONFIG = StrawberryConfig(relay_max_results=100)


def build_schema() -> strawberry.Schema:
    # Types only named in forward references are reached from the mapping's registry.
    missing = protect(definitions([Query, Mutation, FieldProvenance, *mapped_types()]))
    if missing:
        raise RuntimeError(
            f"schema/visibility.py TYPE_TIERS does not say who may see {', '.join(missing)}"
        )
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        # Parsing and validating the same document again costs more than running small queries.
        # The caches live at module level, so a fresh extension per request still hits them.
        extensions=[
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            OperationGate,
            DatabaseErrors,
        ],
        config=CONFIG,
    )


schema = build_schema()
