"""parents: the one-time codes of the parents' letters

Revision ID: 0012_parents
Revises: 0011_history
Create Date: 2026-12-03 09:50:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_parents'
down_revision = '0011_history'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parent_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('used_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('code_hash')
    )
    with op.batch_alter_table('parent_codes', schema=None) as batch_op:
        batch_op.create_index('ix_parent_codes_school_student', ['school_id', 'student_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parent_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_parent_codes_school_student')
    op.drop_table('parent_codes')
