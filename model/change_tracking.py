"""What a transaction changed, gathered as it goes and written to the outbox as it commits.

Changes come in two ways.  ORM writes are seen by session events: a node added (CREATED), a
node about to be flushed with new values (its stored row is read first, so the old values are
known), a quarantined record, a merge, an ingest run started, counting or finished.  Core
statements that go around the ORM (bulk inserts, the values chosen from claims, retirement,
merges' fills) say so themselves with `created`, `capture` and `retired`.

Changes are kept per transaction: a savepoint that rolls back takes its changes with it, one
that is released hands them to the one around it.  As the outermost transaction commits, the
changes become events (model/change_events.py).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from atmp_graph.enums import IngestRunStatus
from atmp_graph.model import kinds
from atmp_graph.model.base import Base
from atmp_graph.model.change_values import TRACKED, Node, read_values
from atmp_graph.model.identity import EntityMerge
from atmp_graph.model.provenance import IngestRun, QuarantinedRecord

__all__ = ["Changes", "capture", "created", "retired", "set_origin"]

_LAYERS = "atmp_graph.changes"
_ORIGIN = "atmp_graph.change_origin"
_COMMITTED = "atmp_graph.changes_committed"

# What the run's report counts: a change of one of them while it runs is progress.
RUN_COUNTS = ("read", "created", "updated", "unchanged", "quarantined", "deleted", "retired")


@dataclass
class Changes:
    """What one transaction (or savepoint) changed so far."""

    created: dict[Node, None] = field(default_factory=dict)
    # The values each node had before the transaction touched it, by field.
    old: dict[Node, dict[str, Any]] = field(default_factory=dict)
    retired: dict[Node, None] = field(default_factory=dict)
    merged: dict[Node, int] = field(default_factory=dict)  # merged node -> survivor id
    quarantined: dict[int, QuarantinedRecord] = field(default_factory=dict)
    runs_queued: dict[int, IngestRun] = field(default_factory=dict)
    runs_started: dict[int, IngestRun] = field(default_factory=dict)
    runs_changed: dict[int, IngestRun] = field(default_factory=dict)

    def absorb(self, inner: "Changes") -> None:
        """Take over what a released savepoint changed; what was known first stays first."""
        self.created |= inner.created
        for node, values in inner.old.items():
            self.old.setdefault(node, values)
        self.retired |= inner.retired
        self.merged |= inner.merged
        self.quarantined |= inner.quarantined
        self.runs_queued |= inner.runs_queued
        self.runs_started |= inner.runs_started
        self.runs_changed |= inner.runs_changed

    def knows(self, node: Node) -> bool:
        return node in self.created or node in self.old

    def __bool__(self) -> bool:
        return any(getattr(self, kept.name) for kept in fields(self))


def _layers(session: Session) -> dict[SessionTransaction, Changes]:
    layers: dict[SessionTransaction, Changes] = session.info.setdefault(_LAYERS, {})
    return layers


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _current(session: Session) -> Changes:
    transaction = _innermost(session)
    if transaction is None:  # no transaction: nothing can be written, nothing to remember
        return Changes()
    return _layers(session).setdefault(transaction, Changes())


def _chain(session: Session) -> Iterator[Changes]:
    layers, transaction = _layers(session), _innermost(session)
    while transaction is not None:
        if transaction in layers:
            yield layers[transaction]
        transaction = transaction.parent


def _known(session: Session, node: Node) -> bool:
    return any(layer.knows(node) for layer in _chain(session))


def set_origin(
    session: Session,
    *,
    run_id: int | None = None,
    feed: str | None = None,
    actor_key_id: int | None = None,
) -> None:
    """Who makes this session's changes: an ingest run of a feed, or a curator's key."""
    session.info[_ORIGIN] = {"run_id": run_id, "feed": feed, "actor_key_id": actor_key_id}


def origin_of(session: Session) -> dict[str, Any]:
    return dict(session.info.get(_ORIGIN) or {})


def created(session: Session, entity_type: str, ids: Sequence[int]) -> None:
    """Nodes a Core statement inserted."""
    if entity_type in TRACKED:
        _current(session).created |= dict.fromkeys((entity_type, i) for i in ids)


def retired(session: Session, entity_type: str, ids: Sequence[int]) -> None:
    """Nodes a Core statement retired."""
    if entity_type in TRACKED:
        _current(session).retired |= dict.fromkeys((entity_type, i) for i in ids)


def capture(session: Session, model: type[Base], ids: Sequence[int]) -> None:
    """Remember these nodes' stored values before a Core statement changes them (those this
    transaction made or already remembers are left alone)."""
    entity_type = kinds.entity_type_of(model)
    if entity_type not in TRACKED:
        return
    wanted = sorted({i for i in ids if not _known(session, (entity_type, i))})
    if wanted:
        stored = read_values(session, entity_type, wanted)
        layer = _current(session)
        for node_id, values in stored.items():
            layer.old[(entity_type, node_id)] = values


def _tracked(instance: object) -> str | None:
    entity_type = getattr(type(instance), "__tablename__", None)
    return entity_type if entity_type in TRACKED else None


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # The rows are still as they were: read those about to change before they do.
    by_type: dict[type[Base], list[int]] = {}
    for instance in session.dirty:
        node_id = getattr(instance, "id", None)
        if _tracked(instance) and node_id is not None and session.is_modified(instance):
            by_type.setdefault(type(instance), []).append(node_id)
    for model, ids in by_type.items():
        capture(session, model, ids)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    layer: Changes | None = None
    for instance in session.new:
        entity_type = _tracked(instance)
        if entity_type is None and not isinstance(
            instance, IngestRun | QuarantinedRecord | EntityMerge
        ):
            continue
        layer = layer or _current(session)
        if entity_type is not None:
            layer.created[(entity_type, instance.id)] = None
        elif isinstance(instance, IngestRun):
            # A run asked for (runIngest, a schedule) waits QUEUED for a worker (jobs/).
            waiting = instance.status is IngestRunStatus.QUEUED
            (layer.runs_queued if waiting else layer.runs_started)[instance.id] = instance
        elif isinstance(instance, QuarantinedRecord):
            layer.quarantined[instance.id] = instance
        elif isinstance(instance, EntityMerge):
            layer.merged[(instance.entity_type, instance.merged_id)] = instance.survivor_id
    for instance in session.dirty:
        if isinstance(instance, IngestRun) and _run_moved(instance):
            layer = layer or _current(session)
            if _taken_by_a_worker(instance):
                layer.runs_started[instance.id] = instance
            else:
                layer.runs_changed[instance.id] = instance


def _taken_by_a_worker(run: IngestRun) -> bool:
    """A queued run a worker has just started: its status went from QUEUED to RUNNING."""
    history = inspect(run).attrs["status"].history
    return bool(history.deleted) and run.status is IngestRunStatus.RUNNING


def _run_moved(run: IngestRun) -> bool:
    state = inspect(run)
    return any(state.attrs[name].history.has_changes() for name in ("status", *RUN_COUNTS))


def take_changes(session: Session) -> Changes | None:
    """The committing transaction's changes, handed over once (the commit writes them)."""
    root = session.get_transaction()
    return _layers(session).pop(root, None) if root is not None else None


def remember_committed(session: Session, sequence: int) -> None:
    session.info[_COMMITTED] = sequence


def committed_sequence(session: Session) -> int | None:
    """The highest sequence the transaction that just committed appended, once."""
    sequence: int | None = session.info.pop(_COMMITTED, None)
    return sequence


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    # Still the transaction rolling back (a savepoint, or the outermost): its changes go.
    transaction = _innermost(session)
    if transaction is not None:
        _layers(session).pop(transaction, None)
    if transaction is None or transaction.parent is None:
        session.info.pop(_LAYERS, None)
        session.info.pop(_COMMITTED, None)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    layers = _layers(session)
    inner = layers.pop(transaction, None)
    if inner is not None and transaction.parent is not None:
        layers.setdefault(transaction.parent, Changes()).absorb(inner)
