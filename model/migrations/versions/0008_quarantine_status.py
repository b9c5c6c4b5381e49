"""quarantined records are open until resolved, superseded or discarded

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 09:10:00

Until now the quarantine listed each feed's latest run only, so a record an earlier run
quarantined disappeared from view when a later run did not read it again.  Each entry now has a
status.  Existing entries get the one their history gives them: an entry of a feed's latest
run is OPEN; an earlier one is SUPERSEDED when a later run quarantined the same record again,
RESOLVED when a later run read the record and stored it (resolved by that run), and otherwise
OPEN, for it is still wrong.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = sa.Enum(
    'OPEN', 'RESOLVED', 'SUPERSEDED', 'DISCARDED', name='quarantinestatus', native_enum=False,
    length=40,
)  # fmt: skip


def upgrade() -> None:
    """Status, resolution and discard columns; each existing entry's status from its history."""
    with op.batch_alter_table('quarantined_record', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('status', STATUS, nullable=False, server_default=sa.text("'OPEN'"))
        )
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolved_by_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('discarded_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('discard_reason', sa.Text(), nullable=True))
        batch_op.create_index(
            'ix_quarantined_record_record', ['feed', 'entity_type', 'source_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_quarantined_record_status'), ['status'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_quarantined_record_resolved_by_run_id_ingest_run'),
            'ingest_run', ['resolved_by_run_id'], ['id'], ondelete='SET NULL',
        )  # fmt: skip
    _statuses_from_history()


def _statuses_from_history() -> None:
    quarantine = sa.table(
        "quarantined_record", sa.column("id", sa.Integer), sa.column("run_id", sa.Integer),
        sa.column("feed", sa.String), sa.column("entity_type", sa.String),
        sa.column("source_id", sa.String), sa.column("file", sa.String),
        sa.column("row", sa.Integer), sa.column("status", sa.String),
        sa.column("resolved_at", sa.DateTime), sa.column("resolved_by_run_id", sa.Integer),
    )  # fmt: skip
    runs = sa.table(
        "ingest_run", sa.column("id", sa.Integer), sa.column("feed", sa.String),
        sa.column("finished_at", sa.DateTime),
    )  # fmt: skip
    records = sa.table(
        "source_record", sa.column("feed", sa.String), sa.column("entity_type", sa.String),
        sa.column("source_id", sa.String), sa.column("run_id", sa.Integer),
    )  # fmt: skip
    later = quarantine.alias("later")
    latest_run = (
        sa.select(sa.func.max(runs.c.id)).where(runs.c.feed == quarantine.c.feed).scalar_subquery()
    )
    earlier = quarantine.c.run_id < latest_run
    # The same record: by source id, or, for a record without one, by its place in the export.
    same_record = sa.or_(
        sa.and_(
            quarantine.c.source_id.is_not(None), later.c.source_id == quarantine.c.source_id
        ),
        sa.and_(
            quarantine.c.source_id.is_(None),
            later.c.source_id.is_(None),
            later.c.file == quarantine.c.file,
            later.c.row == quarantine.c.row,
        ),
    )
    op.execute(
        quarantine.update()
        .where(
            earlier,
            sa.exists().where(
                later.c.feed == quarantine.c.feed,
                later.c.entity_type == quarantine.c.entity_type,
                later.c.run_id > quarantine.c.run_id,
                same_record,
            ),
        )
        .values(status="SUPERSEDED")
    )
    stored_later = sa.and_(
        records.c.feed == quarantine.c.feed,
        records.c.entity_type == quarantine.c.entity_type,
        records.c.source_id == quarantine.c.source_id,
        records.c.run_id > quarantine.c.run_id,
    )
    resolving_run = sa.select(records.c.run_id).where(stored_later).limit(1).scalar_subquery()
    op.execute(
        quarantine.update()
        .where(earlier, quarantine.c.status == "OPEN", sa.exists().where(stored_later))
        .values(
            status="RESOLVED",
            resolved_by_run_id=resolving_run,
            resolved_at=sa.select(runs.c.finished_at)
            .where(runs.c.id == resolving_run)
            .scalar_subquery(),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table('quarantined_record', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_quarantined_record_resolved_by_run_id_ingest_run'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_quarantined_record_status'))
        batch_op.drop_index('ix_quarantined_record_record')
        batch_op.drop_column('discard_reason')
        batch_op.drop_column('discarded_by')
        batch_op.drop_column('discarded_at')
        batch_op.drop_column('resolved_by_run_id')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('status')
