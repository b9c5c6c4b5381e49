"""The values of a node the change history compares: its columns, as JSON, and a partnership's
terms; and the institution each kind of node belongs to."""

import datetime as dt
import decimal
import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmp_graph.model import kinds
from atmp_graph.model.partnerships import PartnershipTerms

Node = tuple[str, int]  # entity type, id

# The kinds of node the history follows: every node type of the graph.
TRACKED = frozenset(
    {
        "agreement",
        "clinical_trial",
        "condition",
        "education_activity",
        "exchange",
        "facility",
        "institution",
        "partnership",
        "person",
        "product",
        "project",
    }
)
# Bookkeeping, not what the node says.
UNTRACKED_COLUMNS = frozenset({"id", "retired_by_run_id"})
# The column naming the institution a node belongs to, where it has one.
INSTITUTION_COLUMNS = {
    "clinical_trial": "sponsor_id",
    "product": "originator_id",
    "project": "lead_institution_id",
    "partnership": "partner_id",
    "facility": "owner_id",
    "institution": "id",
    "exchange": "from_institution_id",
    "education_activity": "host_institution_id",
}
TERMS = "terms"
CHUNK = 1000


def encoded(value: Any) -> Any:
    """`value` as JSON keeps it (dates as ISO 8601, enums by value, amounts as text)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)  # SQLite's, written in UTC
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [encoded(item) for item in value]
    return value


def read_values(
    session: Session, entity_type: str, ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The stored values of these nodes (those that exist), by id."""
    table = kinds.table_of(kinds.model_for(entity_type))
    columns = [column for column in table.c if column.name not in UNTRACKED_COLUMNS]
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        rows = session.execute(select(table.c.id, *columns).where(table.c.id.in_(chunk)))
        for row in rows:
            found[row.id] = {column.name: encoded(row._mapping[column]) for column in columns}
        if entity_type == "partnership":
            for node_id in chunk:
                if node_id in found:
                    found[node_id][TERMS] = None
            # Columns, not objects: this may run in the middle of a flush.
            t = PartnershipTerms
            terms = session.execute(
                select(t.partnership_id, t.value_amount, t.currency, t.confidential).where(
                    t.partnership_id.in_(chunk)
                )
            )
            for term in terms:
                found[term.partnership_id][TERMS] = {
                    "valueAmount": encoded(term.value_amount),
                    "currency": term.currency,
                    "confidential": term.confidential,
                }
    return found


def institution_of(entity_type: str, values: dict[str, Any] | None, node_id: int) -> int | None:
    column = INSTITUTION_COLUMNS.get(entity_type)
    if column is None or values is None:
        return None
    if column == "id":
        return node_id
    value = values.get(column)
    return value if isinstance(value, int) else None
