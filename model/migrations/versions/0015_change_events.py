"""the change history: an outbox of change events, numbered in commit order

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-15 10:00:00

Every transaction that changes the graph appends its events (a node created, updated, merged
or retired, a record quarantined, an ingest run's start, progress and end) in the same
transaction; subscribers and the `changes` query read them (model/outbox.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'change_event',
        sa.Column('sequence', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('feed', sa.String(length=120), nullable=True),
        sa.Column('kind', sa.Enum('CREATED', 'UPDATED', 'MERGED', 'RETIRED', 'QUARANTINED', 'RUN_QUEUED', 'RUN_STARTED', 'RUN_PROGRESS', 'RUN_FINISHED', name='changekind', native_enum=False, create_constraint=False, length=40), nullable=False),
        sa.Column('entity_type', sa.String(length=60), nullable=True),
        sa.Column('node_id', sa.Integer(), nullable=True),
        sa.Column('institution_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint('sequence', name=op.f('pk_change_event')),
    )  # fmt: skip
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_event_feed'), ['feed'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_change_event_institution_id'), ['institution_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_change_event_run_id'), ['run_id'], unique=False)
        batch_op.create_index(
            'ix_change_event_entity_type_kind', ['entity_type', 'kind'], unique=False
        )
        batch_op.create_index(
            'ix_change_event_entity_type_node_id', ['entity_type', 'node_id'], unique=False
        )


def downgrade() -> None:
    op.drop_table('change_event')
