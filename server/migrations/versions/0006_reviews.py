"""reviews: resolutions of the review queue; what a terminal reports of itself (outbox size, version)

Revision ID: 0006_reviews
Revises: 0003_ingest_rules
Create Date: 2026-12-03 04:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_reviews'
down_revision = '0005_roster_benefits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_resolutions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('resolved_by', sa.String(length=64), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_resolutions', schema=None) as batch_op:
        batch_op.create_index('ix_review_resolutions_school_day', ['school_id', 'day'], unique=False)
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outbox_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('outbox_size')
    with op.batch_alter_table('review_resolutions', schema=None) as batch_op:
        batch_op.drop_index('ix_review_resolutions_school_day')
    op.drop_table('review_resolutions')
