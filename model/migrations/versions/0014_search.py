"""full-text search: the index `search` reads, and the triggers that keep it current

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00

One document per live trial, project, product, institution, partnership, person and
condition, indexed for every row already there: an FTS5 table on SQLite, a GIN-indexed
tsvector on PostgreSQL (with the `unaccent` extension where the role may create it; without,
accents must be typed).  model/search_index.py declares what is indexed; a later change to it
is a migration that calls `install` again, which drops and rebuilds the index whole.
"""

from collections.abc import Sequence

from alembic import op

from atmp_graph.model import search_index

# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    search_index.install(op.get_bind())


def downgrade() -> None:
    # The unaccent extension stays: it belongs to the database, other schemas may use it.
    search_index.uninstall(op.get_bind())
