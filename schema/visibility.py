"""Who may see each type and field: the one permission layer of the API.

Every object type of the schema is listed in TYPE_TIERS (a test checks it), so a new type has
to say who sees it; a field is its type's tier unless FIELD_TIERS says otherwise.  At schema
build time `protect` puts one field extension on every field that needs a check: the fields
listed here, and those whose value may be of a protected type (`retiredBy`, `node(id:)`), whose
result is screened by its type.  A refused field is null with an error entry naming the tier;
a mutation the caller may not run refuses the whole operation before it runs (`OperationGate`,
HTTP 403).  Partnership terms need one more check (confidential terms: the parties), which
their resolver asks of `require` here.
"""

from collections.abc import Collection, Iterable, Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_snake_case

from atmp_graph.access.viewer import Tier, Viewer, refusal
from atmp_graph.schema.context import Info
from atmp_graph.schema.errors import UserError

PUBLIC, PARTNER, PARTY, CURATOR = Tier.PUBLIC, Tier.PARTNER, Tier.PARTY, Tier.CURATOR
ADMIN = Tier.ADMIN
FORBIDDEN = "FORBIDDEN"

# Every object type, by GraphQL name (connections, edges and a breakdown's pages of groups
# follow their node's tier through the field that returns them).
TYPE_TIERS: dict[str, Tier] = {
    **dict.fromkeys(
        (
            "Query", "Mutation", "PageInfo", "Agreement", "ClinicalTrial", "Condition",
            "EducationActivity", "Exchange", "Facility", "Institution", "Partnership",
            "Person", "Product", "Project", "Signatory", "TrialIntervention", "TrialSite",
            "SourceRecord", "FieldProvenance", "FieldClaim", "Plugin",
            # The aggregates (schema/stats.py) and their groups (schema/breakdowns.py).
            "TrialStats", "ProjectStats", "ProductStats", "PartnershipStats", "Enrollment",
            "TrialPhaseGroup", "TrialStatusGroup", "AtmpClassGroup", "DevelopmentStageGroup",
            "CollaborationAreaGroup", "ProjectStatusGroup", "PartnershipKindGroup",
            "PartnershipStatusGroup", "CountryGroup", "YearGroup", "InstitutionGroup",
            # Search shows public text only; a hit's node is screened by its own type.
            "SearchResults", "SearchHit", "SearchHitEdge", "SearchHighlight", "SearchTypeCount",
            # The change history: each event shows what its viewer may see of it (which events,
            # and which of their fields: schema/change_types.py reads these tiers).
            "Subscription", "GraphChange", "FieldChange",
        ),
        PUBLIC,
    ),
    # Sums of partnership values: admins only (PartnershipStats.value_by_currency).
    "PartnershipValueGroup": ADMIN,
    # Commercial terms: partners; confidential ones, their parties (Partnership.terms).
    "PartnershipTerms": PARTNER,
    # What ingest, quarantine and matching do is curation's business.
    "IngestRun": CURATOR,
    "IngestRunReport": CURATOR,
    "QuarantinedRecord": CURATOR,
    "MatchSuggestion": CURATOR,
    "EntityMerge": CURATOR,
    "Conflict": CURATOR,
    # Who changed what by hand: admins only.
    "AuditEntry": ADMIN,
}  # fmt: skip

