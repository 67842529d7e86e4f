"""entitlements: no order number, no reason on the terminal

Terminals get only what serving needs; the documents behind a benefit stay on the server.

Revision ID: 0002_entitlements_no_documents
Revises: 0001_baseline
Create Date: 2026-12-03 03:37:39.760188
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_entitlements_no_documents'
down_revision = '0001_baseline'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entitlements', schema=None) as batch_op:
        batch_op.drop_column('order_no')
        batch_op.drop_column('reason')


def downgrade() -> None:
    with op.batch_alter_table('entitlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('order_no', sa.String(length=64), nullable=False, server_default=''))
