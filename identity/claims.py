"""What each source record says of the node it built, stored as JSON on the record.

Values are kept the way JSON holds them (dates as ISO strings, enums by value) and turned
back into column values with the column's own type.
"""

import datetime as dt
import decimal
import enum
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, DateTime, Enum, Numeric, select
from sqlalchemy.orm import Session

from atmp_graph.identity.precedence import CURATION
from atmp_graph.model.base import Base
from atmp_graph.model.provenance import EntitySource, SourceRecord


@dataclass(frozen=True)
class Claim:
    """One source record's values for one node; `retired_at` is set once its feed no longer
    sends the record."""

    feed: str
    source_id: str
    fetched_at: dt.datetime
    values: Mapping[str, Any]
    retired_at: dt.datetime | None = None


def encode(value: Any) -> Any:
    """A claim value as JSON holds it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    return value


def decode(model: type[Base], field: str, value: Any) -> Any:
    """A claim value as the column `model.field` holds it."""
    return decode_value(model.__table__.c[field], value)


def decode_value(column: ColumnElement[Any], value: Any) -> Any:
    """A JSON value as `column` holds it."""
    if value is None:
        return None
    column_type = column.type
    if isinstance(column_type, Enum) and column_type.enum_class is not None:
        return column_type.enum_class(value)
    if isinstance(column_type, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column_type, Numeric) and isinstance(value, str):
        return decimal.Decimal(value)
    return value


def claims_for(session: Session, entity_type: str, ids: Sequence[int]) -> dict[int, list[Claim]]:
    """The claims of the records of their own kind that built these nodes, in one query.

    Only live records count; a node whose records are all retired is given their claims,
    so that it stays what it was when its feeds stopped sending it.
    """
    given: dict[int, list[Claim]] = defaultdict(list)
    rows = session.execute(
        select(
            EntitySource.entity_id,
            SourceRecord.feed,
            SourceRecord.source_id,
            SourceRecord.fetched_at,
            SourceRecord.claims,
            SourceRecord.retired_at,
        )
        .join(EntitySource)
        .where(
            EntitySource.entity_type == entity_type,
            EntitySource.entity_id.in_(ids),
            SourceRecord.entity_type == entity_type,
            SourceRecord.claims.is_not(None),
        )
    )
    for row in rows:
        claim = Claim(row.feed, row.source_id, row.fetched_at, row.claims, row.retired_at)
        given[row.entity_id].append(claim)
    return {node: counting(claims) for node, claims in given.items()}


def counting(claims: Sequence[Claim]) -> list[Claim]:
    """The claims that count: the live ones, or all of them when none is live; a curator's
    count either way (no feed sends them, so no run retires them)."""
    curated = [claim for claim in claims if claim.feed == CURATION]
    fed = [claim for claim in claims if claim.feed != CURATION]
    live = [claim for claim in fed if claim.retired_at is None]
    return (live or fed) + curated


def record_claims(record: SourceRecord) -> Claim | None:
    if record.claims is None:
        return None
    return Claim(record.feed, record.source_id, record.fetched_at, record.claims, record.retired_at)
