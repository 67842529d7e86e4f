"""district: districts and their schools, the schools' reports submitted to the district and every step

Revision ID: 0015_district
Revises: 0014_bank
Create Date: 2026-12-03 09:50:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015_district'
down_revision = '0014_bank'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('districts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # plain ADD COLUMN: a batch copy of `schools` would have to drop a table every other table refers to
    op.add_column('schools', sa.Column('district_id', sa.String(length=64), nullable=True))
    op.create_index('ix_schools_district', 'schools', ['district_id'], unique=False)

    op.create_table('report_submissions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('first_submitted_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_submissions', schema=None) as batch_op:
        batch_op.create_index('ux_report_submissions_school_kind_month', ['school_id', 'kind', 'month'],
                              unique=True)

    op.create_table('submission_steps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('export_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['report_submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('submission_steps', schema=None) as batch_op:
        batch_op.create_index('ix_submission_steps_submission', ['submission_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submission_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_steps_submission')
    op.drop_table('submission_steps')
    with op.batch_alter_table('report_submissions', schema=None) as batch_op:
        batch_op.drop_index('ux_report_submissions_school_kind_month')
    op.drop_table('report_submissions')
    op.drop_index('ix_schools_district', table_name='schools')
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('district_id')
    op.drop_table('districts')
