"""A committing transaction's changes as outbox events: one per node, however often it changed.

A node made and changed in one transaction is CREATED; made and merged away, nothing (nobody
saw it); merged away, MERGED (into its survivor); retired, RETIRED; otherwise UPDATED, if any
of its fields now differs from what it was (each field with its old and new value), and no
event if none does.  A run's start comes first, its progress or end last.

They are appended to the outbox as the outermost transaction commits, in that transaction;
once it has committed, every listener (`add_commit_listener`) hears the highest sequence.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from atmp_graph.enums import ChangeKind, IngestRunStatus
from atmp_graph.model import links
from atmp_graph.model.change_tracking import (
    RUN_COUNTS,
    Changes,
    committed_sequence,
    origin_of,
    remember_committed,
    take_changes,
)
from atmp_graph.model.change_values import TERMS, Node, institution_of, read_values
from atmp_graph.model.outbox import append_events
from atmp_graph.model.partnerships import Partnership
from atmp_graph.model.provenance import IngestRun

__all__ = ["add_commit_listener", "events_of", "remove_commit_listener"]

logger = logging.getLogger(__name__)
_LISTENERS: list[Callable[[int], None]] = []


def add_commit_listener(listener: Callable[[int], None]) -> None:
    """Call `listener` with the highest sequence each commit that wrote events appended
    (in the committing thread, right after the commit)."""
    _LISTENERS.append(listener)


def remove_commit_listener(listener: Callable[[int], None]) -> None:
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the transaction around it takes its changes
    # The commit flushes what is pending after this hook: flush first, to see it all.
    session.flush()
    changes = take_changes(session)
    if changes:
        sequence = append_events(session, events_of(session, changes, origin_of(session)))
        if sequence is not None:
            remember_committed(session, sequence)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    sequence = committed_sequence(session)
    if sequence is not None:
        for listener in list(_LISTENERS):
            try:
                listener(sequence)
            except Exception:  # a listener's trouble must not undo a commit that happened
                logger.exception("a listener of committed changes failed")


def events_of(session: Session, changes: Changes, origin: dict[str, Any]) -> list[dict[str, Any]]:
    """The outbox rows (without their sequence) of these changes."""
    base = {"run_id": origin.get("run_id"), "feed": origin.get("feed")}
    actor = origin.get("actor_key_id")
    now = _current_values(session, changes)
    events = [_run_event(ChangeKind.RUN_QUEUED, run) for run in changes.runs_queued.values()]
    events += [_run_event(ChangeKind.RUN_STARTED, run) for run in changes.runs_started.values()]
    for node, kind, said in _node_changes(session, changes, now):
        entity_type, node_id = node
        values = now.get(node) or changes.old.get(node)
        payload = said if actor is None else {**(said or {}), "actor": actor}
        events.append(
            {
                **base,
                "kind": kind,
                "entity_type": entity_type,
                "node_id": node_id,
                "institution_id": institution_of(entity_type, values, node_id),
                "payload": payload,
            }
        )
    events += [
        {
            "run_id": record.run_id,
            "feed": record.feed,
            "kind": ChangeKind.QUARANTINED,
            "entity_type": record.entity_type,
            "payload": {
                "sourceId": record.source_id,
                "file": record.file,
                "row": record.row,
                "reason": record.reason,
            },
        }
        for _, record in sorted(changes.quarantined.items())
    ]
    for run in changes.runs_changed.values():
        if run.status is IngestRunStatus.QUEUED:
            continue  # still waiting (behind another run, say): nothing happened to it yet
        ended = run.status is not IngestRunStatus.RUNNING
        events.append(
            _run_event(ChangeKind.RUN_FINISHED if ended else ChangeKind.RUN_PROGRESS, run)
        )
    return events


def _current_values(session: Session, changes: Changes) -> dict[Node, dict[str, Any]]:
    wanted: dict[str, list[int]] = defaultdict(list)
    for entity_type, node_id in {*changes.created, *changes.old, *changes.retired}:
        if (entity_type, node_id) not in changes.merged:
            wanted[entity_type].append(node_id)
    return {
        (entity_type, node_id): values
        for entity_type, ids in sorted(wanted.items())
        for node_id, values in read_values(session, entity_type, sorted(ids)).items()
    }


def _node_changes(
    session: Session, changes: Changes, now: dict[Node, dict[str, Any]]
) -> Iterable[tuple[Node, ChangeKind, dict[str, Any] | None]]:
    for node in changes.created:
        if node not in changes.merged and node in now:
            yield node, ChangeKind.CREATED, None
    for node, survivor in changes.merged.items():
        if node not in changes.created:
            yield node, ChangeKind.MERGED, {"into": survivor}
    for node in changes.retired:
        if node not in changes.created and node not in changes.merged:
            yield node, ChangeKind.RETIRED, None
    for node, old in changes.old.items():
        if node in changes.created or node in changes.merged or node in changes.retired:
            continue
        new = now.get(node)
        if new is None:
            continue  # deleted by a statement that said nothing of it
        fields = [
            {"field": name, "old": old.get(name), "new": value}
            for name, value in new.items()
            if old.get(name) != value
        ]
        if fields:
            yield node, ChangeKind.UPDATED, _with_parties(session, node, fields, old, new)


def _with_parties(
    session: Session,
    node: Node,
    fields: list[dict[str, Any]],
    old: dict[str, Any],
    new: dict[str, Any],
) -> dict[str, Any]:
    """The changes; for confidential terms, also who the parties are (who may see them)."""
    payload: dict[str, Any] = {"changes": fields}
    entity_type, node_id = node
    confidential = any(
        (terms or {}).get("confidential") for terms in (old.get(TERMS), new.get(TERMS))
    )
    if entity_type == "partnership" and confidential:
        academic = [
            t for _, t in links.linked_pairs(session, Partnership, "institutions", [node_id])
        ]
        partner = new.get("partner_id")
        payload["parties"] = sorted({*academic, *([partner] if partner is not None else [])})
    return payload


def _run_event(kind: ChangeKind, run: IngestRun) -> dict[str, Any]:
    report = {name: getattr(run, name) for name in RUN_COUNTS}
    return {
        "run_id": run.id,
        "feed": run.feed,
        "kind": kind,
        "entity_type": "ingest_run",
        "node_id": run.id,
        "payload": {"status": run.status.value, "report": report},
    }
