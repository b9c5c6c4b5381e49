"""The fast path for products: write a batch of new products with a handful of statements.

A registry study brings its products with it, and the Lund/Skåne export lists them by the
thousand; one by one, each costs a dozen statements and a flush.  A product that is new to the
graph (no stored record of its feed, no record waiting for it) goes in here with the others of
its batch, its values straight from its record (it is its only claim); a product with a stored
record goes the one-by-one way, which updates and chooses values from all its records' claims.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from atmp_graph.identity import lookup
from atmp_graph.identity.lookup_cache import LookupCache
from atmp_graph.ingest import named, source_records
from atmp_graph.ingest.bulk import Valid, condition_ids, insert_sources, institution_id
from atmp_graph.ingest.context import WriteContext
from atmp_graph.model import Product, change_tracking, links
from atmp_graph.model.ids import allocate_ids
from atmp_graph.normalize import fold_name
from atmp_graph.plugins.records import InstitutionRef, ProductRecord

PRODUCTS = Product.metadata.tables["product"]


def _facilities(session: Session, sites: set[str]) -> dict[str, tuple[int, int | None]]:
    """The facility each manufacturing site names (its id and owner), where one does."""
    found = {}
    for site in sorted(sites):
        facility = lookup.find_facility(session, folded_names=[fold_name(site)])
        if facility is not None:
            found[site] = (facility.id, facility.owner_id)
    return found


def write_new_products(
    ctx: WriteContext,
    cache: LookupCache,
    batch: Sequence[Valid],
    source_values: Callable[[Valid], dict[str, Any]],
) -> list[Valid]:
    """Insert the products of `batch` that are new to the graph; return the ones written."""
    session = ctx.session
    candidates = [valid for valid in batch if isinstance(valid.record, ProductRecord)]
    waited_for = source_records.waiting_target_ids(
        session,
        feed=ctx.feed,
        target_entity_type="product",
        source_ids=[valid.record.source_id for valid in candidates],
    )
    chosen = [valid for valid in candidates if valid.record.source_id not in waited_for]
    if not chosen:
        return []
    records = [valid.record for valid in chosen if isinstance(valid.record, ProductRecord)]
    facilities = _facilities(
        session, {record.manufacturing_site for record in records if record.manufacturing_site}
    )
    product_ids = allocate_ids(session, PRODUCTS, len(records))
    rows: list[dict[str, Any]] = []
    names: dict[str, set[named.Pair]] = {}
    indications: list[tuple[int, int]] = []
    for record, product_id in zip(records, product_ids, strict=True):
        originator = institution_id(ctx, cache, record.originator)
        facility, maker = None, None
        if record.manufacturing_site in facilities:
            facility, maker = facilities[record.manufacturing_site]
        elif record.manufacturing_site:
            maker = institution_id(ctx, cache, InstitutionRef(name=record.manufacturing_site))
        conditions = condition_ids(ctx, cache, record.indications)
        rows.append(
            {
                "id": product_id,
                "name": record.name,
                "code": record.source_id,
                "atmp_class": record.atmp_class,
                "modality": record.modality,
                "stage": record.stage,
                "intervention_type": record.intervention_type,
                "originator_id": originator,
                "manufacturer_id": maker,
                "manufacturing_facility_id": facility,
            }
        )
        indications += [(product_id, condition) for condition in conditions]
        names[record.source_id] = {
            ("institution", i) for i in (originator, maker) if i is not None
        } | {("condition", condition) for condition in conditions}
    session.execute(insert(PRODUCTS), rows)
    change_tracking.created(session, "product", product_ids)
    insert_sources(session, "product", chosen, product_ids, source_values)
    links.insert_links(session, Product, "indications", indications)
    named.link_in_bulk(session, feed=ctx.feed, entity_type="product", names=names)
    return chosen
