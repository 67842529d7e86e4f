"""class_days_off: days one class has no lessons (an excursion), pulled from the office's calendar

Revision ID: 0004_class_days_off
Revises: 0003_staff
Create Date: 2026-12-03 06:35:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_class_days_off'
down_revision = '0003_staff'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('class_days_off',
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('class_id', 'day')
    )


def downgrade() -> None:
    op.drop_table('class_days_off')
