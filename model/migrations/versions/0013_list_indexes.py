"""indexes for the lists' filters and orders

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 10:00:00

The lists filter and sort (schema/filtering.py, schema/ordering.py): trials by phase or
status and then start date, by start date, by title; sites by country; institutions by
country, kind and name; projects by area; products by ATMP class; and the link tables from
their other side (a condition's trials, trials filtered by condition).  Each index ends with
the id, as every list's order does.  Lists sort text by code point: on PostgreSQL the text
indexes are built COLLATE "C" to serve that order (SQLite's own BINARY is that order).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ('clinical_trial', 'ix_clinical_trial_phase_start_date', ['phase', 'start_date', 'id']),
    ('clinical_trial', 'ix_clinical_trial_status_start_date', ['status', 'start_date', 'id']),
    ('clinical_trial', 'ix_clinical_trial_start_date', ['start_date', 'id']),
    ('clinical_trial', 'ix_clinical_trial_title', ['title:text', 'id']),
    ('trial_site', 'ix_trial_site_country', ['country', 'trial_id']),
    ('institution', 'ix_institution_country', ['country', 'id']),
    ('institution', 'ix_institution_kind', ['kind', 'id']),
    ('institution', 'ix_institution_name', ['name:text', 'id']),
    ('project', 'ix_project_area', ['area', 'id']),
    ('product', 'ix_product_atmp_class', ['atmp_class', 'id']),
]
LINKS = [
    ('agreement_party', 'agreement', 'institution'),
    ('person_affiliation', 'person', 'institution'),
    ('project_partner', 'project', 'institution'),
    ('project_condition', 'project', 'condition'),
    ('project_product', 'project', 'product'),
    ('product_indication', 'product', 'condition'),
    ('trial_condition', 'clinical_trial', 'condition'),
    ('trial_product', 'clinical_trial', 'product'),
    ('trial_collaborator', 'clinical_trial', 'institution'),
    ('partnership_institution', 'partnership', 'institution'),
    ('partnership_project', 'partnership', 'project'),
    ('partnership_product', 'partnership', 'product'),
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'

    def column(name: str) -> str | sa.TextClause:
        if name.endswith(':text'):
            name = name.removesuffix(':text')
            return sa.text(f'{name} COLLATE "C"') if postgres else name
        return name

    for table, index, columns in INDEXES:
        op.create_index(index, table, [column(name) for name in columns])
    for table, left, right in LINKS:
        op.create_index(f'ix_{table}_{right}_id', table, [f'{right}_id', f'{left}_id'])


def downgrade() -> None:
    for table, left, right in LINKS:
        op.drop_index(f'ix_{table}_{right}_id', table_name=table)
    for table, index, _ in INDEXES:
        op.drop_index(index, table_name=table)