# Fields whose tier is not their type's, by (GraphQL type name, Python field name).
FIELD_TIERS: dict[tuple[str, str], Tier] = {
    # Anyone may search; its hits are of the kinds the caller may list (TYPE_TIERS and the
    # lists' tiers here, read by schema/search.py), and the index holds public fields only.
    ("Query", "search"): PUBLIC,
    ("Query", "ingest_runs"): CURATOR,
    ("Query", "quarantined_records"): CURATOR,
    ("Query", "match_suggestions"): CURATOR,
    ("Query", "merges"): CURATOR,
    ("Query", "conflicts"): CURATOR,
    ("Query", "audit_log"): ADMIN,
    # Anyone may read the history and subscribe to it; events are screened one by one.
    ("Query", "changes"): PUBLIC,
    ("Subscription", "graph_changes"): PUBLIC,
    # A subscription's resolver checks its tier itself (a field extension cannot wrap a
    # stream): schema/changes.py reads this.
    ("Subscription", "ingest_runs"): CURATOR,
    # Which key made a change by hand, as the audit log says: admins.
    ("GraphChange", "actor_key_id"): ADMIN,
    ("Partnership", "terms"): PARTNER,
    # A sum of values shows something of each: only a tier that may see every one of them,
    # confidential ones included, may see it, and only admins are party to every partnership.
    ("PartnershipStats", "value_by_currency"): ADMIN,
    # Where a record was read and with which plugin version is the server's business, and its
    # content hash is shown keyed, to curators only.
    ("SourceRecord", "source_uri"): CURATOR,
    ("SourceRecord", "plugin_version"): CURATOR,
    ("SourceRecord", "content_hash"): CURATOR,
    # What every feed claims, the values that lost included.
    ("FieldProvenance", "claims"): CURATOR,
    ("Plugin", "version"): CURATOR,
    ("Plugin", "hooks"): CURATOR,
    ("Plugin", "errors"): CURATOR,
    # Curation: every mutation is a curator's or an admin's.
    **{
        ("Mutation", name): CURATOR
        for name in (
            "accept_match", "reject_match", "merge_nodes", "split_merge", "add_alias",
            "remove_alias", "discard_quarantined_record", "request_reingest",
            "edit_curated_fields", "clear_curated_fields",
        )
    },
    # Starting an ingest spends the server's (and the source's) time: admins only.
    ("Mutation", "run_ingest"): ADMIN,
}  # fmt: skip
# An aggregate counts what its list lists, so it needs its list's tier (schema/stats.py).
AGGREGATES = {
    "trial_stats": "trials",
    "project_stats": "projects",
    "product_stats": "products",
    "partnership_stats": "partnerships",
}
FIELD_TIERS |= {
    ("Query", stats): FIELD_TIERS.get(("Query", listing), PUBLIC)
    for stats, listing in AGGREGATES.items()
}


class Refused(UserError):
    """A field or operation the caller may not see or run."""

    def __init__(self, tier: Tier) -> None:
        super().__init__(refusal(tier), extensions={"code": FORBIDDEN, "tier": tier.value})


def viewer(info: Info) -> Viewer:
    return info.context.viewer


def require(info: Info, tier: Tier, parties: Collection[int] = ()) -> None:
    """Refuse unless the caller reaches `tier` (for PARTY: is one of `parties`)."""
    if not viewer(info).may(tier, parties):
        raise Refused(tier)


PROTECTED_TYPES = frozenset(name for name, tier in TYPE_TIERS.items() if tier is not PUBLIC)


def _screen(result: Any, seen_by: Viewer) -> Any:
    """`result` if the viewer may see its type; refused if not (lists: item by item)."""
    if isinstance(result, list):
        return [_screen(item, seen_by) for item in result]
    definition = getattr(type(result), "__strawberry_definition__", None)
    if definition is not None:
        tier = TYPE_TIERS.get(definition.name, PUBLIC)
        if not seen_by.may(tier):
            raise Refused(tier)
    return result


class Visibility(FieldExtension):
    """Checks a field's own tier before it resolves, and its value's type after."""

    def __init__(self, tier: Tier, *, screen: bool) -> None:
        self.tier, self.screen = tier, screen

    def _check(self, info: Info) -> Viewer:
        seen_by = viewer(info)
        if not seen_by.may(self.tier):
            raise Refused(self.tier)
        return seen_by

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        seen_by = self._check(info)
        result = next_(source, info, **kwargs)
        return _screen(result, seen_by) if self.screen else result

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        seen_by = self._check(info)
        result = await next_(source, info, **kwargs)
        return _screen(result, seen_by) if self.screen else result


