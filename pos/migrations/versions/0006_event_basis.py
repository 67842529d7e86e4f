"""events: what made a meal free (benefit category, policy rule), as decided at the window

Revision ID: 0006_event_basis
Revises: 0005_menu_age_group
Create Date: 2026-12-03 06:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_event_basis'
down_revision = '0005_menu_age_group'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a constant default: SQLite rewrites nothing, however long the journal is
    op.add_column('events', sa.Column('free_category', sa.String(length=64), server_default='', nullable=False))
    op.add_column('events', sa.Column('free_rule', sa.String(length=80), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('free_rule')
        batch_op.drop_column('free_category')
