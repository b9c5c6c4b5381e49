"""A node made from a name lists the records that name it among the records that built it.

Institutions named as a sponsor, collaborator, partner, party, owner, lead or manufacturer,
people named as signatories, and conditions named by trials, products and projects are made
from the name the first time a record gives it (and found by it afterwards).  Every record
that names one is linked to it in `entity_source`, as the records that describe it are, so its
`sources` are every record it came from, whichever feed named it first.

A record is not linked to a node of its own kind that it names (an institution's parent): its
link of its own kind says which node it describes.  Trial sites do not count: they are the
trial's own rows, placed at an institution found by name, never making one.

Retirement follows: a node only retired records name is retired with them (ingest/retirement.py
retires what no live record builds), and a record that names it again brings it back.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from atmp_graph.identity.lookup_cache import LookupCache
from atmp_graph.model import Base, EntitySource, SourceRecord, kinds
from atmp_graph.plugins.records import TrialRecord

NAMED_KINDS = frozenset({"institution", "person", "condition"})

Pair = tuple[str, int]  # entity type, id


@dataclass
class Named:
    """The nodes one record's references named while it was written."""

    nodes: list[Base] = field(default_factory=list)  # ids come with the next flush
    condition_ids: list[int] = field(default_factory=list)

    def clear(self) -> None:
        self.nodes.clear()
        self.condition_ids.clear()

    def pairs(self) -> set[Pair]:
        return {(kinds.entity_type_of(type(node)), node.id) for node in self.nodes} | {  # type: ignore[attr-defined]
            ("condition", condition_id) for condition_id in self.condition_ids
        }


def relink(session: Session, record: SourceRecord, own_kind: str, named: Named) -> None:
    """Link `record` to exactly the nodes it names now: a node it no longer names loses it."""
    session.flush()
    managed = NAMED_KINDS - {own_kind}
    wanted = {pair for pair in named.pairs() if pair[0] in managed}
    linked = {
        (row.entity_type, row.entity_id)
        for row in session.execute(
            select(EntitySource.entity_type, EntitySource.entity_id).where(
                EntitySource.source_record_id == record.id,
                EntitySource.entity_type.in_(managed),
            )
        )
    }
    for entity_type, entity_id in linked - wanted:
        session.execute(
            delete(EntitySource).where(
                EntitySource.source_record_id == record.id,
                EntitySource.entity_type == entity_type,
                EntitySource.entity_id == entity_id,
            )
        )
    _insert(session, [(record.id, pair) for pair in sorted(wanted - linked)])
    _restore(session, wanted)


def trial_names(
    record: TrialRecord, cache: LookupCache, conditions: Callable[[list[str]], list[int]]
) -> set[Pair]:
    """The sponsor, collaborators and conditions a trial record the bulk writer stored names:
    the run's lookup cache knows them all by now (the bulk writer just found or wrote them)."""
    refs = [ref for ref in (record.sponsor, *record.collaborators) if ref is not None]
    ids = [cache.institution_id(ref.model_dump(exclude_none=True)) for ref in refs]
    pairs = {("institution", i) for i in ids if i is not None}
    return pairs | {
        ("condition", _condition_id(cache, name, conditions)) for name in record.conditions
    }


def link_in_bulk(
    session: Session, *, feed: str, entity_type: str, names: Mapping[str, set[Pair]]
) -> None:
    """Link records the bulk writers stored (new source records of `entity_type`, by source
    id) to the nodes each names."""
    if not names:
        return
    sources = dict(
        session.execute(
            select(SourceRecord.source_id, SourceRecord.id).where(
                SourceRecord.feed == feed,
                SourceRecord.entity_type == entity_type,
                SourceRecord.source_id.in_(list(names)),
            )
        ).all()
    )
    rows = [
        (sources[source_id], pair) for source_id, pairs in names.items() for pair in sorted(pairs)
    ]
    _insert(session, rows)
    _restore(session, {pair for _, pair in rows})


def _condition_id(
    cache: LookupCache, name: str, conditions: Callable[[list[str]], list[int]]
) -> int:
    known = cache.condition_id(name)
    return known if known is not None else cache.remember_condition(name, conditions([name])[0])


def _restore(session: Session, pairs: set[Pair]) -> None:
    """A node retired when the records that named it went is back once one names it again
    (as retirement.restore brings back what a record sent again builds)."""
    by_kind: dict[str, list[int]] = {}
    for entity_type, entity_id in pairs:
        by_kind.setdefault(entity_type, []).append(entity_id)
    for entity_type, ids in sorted(by_kind.items()):
        table = kinds.table_of(kinds.model_for(entity_type))
        if "retired_at" in table.c:
            session.execute(
                update(table)
                .where(table.c.id.in_(sorted(ids)), table.c.retired_at.is_not(None))
                .values(retired_at=None, retired_by_run_id=None)
            )


def _insert(session: Session, rows: Iterable[tuple[int, Pair]]) -> None:
    values = [
        {"source_record_id": source_id, "entity_type": entity_type, "entity_id": entity_id}
        for source_id, (entity_type, entity_id) in rows
    ]
    if values:
        session.execute(insert(EntitySource), values)
