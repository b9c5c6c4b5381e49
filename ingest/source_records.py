"""The source records an ingest writes, and the links that wait for their target."""

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from atmp_graph.model.base import Base
from atmp_graph.model.kinds import entity_type_of
from atmp_graph.model.provenance import EntitySource, PendingLink, SourceRecord
from atmp_graph.model.research import Product
from atmp_graph.model.trials import TrialSite


def place_at_facility(session: Session, institution_ids: Sequence[int], facility_id: int) -> None:
    """Products made by, and trial sites at, these institutions are at this facility."""
    session.flush()
    session.execute(
        update(Product)
        .where(
            Product.manufacturer_id.in_(institution_ids),
            Product.manufacturing_facility_id.is_(None),
        )
        .values(manufacturing_facility_id=facility_id)
    )
    session.execute(
        update(TrialSite)
        .where(TrialSite.institution_id.in_(institution_ids), TrialSite.facility_id.is_(None))
        .values(facility_id=facility_id)
    )


def link_source(session: Session, record: SourceRecord, entity: Base) -> None:
    """Remember that `record` built `entity` (idempotent)."""
    session.flush()
    entity_type = entity_type_of(type(entity))
    entity_id = entity.id  # type: ignore[attr-defined]
    exists = session.get(EntitySource, (record.id, entity_type, entity_id))
    if exists is None:
        session.add(
            EntitySource(source_record_id=record.id, entity_type=entity_type, entity_id=entity_id)
        )


def park_link(session: Session, link: PendingLink) -> None:
    exists = session.scalars(
        select(PendingLink).where(
            PendingLink.feed == link.feed,
            PendingLink.entity_type == link.entity_type,
            PendingLink.entity_id == link.entity_id,
            PendingLink.relation == link.relation,
            PendingLink.target_source_id == link.target_source_id,
        )
    ).first()
    if exists is None:
        session.add(link)


def waiting_links(
    session: Session, *, feed: str, target_entity_type: str, target_source_id: str
) -> Sequence[PendingLink]:
    return session.scalars(
        select(PendingLink).where(
            PendingLink.feed == feed,
            PendingLink.target_entity_type == target_entity_type,
            PendingLink.target_source_id == target_source_id,
        )
    ).all()


def known_source_records(
    session: Session, *, feed: str, entity_type: str, source_ids: Sequence[str]
) -> dict[str, SourceRecord]:
    """The source records a feed already has for these ids, in one query."""
    rows = session.scalars(
        select(SourceRecord).where(
            SourceRecord.feed == feed,
            SourceRecord.entity_type == entity_type,
            SourceRecord.source_id.in_(source_ids),
        )
    )
    return {row.source_id: row for row in rows}


def mark_read(session: Session, source_record_ids: Sequence[int], run_id: int | None) -> None:
    """Note that this run read these records (unchanged ones included)."""
    if source_record_ids:
        session.execute(
            update(SourceRecord)
            .where(SourceRecord.id.in_(source_record_ids))
            .values(run_id=run_id),
            execution_options={"synchronize_session": False},
        )


def waiting_target_ids(
    session: Session, *, feed: str, target_entity_type: str, source_ids: Sequence[str]
) -> set[str]:
    """Which of these records other records of the feed are waiting for."""
    return set(
        session.scalars(
            select(PendingLink.target_source_id).where(
                PendingLink.feed == feed,
                PendingLink.target_entity_type == target_entity_type,
                PendingLink.target_source_id.in_(source_ids),
            )
        )
    )
