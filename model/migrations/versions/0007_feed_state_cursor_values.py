"""feed states hold cursor values only

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:00:00

Before cursors were typed, a record with a cursor such as 'not-a-date' could become its
stream's state, and since such text sorts after every real date, each later incremental run
skipped real changes.  A migration cannot ask the plugins what type each stream's cursor is, so
it keeps every state that reads as one of the typed kinds (a date, a timestamp with an offset,
a number) and deletes the rest: that stream's next run reads it whole, which is always right,
and stores a typed state again.  (A stream whose cursor really is text is read whole once.)
"""

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

feed_state = sa.table(
    "feed_state", sa.column("feed", sa.String), sa.column("stream", sa.String),
    sa.column("cursor", sa.String),
)  # fmt: skip


def is_cursor_value(text: str) -> bool:
    """Whether `text` reads as a date, a timestamp with an offset, or a number (the same
    rules as plugins/cursors.py, which a migration may not import)."""
    text = text.strip()
    if DATE.fullmatch(text):
        try:
            dt.date.fromisoformat(text)
            return True
        except ValueError:
            return False
    try:
        return dt.datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        pass
    if NUMBER.fullmatch(text):
        try:
            Decimal(text)
            return True
        except InvalidOperation:
            return False
    return False


def upgrade() -> None:
    """Delete feed states that are no date, timestamp or number."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(feed_state.c.feed, feed_state.c.stream, feed_state.c.cursor))
    for feed, stream, cursor in rows.all():
        if not is_cursor_value(cursor):
            connection.execute(
                feed_state.delete().where(
                    feed_state.c.feed == feed, feed_state.c.stream == stream
                )
            )


def downgrade() -> None:
    """The deleted states cannot come back; without them the streams are read whole."""
