"""calendar and class orders: the school year and order deadline, class days off, class orders,
absences, standing orders, order changes, kitchen sendings

Revision ID: 0008_calendar_orders
Revises: 0007_staff
Create Date: 2026-12-03 06:30:09.810710
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_calendar_orders'
down_revision = '0007_staff'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('absences',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'student_id', 'day')
    )
    op.create_table('class_days_off',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'class_id', 'day')
    )
    with op.batch_alter_table('class_days_off', schema=None) as batch_op:
        batch_op.create_index('ix_class_days_off_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('class_orders',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'class_id', 'day')
    )
    op.create_table('kitchen_sendings',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_by', sa.String(length=64), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'day')
    )
    op.create_table('order_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('after_sent', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_changes', schema=None) as batch_op:
        batch_op.create_index('ix_order_changes_school_day', ['school_id', 'day'], unique=False)

    op.create_table('standing_orders',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'student_id', 'weekday', 'meal')
    )
    # plain ADD COLUMN: a batch copy of `schools` would have to drop a table every other table refers to
    op.add_column('schools', sa.Column('year_starts', sa.Date(), nullable=True))
    op.add_column('schools', sa.Column('year_ends', sa.Date(), nullable=True))
    op.add_column('schools', sa.Column('order_deadline', sa.String(length=5), nullable=False,
                                       server_default=sa.text("'10:00'")))


def downgrade() -> None:
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('order_deadline')
        batch_op.drop_column('year_ends')
        batch_op.drop_column('year_starts')

    op.drop_table('standing_orders')
    with op.batch_alter_table('order_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_order_changes_school_day')

    op.drop_table('order_changes')
    op.drop_table('kitchen_sendings')
    op.drop_table('class_orders')
    with op.batch_alter_table('class_days_off', schema=None) as batch_op:
        batch_op.drop_index('ix_class_days_off_school_rev')

    op.drop_table('class_days_off')
    op.drop_table('absences')
