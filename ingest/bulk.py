"""The fast path: write a batch of new trials with a handful of statements.

Registries send trials by the ten thousand; writing them one by one costs a dozen statements
each.  A trial that is new to the graph (no stored record, no registry id the graph knows, no
record waiting for it, every product it names already stored) goes in here with the others of
its batch; anything else goes the one-by-one way, which can merge, update and park links.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from atmp_graph.identity import lookup
from atmp_graph.identity.lookup_cache import LookupCache
from atmp_graph.identity.resolution import resolve_many
from atmp_graph.identity.sites import Site, site_rows
from atmp_graph.ingest import source_records
from atmp_graph.ingest.claims import TRIAL_FIELDS
from atmp_graph.ingest.context import WriteContext
from atmp_graph.model import ClinicalTrial, change_tracking, links
from atmp_graph.model.ids import allocate_ids
from atmp_graph.plugins.cursors import CursorValue
from atmp_graph.plugins.records import InstitutionRef, Record, SourceRow, TrialRecord


@dataclass
class Valid:
    """A validated record waiting in a batch."""

    row: SourceRow
    record: Record
    content_hash: str
    cursor: CursorValue | None = None  # the row's cursor, as its stream's type


def institution_id(ctx: WriteContext, cache: LookupCache, ref: InstitutionRef | None) -> int | None:
    """The institution `ref` means, written the first time the ingest meets it."""
    if ref is None:
        return None
    # JSON mode, as claims keep references: a company's `kind` is an enum.
    plain = ref.model_dump(mode="json", exclude_none=True)
    known = cache.known_institution(plain)
    if known is None:
        institution = ctx.institution(ref)
        ctx.session.flush()
        known = institution.id
        cache.remember_institution(plain, known)
    return known


def condition_ids(ctx: WriteContext, cache: LookupCache, names: Sequence[str]) -> list[int]:
    """The conditions of these names, found or made the first time the ingest meets each."""
    return [
        known
        if (known := cache.condition_id(name)) is not None
        # One at a time: two spellings may be aliases of one condition.
        else cache.remember_condition(name, ctx.conditions([name])[0])
        for name in names
    ]


def _trials(batch: Sequence[Valid]) -> Iterator[tuple[Valid, TrialRecord]]:
    for valid in batch:
        if isinstance(valid.record, TrialRecord):
            yield valid, valid.record


def _batch_facts(
    ctx: WriteContext, batch: Sequence[Valid]
) -> tuple[list[TrialRecord], dict[str, int], set[str]]:
    """The batch's trial records, the feed's products they name (by source id) and which of
    them other records of the feed wait for: one query each for the whole batch."""
    records = [record for _, record in _trials(batch)]
    products = lookup.built_entity_ids(
        ctx.session,
        feed=ctx.feed,
        entity_type="product",
        source_ids=[pid for record in records for pid in record.product_ids],
    )
    waited_for = source_records.waiting_target_ids(
        ctx.session,
        feed=ctx.feed,
        target_entity_type="clinical_trial",
        source_ids=[record.source_id for record in records],
    )
    return records, products, waited_for


def write_new_trials(
    ctx: WriteContext,
    cache: LookupCache,
    batch: Sequence[Valid],
    source_values: Callable[[Valid], dict[str, Any]],
) -> list[Valid]:
    """Insert the trials of `batch` that are new to the graph; return the ones written."""
    session = ctx.session
    records, products, waited_for = _batch_facts(ctx, batch)
    taken = set(
        lookup.trials_by_registry_id(
            session, {pair for record in records for pair in lookup.registry_ids_of(record)}
        )
    )
    chosen: list[tuple[Valid, TrialRecord]] = []
    for valid, record in _trials(batch):
        ids = lookup.registry_ids_of(record)
        if ids & taken or record.source_id in waited_for:
            continue
        if any(pid not in products for pid in record.product_ids):
            continue
        taken |= ids  # a second record with the same registry id merges, one by one
        chosen.append((valid, record))
    if not chosen:
        return []

    # Ids first, then plain executemany inserts: bulk INSERT ... RETURNING costs far more.
    tables = ClinicalTrial.metadata.tables
    trial_ids = allocate_ids(session, tables["clinical_trial"], len(chosen))
    trials = [
        {
            "id": trial_id,
            **{name: getattr(record, name) for name in TRIAL_FIELDS},
            "sponsor_id": institution_id(ctx, cache, record.sponsor),
        }
        for (_, record), trial_id in zip(chosen, trial_ids, strict=True)
    ]
    session.execute(insert(tables["clinical_trial"]), trials)
    change_tracking.created(session, "clinical_trial", trial_ids)
    insert_sources(
        session, "clinical_trial", [valid for valid, _ in chosen], trial_ids, source_values
    )
    sites = []
    for (_, record), trial_id in zip(chosen, trial_ids, strict=True):
        sites += site_rows(
            trial_id,
            [
                (Site(site.name, site.city, site.country), cache.place(site.name))
                for site in record.sites
            ],
        )
    if sites:
        session.execute(insert(tables["trial_site"]), sites)
    new_links = _links(ctx, cache, [record for _, record in chosen], trial_ids, products)
    for relation, pairs in new_links.items():
        links.insert_links(session, ClinicalTrial, relation, pairs)
    return [valid for valid, _ in chosen]


def write_matched_trials(
    ctx: WriteContext,
    cache: LookupCache,
    batch: Sequence[Valid],
    source_values: Callable[[Valid], dict[str, Any]],
) -> list[Valid]:
    """Add the records of `batch` that describe a trial other feeds already gave (matched on a
    registry id) to that trial, and choose its values again; return the ones written.

    A record that matches two trials, or a trial this feed already describes, or one that
    another record of the batch matches too, is left to the one-by-one way.
    """
    session = ctx.session
    records, products, waited_for = _batch_facts(ctx, batch)
    known = lookup.trials_by_registry_id(
        session, {pair for record in records for pair in lookup.registry_ids_of(record)}
    )
    feeds = lookup.feeds_of(session, "clinical_trial", set(known.values()))
    chosen: dict[int, tuple[Valid, TrialRecord]] = {}
    for valid, record in _trials(batch):
        if record.source_id in waited_for:
            continue
        targets = {known[pair] for pair in lookup.registry_ids_of(record) if pair in known}
        if len(targets) != 1 or any(pid not in products for pid in record.product_ids):
            continue
        (trial_id,) = targets
        if trial_id in chosen or ctx.feed in feeds.get(trial_id, {ctx.feed}):
            continue
        chosen[trial_id] = (valid, record)
    if not chosen:
        return []
    trial_ids = list(chosen)
    written = [valid for valid, _ in chosen.values()]
    records = [record for _, record in chosen.values()]
    insert_sources(session, "clinical_trial", written, trial_ids, source_values)
    # What the claims name must exist before the trials' values and links are chosen.
    for record in records:
        institution_id(ctx, cache, record.sponsor)
        condition_ids(ctx, cache, record.conditions)
        for ref in record.collaborators:
            institution_id(ctx, cache, ref)
    # A trial its other feeds no longer sent comes back with this feed's record.
    change_tracking.capture(session, ClinicalTrial, trial_ids)
    session.execute(
        update(ClinicalTrial)
        .where(ClinicalTrial.id.in_(trial_ids), ClinicalTrial.retired_at.is_not(None))
        .values(retired_at=None, retired_by_run_id=None),
        execution_options={"synchronize_session": False},
    )
    # Values, sites and links, from the claims of all the trials' records.
    resolve_many(session, ClinicalTrial, trial_ids, ctx.precedence, cache=cache)
    return written


def insert_sources(
    session: Session,
    entity_type: str,
    written: Sequence[Valid],
    entity_ids: Sequence[int],
    source_values: Callable[[Valid], dict[str, Any]],
) -> None:
    """The source records of `written` and their links to the nodes they describe."""
    tables = ClinicalTrial.metadata.tables
    source_ids = allocate_ids(session, tables["source_record"], len(written))
    session.execute(
        insert(tables["source_record"]),
        [
            {"id": source_id, **source_values(valid)}
            for valid, source_id in zip(written, source_ids, strict=True)
        ],
    )
    session.execute(
        insert(tables["entity_source"]),
        [
            {"source_record_id": source_id, "entity_type": entity_type, "entity_id": entity}
            for source_id, entity in zip(source_ids, entity_ids, strict=True)
        ],
    )


def _links(
    ctx: WriteContext,
    cache: LookupCache,
    records: Sequence[TrialRecord],
    trial_ids: Sequence[int],
    products: dict[str, int],
) -> dict[str, list[tuple[int, int]]]:
    """The (trial, target) pairs of each many-to-many relation the records name."""
    pairs: dict[str, list[tuple[int, int]]] = {
        "conditions": [],
        "products": [],
        "collaborators": [],
    }
    for record, trial_id in zip(records, trial_ids, strict=True):
        pairs["conditions"] += [(trial_id, c) for c in condition_ids(ctx, cache, record.conditions)]
        pairs["products"] += [(trial_id, products[pid]) for pid in record.product_ids]
        pairs["collaborators"] += [
            (trial_id, i)
            for ref in record.collaborators
            if (i := institution_id(ctx, cache, ref)) is not None
        ]
    return pairs
