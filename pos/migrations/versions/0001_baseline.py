"""baseline: the store as release 28a093d made it (create_all, no version table)

A store without a version table but with these tables is recorded as this revision, then upgraded.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-03 03:37:29.351784
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('breaks',
    sa.Column('shift', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts', sa.String(length=5), nullable=False),
    sa.Column('ends', sa.String(length=5), nullable=False),
    sa.PrimaryKeyConstraint('shift', 'number')
    )
    op.create_table('classes',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=False),
    sa.Column('shift', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('events',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('terminal_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at_utc', sa.DateTime(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=True),
    sa.Column('card_uid', sa.String(length=64), nullable=True),
    sa.Column('meal', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('paid_kopecks', sa.Integer(), nullable=False),
    sa.Column('free_kopecks', sa.Integer(), nullable=False),
    sa.Column('budget_line', sa.String(length=64), nullable=True),
    sa.Column('ref_event_id', sa.String(length=32), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('staff', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('flags', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seq')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_local_date', ['local_date'], unique=False)
        batch_op.create_index('ix_events_ref_event_id', ['ref_event_id'], unique=False)

    op.create_table('holidays',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('menu_prices',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('price_kopecks', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'meal')
    )
    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('orders',
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('student_id', 'day', 'meal')
    )
    op.create_table('outbox',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_id')
    )
    op.create_table('rejected',
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('rejected', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejected_seq'), ['seq'], unique=False)

    op.create_table('served',
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.Column('at_utc', sa.DateTime(), nullable=False),
    sa.Column('paid_kopecks', sa.Integer(), nullable=False),
    sa.Column('free_kopecks', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('student_id', 'local_date', 'meal')
    )
    op.create_table('meal_slots',
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('shift', sa.Integer(), nullable=False),
    sa.Column('break_no', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('class_id', 'meal')
    )
    op.create_table('students',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('diet_note', sa.Text(), nullable=False),
    sa.Column('daily_limit_kopecks', sa.Integer(), nullable=True),
    sa.Column('balance_kopecks', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_students_class_id'), ['class_id'], unique=False)

    op.create_table('cards',
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('key32', sa.Integer(), nullable=True),
    sa.Column('key24', sa.Integer(), nullable=True),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('blocked_reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], ),
    sa.PrimaryKeyConstraint('uid')
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_key24'), ['key24'], unique=False)
        batch_op.create_index(batch_op.f('ix_cards_key32'), ['key32'], unique=False)
        batch_op.create_index(batch_op.f('ix_cards_student_id'), ['student_id'], unique=False)

    op.create_table('entitlements',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('ends', sa.Date(), nullable=True),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('entitlements', schema=None) as batch_op:
        batch_op.create_index('ix_entitlements_student_category', ['student_id', 'category'], unique=False)
        batch_op.create_index(batch_op.f('ix_entitlements_student_id'), ['student_id'], unique=False)



def downgrade() -> None:
    raise NotImplementedError("the terminal's journal is never dropped")
