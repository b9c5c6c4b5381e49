"""Searches of what each feed's latest ingest run quarantined (sync and async sessions alike)."""

from sqlalchemy import Select, func, select

from atmp_graph.model.provenance import IngestRun, QuarantinedRecord


def latest_runs() -> Select[int]:
    """The id of each feed's latest run."""
    return select(func.max(IngestRun.id)).group_by(IngestRun.feed)


def latest_quarantine_containing(text: str) -> Select[str, int, int, str]:
    """Per feed whose latest run quarantined records with `text` in their reason: the feed,
    the run, how many such records, and the first of their reasons."""
    return (
        select(
            QuarantinedRecord.feed,
            QuarantinedRecord.run_id,
            func.count(),
            func.min(QuarantinedRecord.reason),
        )
        .where(
            QuarantinedRecord.run_id.in_(latest_runs()),
            QuarantinedRecord.reason.contains(text, autoescape=True),
        )
        .group_by(QuarantinedRecord.feed, QuarantinedRecord.run_id)
        .order_by(QuarantinedRecord.feed)
    )
