"""Every operation a curator or admin runs by hand, with its audit entry written in the same
transaction: the GraphQL mutations and the command line both call these, so neither can
change the graph without a trace.

Each takes a session and the actor, does the operation (identity/review.py, merging.py,
curation.py, model/quarantine.py), and records who, what, on what, and JSON snapshots of what
it changed before and after.  The operation names are the GraphQL mutations'.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from atmp_graph.identity import curation, review
from atmp_graph.identity.claims import encode
from atmp_graph.identity.merging import merge, split
from atmp_graph.identity.precedence import Precedence
from atmp_graph.model import kinds, quarantine
from atmp_graph.model.audit import Actor, record
from atmp_graph.model.base import Base
from atmp_graph.model.identity import EntityMerge, MatchSuggestion
from atmp_graph.model.provenance import QuarantinedRecord


def accept_match(
    session: Session,
    actor: Actor,
    suggestion_id: int,
    *,
    precedence: Precedence,
    survivor_id: int | None = None,
) -> EntityMerge | None:
    suggestion = session.get(MatchSuggestion, suggestion_id)
    before = None if suggestion is None else _suggestion(suggestion)
    merged = review.accept(session, suggestion_id, precedence=precedence, survivor_id=survivor_id)
    after = {**_suggestion(session.get_one(MatchSuggestion, suggestion_id))}
    after["merge"] = None if merged is None else _merge(session, merged)
    arguments = {"id": suggestion_id, "survivor": survivor_id}
    record(
        session, actor, "acceptMatch", arguments=arguments,
        target=("match_suggestion", suggestion_id), before=before, after=after,
    )  # fmt: skip
    return merged


def reject_match(session: Session, actor: Actor, suggestion_id: int) -> MatchSuggestion:
    suggestion = session.get(MatchSuggestion, suggestion_id)
    before = None if suggestion is None else _suggestion(suggestion)
    decided = review.reject(session, suggestion_id)
    record(
        session, actor, "rejectMatch", arguments={"id": suggestion_id},
        target=("match_suggestion", suggestion_id), before=before, after=_suggestion(decided),
    )  # fmt: skip
    return decided


def merge_nodes(
    session: Session,
    actor: Actor,
    model: type[Base],
    survivor_id: int,
    merged_id: int,
    *,
    reason: str,
    precedence: Precedence,
) -> EntityMerge:
    entity_type = kinds.entity_type_of(model)
    merged = merge(session, model, survivor_id, merged_id, reason=reason, precedence=precedence)
    arguments = {"kind": entity_type, "survivor": survivor_id, "merged": merged_id}
    record(
        session, actor, "mergeNodes", arguments={**arguments, "reason": reason},
        target=(entity_type, survivor_id), before=merged.snapshot, after=_merge(session, merged),
    )  # fmt: skip
    return merged


def split_merge(
    session: Session, actor: Actor, merge_id: int, *, precedence: Precedence
) -> EntityMerge:
    existing = session.get(EntityMerge, merge_id)
    before = None if existing is None else _merge(session, existing)
    done = split(session, merge_id, precedence=precedence)
    record(
        session, actor, "splitMerge", arguments={"id": merge_id},
        target=("entity_merge", merge_id), before=before, after=_merge(session, done),
    )  # fmt: skip
    return done


def edit_alias(
    session: Session, actor: Actor, entity_type: str, node_id: int, alias: str, *, add: bool
) -> list[str]:
    aliased = review.ALIASED.get(entity_type)
    node = None if aliased is None else session.get(aliased, node_id)
    before = None if node is None else review.aliases_of(session, node)
    change = review.add_alias if add else review.remove_alias
    after = change(session, entity_type, node_id, alias)
    record(
        session, actor, "addAlias" if add else "removeAlias",
        arguments={"kind": entity_type, "node": node_id, "alias": alias},
        target=(entity_type, node_id), before={"aliases": before}, after={"aliases": after},
    )  # fmt: skip
    return after


def _changed_quarantined(
    session: Session,
    actor: Actor,
    entry_id: int,
    *,
    reason: str,
    operation: str,
    change: Callable[..., QuarantinedRecord],
) -> QuarantinedRecord:
    """Apply a quarantine operation to entry `entry_id` and record it, before and after."""
    entry = session.get(QuarantinedRecord, entry_id)
    before = None if entry is None else _quarantined(entry)
    changed = change(session, entry_id, reason=reason, by=actor.who)
    record(
        session, actor, operation, arguments={"id": entry_id, "reason": reason},
        target=("quarantined_record", entry_id), before=before, after=_quarantined(changed),
    )  # fmt: skip
    return changed


def discard_quarantined(
    session: Session, actor: Actor, entry_id: int, *, reason: str
) -> QuarantinedRecord:
    return _changed_quarantined(
        session, actor, entry_id, reason=reason, operation="discardQuarantinedRecord",
        change=quarantine.discard,
    )  # fmt: skip


def request_reingest(
    session: Session, actor: Actor, entry_id: int, *, reason: str
) -> QuarantinedRecord:
    return _changed_quarantined(
        session, actor, entry_id, reason=reason, operation="requestReingest",
        change=quarantine.request_reingest,
    )  # fmt: skip


def edit_curated(
    session: Session,
    actor: Actor,
    node: Base,
    values: Mapping[str, Any],
    *,
    reason: str,
    precedence: Precedence,
) -> None:
    _reason_given(reason)
    fields = sorted(values)
    before = curation.snapshot(session, node, fields)
    curation.edit(session, node, values, precedence=precedence)
    arguments = {"values": dict(values)}
    _curation_entry(
        session, actor, operation="editCuratedFields", node=node, arguments=arguments,
        reason=reason, before=before,
    )  # fmt: skip


def clear_curated(
    session: Session,
    actor: Actor,
    node: Base,
    fields: Sequence[str] | None,
    *,
    reason: str,
    precedence: Precedence,
) -> list[str]:
    _reason_given(reason)
    held = sorted(curation.curated_values(session, node))
    before = curation.snapshot(session, node, held if fields is None else sorted(fields))
    cleared = curation.clear(session, node, fields, precedence=precedence)
    arguments = {"fields": None if fields is None else list(fields)}
    _curation_entry(
        session, actor, operation="clearCuratedFields", node=node, arguments=arguments,
        reason=reason, before=before,
    )  # fmt: skip
    return cleared


def _reason_given(reason: str) -> None:
    if not reason.strip():
        raise curation.InvalidInput([("reason", "is empty: say why, for the audit log")])
    if "\x00" in reason:
        raise curation.InvalidInput([("reason", "holds a NUL character")])


def _curation_entry(
    session: Session,
    actor: Actor,
    *,
    operation: str,
    node: Base,
    arguments: dict[str, Any],
    reason: str,
    before: dict[str, Any],
) -> None:
    entity_type, node_id = kinds.entity_type_of(type(node)), node.id  # type: ignore[attr-defined]
    after = curation.snapshot(session, node, sorted(before["shown"]))
    record(
        session, actor, operation,
        arguments={"node": node_id, "kind": entity_type, **arguments, "reason": reason.strip()},
        target=(entity_type, node_id), before=before, after=after,
    )  # fmt: skip


def _suggestion(suggestion: MatchSuggestion) -> dict[str, Any]:
    return {
        "status": suggestion.status.value,
        "kind": suggestion.entity_type,
        "pair": [suggestion.entity_id, suggestion.other_id],
    }


def _merge(session: Session, merged: EntityMerge) -> dict[str, Any]:
    session.flush()
    return {
        "merge": merged.id,
        "kind": merged.entity_type,
        "survivor": merged.survivor_id,
        "merged": merged.merged_id,
        "split_at": encode(merged.split_at),
    }


def _quarantined(entry: QuarantinedRecord) -> dict[str, Any]:
    return {
        "status": entry.status.value,
        "discarded_by": entry.discarded_by,
        "discard_reason": entry.discard_reason,
        "reingest_requested_by": entry.reingest_requested_by,
        "reingest_reason": entry.reingest_reason,
    }
