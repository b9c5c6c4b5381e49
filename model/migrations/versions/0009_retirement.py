"""records and nodes can be retired; runs count deletions and retirements

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 09:20:00

A source record is retired when its feed no longer sends it, a node when no feed still sends
a record that built it; both keep when and by which run.  Trial and product records now also
claim their links (conditions, collaborators, products, indications), so that a node's links
are those its records still send.  Records from before carry no link claims; for a node only
one record built, its links are exactly that record's, but for a node several built, nobody can
tell which link came from which feed.  Those records are marked changed (their content hash
emptied), so the next run that reads each one writes it again, with its link claims.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETIRABLE = (
    "source_record", "agreement", "institution", "facility", "product", "project", "exchange",
    "education_activity", "clinical_trial", "partnership",
)  # fmt: skip
LINK_CLAIMING = ("clinical_trial", "product")
# Tables whose ids are never handed out again (0006): a table SQLite recreates keeps that.
AUTOINCREMENT = {"institution", "facility", "product", "clinical_trial"}


def upgrade() -> None:
    """Retirement columns; run counts; records of shared trials and products to be rewritten."""
    # ALTER TABLE ... ADD COLUMN: no table is recreated (SQLite keeps AUTOINCREMENT).
    for table in RETIRABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True)
            )
            batch_op.add_column(sa.Column('retired_by_run_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        for count in ('deleted', 'retired'):
            batch_op.add_column(
                sa.Column(count, sa.Integer(), nullable=False, server_default=sa.text('0'))
            )
    _rewrite_records_of_shared_nodes()


def _rewrite_records_of_shared_nodes() -> None:
    records = sa.table(
        "source_record", sa.column("id", sa.Integer), sa.column("entity_type", sa.String),
        sa.column("content_hash", sa.String),
    )  # fmt: skip
    built = sa.table(
        "entity_source", sa.column("source_record_id", sa.Integer),
        sa.column("entity_type", sa.String), sa.column("entity_id", sa.Integer),
    )  # fmt: skip
    own_kind = sa.and_(
        records.c.id == built.c.source_record_id, records.c.entity_type == built.c.entity_type
    )
    shared = (
        sa.select(built.c.entity_type, built.c.entity_id)
        .join(records, own_kind)
        .where(built.c.entity_type.in_(LINK_CLAIMING))
        .group_by(built.c.entity_type, built.c.entity_id)
        .having(sa.func.count() > 1)
        .subquery()
    )
    connection = op.get_bind()
    ids = connection.scalars(
        sa.select(records.c.id)
        .join(built, own_kind)
        .join(
            shared,
            sa.and_(
                shared.c.entity_type == built.c.entity_type,
                shared.c.entity_id == built.c.entity_id,
            ),
        )
    ).all()
    for start in range(0, len(ids), 1000):
        connection.execute(
            records.update()
            .where(records.c.id.in_(ids[start : start + 1000]))
            .values(content_hash="")
        )


def downgrade() -> None:
    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.drop_column('retired')
        batch_op.drop_column('deleted')
    for table in reversed(RETIRABLE):
        kwargs = {"sqlite_autoincrement": True} if table in AUTOINCREMENT else {}
        with op.batch_alter_table(table, schema=None, table_kwargs=kwargs) as batch_op:
            batch_op.drop_column('retired_by_run_id')
            batch_op.drop_column('retired_at')
