"""API keys, the server secret they are hashed with, confidential parts of quarantined rows

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:40:00

Keys carry an institution and a role and are stored as HMAC-SHA256 under the server secret.
The secret is made here, once per database, so every worker of one deployment shares it
(ATMP_SECRET_KEY overrides it).  A quarantined record now says which of its raw keys only
admins may read; rows quarantined before, of partnerships, are hidden from all but admins.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = sa.Enum('PARTNER', 'CURATOR', 'ADMIN', name='role', native_enum=False, length=40)


def upgrade() -> None:
    op.create_table(
        'api_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('role', ROLE, nullable=False),
        sa.Column('label', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['institution_id'], ['institution.id'],
            name=op.f('fk_api_key_institution_id_institution'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash')),
        sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix')),
    )  # fmt: skip
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_api_key_institution_id'), ['institution_id'], unique=False
        )
    secret = op.create_table(
        'server_secret',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_server_secret')),
    )
    op.bulk_insert(secret, [{'name': 'hmac', 'value': secrets.token_urlsafe(48)}])
    with op.batch_alter_table('quarantined_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confidential', sa.JSON(), nullable=True))
    quarantine = sa.table(
        'quarantined_record', sa.column('entity_type', sa.String),
        sa.column('confidential', sa.JSON),
    )  # fmt: skip
    op.execute(
        quarantine.update()
        .where(quarantine.c.entity_type == 'partnership')
        .values(confidential=['*'])
    )


def downgrade() -> None:
    with op.batch_alter_table('quarantined_record', schema=None) as batch_op:
        batch_op.drop_column('confidential')
    op.drop_table('server_secret')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_institution_id'))
    op.drop_table('api_key')
