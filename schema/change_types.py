"""The change history's events as GraphQL types, each showing what its viewer may see.

Who sees an event is the tier of what it is about (schema/visibility.py): a node's change its
type's tier, each changed field its field's tier (a partnership's confidential terms: its
parties and admins), a quarantined record or an ingest run curators and admins; the key
behind a curator's change, admins.  Changed fields are named as the API names them: a column
the API does not show is left out, a reference (`sponsor_id`) is the global id of what it names.
"""

import datetime as dt
import enum
import functools
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case

import atmp_graph.model as m
from atmp_graph.access.viewer import Tier, Viewer
from atmp_graph.enums import ChangeKind, IngestRunStatus
from atmp_graph.model import kinds
from atmp_graph.model.change_values import TERMS, TRACKED
from atmp_graph.model.outbox import NODE_KINDS, RUN_KINDS
from atmp_graph.schema.context import Info
from atmp_graph.schema.mapping import MappedNode, entity, global_id, node_type_of
from atmp_graph.schema.visibility import FIELD_TIERS, TYPE_TIERS

EntityRef = Annotated[MappedNode, strawberry.lazy("atmp_graph.schema.mapping")]


@strawberry.enum(description="A kind of node of the graph, as the change history names it.")
class EntityType(enum.Enum):
    AGREEMENT = strawberry.enum_value("agreement", description="Agreements.")
    CLINICAL_TRIAL = strawberry.enum_value("clinical_trial", description="Clinical trials.")
    CONDITION = strawberry.enum_value("condition", description="Conditions.")
    EDUCATION_ACTIVITY = strawberry.enum_value(
        "education_activity", description="Education activities."
    )
    EXCHANGE = strawberry.enum_value("exchange", description="Researcher exchanges.")
    FACILITY = strawberry.enum_value("facility", description="Facilities.")
    INSTITUTION = strawberry.enum_value("institution", description="Institutions.")
    PARTNERSHIP = strawberry.enum_value("partnership", description="Partnerships.")
    PERSON = strawberry.enum_value("person", description="People.")
    PRODUCT = strawberry.enum_value("product", description="Products.")
    PROJECT = strawberry.enum_value("project", description="Projects.")


@strawberry.type(description="One field of a node that changed, as it was and as it became.")
class FieldChange:
    field: str = strawberry.field(description="The field, as the node's type names it.")
    old: JSON | None = strawberry.field(description="Its value before (references: global ids).")
    new: JSON | None = strawberry.field(description="Its value after.")


@strawberry.type(description="An ingest run's report, as an event carries it.")
class IngestRunReport:
    status: IngestRunStatus = strawberry.field(description="Running, succeeded or failed.")
    read: int = strawberry.field(description="Records read.")
    created: int = strawberry.field(description="Records stored as new nodes.")
    updated: int = strawberry.field(description="Records that changed what was stored.")
    unchanged: int = strawberry.field(description="Records stored before, unchanged.")
    quarantined: int = strawberry.field(description="Records quarantined.")
    deleted: int = strawberry.field(description="Deletions the feed sent.")
    retired: int = strawberry.field(description="Records a complete read left out.")


@strawberry.type(
    description="One event of the change history: a node created, updated, merged or retired, "
    "a record quarantined, or an ingest run's start, progress or end. Events are numbered in "
    "the order they were committed; one per node per ingest batch (or curation operation)."
)
class GraphChange:
    sequence: int = strawberry.field(
        description="Its number: increasing, in commit order. Pass the last one you saw as "
        "`after` to resume."
    )
    at: dt.datetime = strawberry.field(description="When it was committed.")
    kind: ChangeKind = strawberry.field(description="What happened.")
    entity_type: EntityType | None = strawberry.field(
        description="The kind of node (for QUARANTINED, of the record; null for runs)."
    )
    node_id: relay.GlobalID | None = strawberry.field(
        description="The node's global id (a merged node's id finds its survivor)."
    )
    feed: str | None = strawberry.field(description="The feed whose run made it (null: by hand).")
    run_id: int | None = strawberry.field(description="The ingest run's number (null: by hand).")
    institution_id: relay.GlobalID | None = strawberry.field(
        description="The institution the node belongs to (a trial's sponsor, a product's "
        "originator, a project's lead, a partnership's company, a facility's owner)."
    )
    changes: list[FieldChange] = strawberry.field(
        description="UPDATED: the fields that changed, each with its old and new value (only "
        "those you may see)."
    )
    merged_into: relay.GlobalID | None = strawberry.field(description="MERGED: the survivor.")
    report: IngestRunReport | None = strawberry.field(
        description="RUN_QUEUED, RUN_STARTED, RUN_PROGRESS, RUN_FINISHED: the run's report so far."
    )
    source_id: str | None = strawberry.field(
        description="QUARANTINED: the record's id in its feed."
    )
    reason: str | None = strawberry.field(description="QUARANTINED: why it was not stored.")
    actor_key_id: int | None = strawberry.field(
        description="A change made by hand: the number of the API key that made it (admins)."
    )
    entity_type_name: strawberry.Private[str | None]
    number: strawberry.Private[int | None]

    @strawberry.field(description="The node as it is now (null: not there, or not for you).")
    async def node(self, info: Info) -> EntityRef | None:
        if self.number is None or self.entity_type_name not in TRACKED:
            return None
        return await entity(info, self.entity_type_name, self.number)  # type: ignore[no-any-return]


