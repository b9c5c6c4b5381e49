"""ingests as jobs: queued runs, the lease each feed's worker holds, and the schedules

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14 10:00:00

An ingest run can now be asked for (runIngest, or a feed's schedule) and wait, QUEUED, for a
worker (jobs/): it says when and by whom it was asked for, which run of its feed it waits
behind, which worker took it and when that worker last gave a sign of life.  `ingest_lease`
holds the one worker running each feed, `ingest_schedule` when each feed is next due.
Statuses are plain strings, so QUEUED needs no change to the column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('requested_by', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('waiting_for_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('worker', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_ingest_run_waiting_for_id_ingest_run'),
            'ingest_run', ['waiting_for_id'], ['id'], ondelete='SET NULL',
        )  # fmt: skip
    op.create_table(
        'ingest_lease',
        sa.Column('feed', sa.String(length=120), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('holder', sa.String(length=300), nullable=False),
        sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('feed', name=op.f('pk_ingest_lease')),
    )  # fmt: skip
    op.create_table(
        'ingest_schedule',
        sa.Column('feed', sa.String(length=120), nullable=False),
        sa.Column('schedule', sa.String(length=200), nullable=False),
        sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('feed', name=op.f('pk_ingest_schedule')),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table('ingest_schedule')
    op.drop_table('ingest_lease')
    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_ingest_run_waiting_for_id_ingest_run'), type_='foreignkey'
        )
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('worker')
        batch_op.drop_column('waiting_for_id')
        batch_op.drop_column('requested_by')
        batch_op.drop_column('queued_at')