def _named(type_: Any) -> Any:
    while isinstance(type_, StrawberryOptional | StrawberryList):
        type_ = type_.of_type
    return type_


def _may_hold_protected(field: StrawberryField) -> bool:
    """Whether the field's value may be of a protected type: one itself, or an interface."""
    try:
        named = _named(field.type)
    except Exception:  # an unresolved forward reference: check at run time, to be safe
        return True
    definition = getattr(named, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryObjectDefinition):
        return False
    return definition.is_interface or definition.name in PROTECTED_TYPES


def definitions(roots: Collection[type[Any]]) -> Iterator[StrawberryObjectDefinition]:
    """Every object type and interface reachable from `roots`, each generic connection and
    edge once per node type (they share their definition's name until the schema names them)."""
    seen: set[int] = set()
    todo = [root.__strawberry_definition__ for root in roots]
    while todo:
        definition = todo.pop()
        if id(definition) in seen:
            continue
        seen.add(id(definition))
        yield definition
        for field in definition.fields:
            try:
                named = _named(field.type)
            except Exception:  # an unresolved forward reference
                continue
            for candidate in (named, *getattr(named, "types", ())):
                inner = getattr(candidate, "__strawberry_definition__", None)
                if isinstance(inner, StrawberryObjectDefinition):
                    todo.append(inner)


def protect(definitions: Iterable[Any]) -> list[str]:
    """Put the visibility check on every field of these type definitions that needs one (a
    schema built afterwards carries them); return the types TYPE_TIERS misses."""
    missing = []
    for definition in definitions:
        if not isinstance(definition, StrawberryObjectDefinition) or definition.is_input:
            continue
        listed = definition.name in TYPE_TIERS or definition.is_interface
        if not (listed or definition.name.endswith(("Connection", "Edge", "Page"))):
            missing.append(definition.name)
            continue
        if definition.name == "Subscription":
            continue  # each checks its own tier as it starts (schema/changes.py)
        # A protected type's own fields need no check: it is refused where it is returned.
        for field in definition.fields:
            tier = FIELD_TIERS.get((definition.name, field.python_name), PUBLIC)
            screen = _may_hold_protected(field)
            if (tier is PUBLIC and not screen) or any(
                isinstance(e, Visibility) for e in field.extensions
            ):
                continue
            field.extensions.append(Visibility(tier, screen=screen))
    return missing


class OperationGate(SchemaExtension):
    """Refuse, before it runs, a mutation whose fields the caller may not all call: HTTP 403."""

    # Synchronous, so that the schema's execute_sync runs it too.
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        operation = _operation(context.graphql_document, context.operation_name)
        if operation is not None and operation.operation is OperationType.MUTATION:
            seen_by: Viewer = context.context.viewer
            for name in _root_fields(operation.selection_set, _fragments(context.graphql_document)):
                if name.startswith("__"):
                    continue
                tier = FIELD_TIERS.get(("Mutation", to_snake_case(name)), CURATOR)
                if not seen_by.may(tier):
                    context.result = ExecutionResult(data=None, errors=[Refused(tier)])
                    response = getattr(context.context, "response", None)
                    if response is not None:
                        response.status_code = 403
                    break
        yield


def _fragments(document: Any) -> dict[str, FragmentDefinitionNode]:
    definitions = [] if document is None else document.definitions
    return {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}


def _root_fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    spread: frozenset[str] = frozenset(),
) -> Iterator[str]:
    """The names of the fields an operation runs, those in its fragments too: a fragment,
    spread or inline, would otherwise carry a mutation past the gate without its name."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, spread)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in spread or name not in fragments:
                yield ""  # validation refuses these; should one get here, it is a curator's
                continue
            yield from _root_fields(fragments[name].selection_set, fragments, spread | {name})


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for operation in operations:
        if name is None or (operation.name and operation.name.value == name):
            return operation
    return None
