"""staff: who serves at a school's windows, with a hashed PIN, pulled by its terminals

Revision ID: 0007_staff
Revises: 0003_ingest_rules
Create Date: 2026-12-03 04:45:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_staff'
down_revision = '0006_reviews'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'id')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index('ix_staff_school_rev', ['school_id', 'rev'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_school_rev')
    op.drop_table('staff')
