"""source record key leads with source_id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 00:55:00

"""
from collections.abc import Sequence

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Lead the unique key with source_id, so `source_id IN (...)` batch lookups use it."""
    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.drop_constraint('uq_source_record_feed_entity_type_source_id', type_='unique')
        batch_op.create_unique_constraint(
            op.f('uq_source_record_source_id_feed_entity_type'), ['source_id', 'feed', 'entity_type']
        )


def downgrade() -> None:
    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_source_record_source_id_feed_entity_type'), type_='unique')
        batch_op.create_unique_constraint(
            op.f('uq_source_record_feed_entity_type_source_id'), ['feed', 'entity_type', 'source_id']
        )
