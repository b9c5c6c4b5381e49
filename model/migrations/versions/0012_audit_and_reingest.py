"""the audit trail of curation, and quarantined records a curator asked to be read again

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00

Every mutation and curation command now writes an audit entry (who, when, what, on what,
before and after) in its own transaction.  A quarantined record can be marked for re-ingest:
the feed's next run reads the record's stream whole, and notes which run that was.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'audit_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('operation', sa.String(length=100), nullable=False),
        sa.Column('arguments', sa.JSON(), nullable=False),
        sa.Column('who', sa.String(length=300), nullable=False),
        sa.Column('key_id', sa.Integer(), nullable=True),
        sa.Column('institution_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=40), nullable=True),
        sa.Column('target_type', sa.String(length=60), nullable=True),
        sa.Column('target_id', sa.Integer(), nullable=True),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    )  # fmt: skip
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_audit_entry_institution_id'), ['institution_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_audit_entry_key_id'), ['key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_operation'), ['operation'], unique=False)
    with op.batch_alter_table('quarantined_record', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reingest_requested_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('reingest_requested_by', sa.String(length=300), nullable=True)
        )
        batch_op.add_column(sa.Column('reingest_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reingest_run_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quarantined_record', schema=None) as batch_op:
        batch_op.drop_column('reingest_run_id')
        batch_op.drop_column('reingest_reason')
        batch_op.drop_column('reingest_requested_by')
        batch_op.drop_column('reingest_requested_at')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_operation'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_key_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_institution_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))
    op.drop_table('audit_entry')
