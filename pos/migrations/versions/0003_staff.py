"""staff: who may sign in at this window (name and hashed PIN), pulled from the office

Revision ID: 0003_staff
Revises: 0002_entitlements_no_documents
Create Date: 2026-12-03 04:45:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_staff'
down_revision = '0002_entitlements_no_documents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('staff')