def type_name(entity_type: str) -> str:
    return str(node_type_of(kinds.model_for(entity_type)).__name__)


def may_see_kinds(viewer: Viewer) -> tuple[set[str], bool, bool]:
    """The node kinds whose events the viewer may see; quarantine events; run events."""
    types = {t for t in TRACKED if viewer.may(TYPE_TIERS.get(type_name(t), Tier.PUBLIC))}
    quarantine = viewer.may(TYPE_TIERS["QuarantinedRecord"])
    runs = viewer.may(TYPE_TIERS["IngestRun"])
    return types, quarantine, runs


Shown = tuple[str, Tier, Callable[[Any], Any]]


@functools.cache
def _shown_fields(entity_type: str) -> dict[str, Shown]:
    """Column -> (API field name, tier, how a value shows) for the columns the API shows."""
    model = kinds.model_for(entity_type)
    node_type = node_type_of(model)
    name = node_type.__name__
    fields = {f.python_name for f in node_type.__strawberry_definition__.fields}
    shown: dict[str, Shown] = {}
    for column in kinds.table_of(model).c:
        if column.name in fields:
            tier = FIELD_TIERS.get((name, column.name), Tier.PUBLIC)
            shown[column.name] = (to_camel_case(column.name), tier, _same)
        elif column.name.endswith("_id") and column.name[:-3] in fields and column.foreign_keys:
            target = next(iter(column.foreign_keys)).column.table.name
            tier = FIELD_TIERS.get((name, column.name[:-3]), Tier.PUBLIC)
            shown[column.name] = (to_camel_case(column.name[:-3]), tier, _ids_of(target))
    if TERMS in fields:
        shown[TERMS] = (TERMS, FIELD_TIERS.get((name, TERMS), Tier.PARTNER), _same)
    return shown


def _same(value: Any) -> Any:
    return value


def _ids_of(entity_type: str) -> Callable[[Any], Any]:
    def shown(value: Any) -> Any:
        return None if value is None else str(global_id(entity_type, value))

    return shown


def _visible_changes(
    entity_type: str, payload: dict[str, Any], viewer: Viewer
) -> list[FieldChange]:
    shown = _shown_fields(entity_type)
    parties = payload.get("parties") or ()
    visible = []
    for change in payload.get("changes") or ():
        column = change["field"]
        if column not in shown:
            continue
        name, tier, show = shown[column]
        if not viewer.may(tier):
            continue
        if column == TERMS and parties and not viewer.may(Tier.PARTY, parties):
            continue  # confidential terms: the parties' business
        visible.append(FieldChange(field=name, old=show(change["old"]), new=show(change["new"])))
    return visible


def _node_id(entity_type: str | None, number: int | None) -> relay.GlobalID | None:
    if entity_type is None or number is None:
        return None
    if entity_type == "ingest_run":
        return relay.GlobalID("IngestRun", str(number))
    return global_id(entity_type, number) if entity_type in TRACKED else None


def graph_change(event: m.ChangeEvent, viewer: Viewer) -> GraphChange | None:
    """The event as `viewer` may see it; None if they may not see it at all."""
    payload: dict[str, Any] = event.payload or {}
    types, quarantine, runs = may_see_kinds(viewer)
    if event.kind in NODE_KINDS and event.entity_type not in types:
        return None
    if (event.kind is ChangeKind.QUARANTINED and not quarantine) or (
        event.kind in RUN_KINDS and not runs
    ):
        return None
    entity_type = event.entity_type
    report = payload.get("report") if event.kind in RUN_KINDS else None
    into = payload.get("into")
    return GraphChange(
        sequence=event.sequence,
        at=event.at if event.at.tzinfo else event.at.replace(tzinfo=dt.UTC),
        kind=event.kind,
        entity_type=_entity_type(entity_type),
        node_id=None
        if event.kind is ChangeKind.QUARANTINED
        else _node_id(entity_type, event.node_id),
        feed=event.feed,
        run_id=event.run_id,
        institution_id=None
        if event.institution_id is None
        else global_id("institution", event.institution_id),
        changes=_visible_changes(entity_type, payload, viewer) if entity_type in TRACKED else [],
        merged_into=None if into is None or entity_type is None else global_id(entity_type, into),
        report=None
        if report is None
        else IngestRunReport(status=IngestRunStatus(payload["status"]), **report),
        source_id=payload.get("sourceId") if event.kind is ChangeKind.QUARANTINED else None,
        reason=payload.get("reason") if event.kind is ChangeKind.QUARANTINED else None,
        actor_key_id=payload.get("actor") if viewer.may(Tier.ADMIN) else None,
        entity_type_name=entity_type,
        number=event.node_id,
    )


def _entity_type(entity_type: str | None) -> Any:
    if entity_type not in TRACKED:
        return None
    return EntityType(entity_type)
