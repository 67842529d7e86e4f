"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:45:06.084431
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('events',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('terminal_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
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
    sa.Column('server_flags', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_ref', ['ref_event_id'], unique=False)
        batch_op.create_index('ix_events_school_day', ['school_id', 'local_date'], unique=False)
        batch_op.create_index('ix_events_school_rev', ['school_id', 'rev'], unique=False)
        batch_op.create_index('ix_events_terminal_seq', ['terminal_id', 'seq'], unique=False)

    op.create_table('schools',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('week_days', sa.String(length=20), nullable=False),
    sa.Column('window_early_min', sa.Integer(), nullable=False),
    sa.Column('window_late_min', sa.Integer(), nullable=False),
    sa.Column('refuse_outside_window', sa.Boolean(), nullable=False),
    sa.Column('policy_text', sa.Text(), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.Column('settings_rev', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sync_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('terminal_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('drift_s', sa.Float(), nullable=True),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('stored', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_log', schema=None) as batch_op:
        batch_op.create_index('ix_sync_log_terminal_at', ['terminal_id', 'at'], unique=False)

    op.create_table('admins',
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('login')
    )
    op.create_table('breaks',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('shift', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts', sa.String(length=5), nullable=False),
    sa.Column('ends', sa.String(length=5), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'shift', 'number')
    )
    with op.batch_alter_table('breaks', schema=None) as batch_op:
        batch_op.create_index('ix_breaks_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('cards',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('key32', sa.BigInteger(), nullable=True),
    sa.Column('key24', sa.Integer(), nullable=True),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('blocked_reason', sa.String(length=200), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'uid')
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index('ix_cards_school_key24', ['school_id', 'key24'], unique=False)
        batch_op.create_index('ix_cards_school_key32', ['school_id', 'key32'], unique=False)
        batch_op.create_index('ix_cards_school_rev', ['school_id', 'rev'], unique=False)
        batch_op.create_index('ix_cards_school_student', ['school_id', 'student_id'], unique=False)

    op.create_table('classes',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=False),
    sa.Column('shift', sa.Integer(), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'id')
    )
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.create_index('ix_classes_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('entitlements',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('ends', sa.Date(), nullable=True),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'id')
    )
    with op.batch_alter_table('entitlements', schema=None) as batch_op:
        batch_op.create_index('ix_entitlements_school_rev', ['school_id', 'rev'], unique=False)
        batch_op.create_index('ix_entitlements_school_student', ['school_id', 'student_id'], unique=False)

    op.create_table('holidays',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'day')
    )
    with op.batch_alter_table('holidays', schema=None) as batch_op:
        batch_op.create_index('ix_holidays_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('meal_slots',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('shift', sa.Integer(), nullable=False),
    sa.Column('break_no', sa.Integer(), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'class_id', 'meal')
    )
    with op.batch_alter_table('meal_slots', schema=None) as batch_op:
        batch_op.create_index('ix_meal_slots_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('menu_prices',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('price_kopecks', sa.Integer(), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'day', 'meal')
    )
    with op.batch_alter_table('menu_prices', schema=None) as batch_op:
        batch_op.create_index('ix_menu_prices_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('orders',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'student_id', 'day', 'meal')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_school_day', ['school_id', 'day'], unique=False)
        batch_op.create_index('ix_orders_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('students',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('diet_note', sa.Text(), nullable=False),
    sa.Column('daily_limit_kopecks', sa.Integer(), nullable=True),
    sa.Column('balance_kopecks', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'id')
    )
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.create_index('ix_students_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('terminals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('last_pull_at', sa.DateTime(), nullable=True),
    sa.Column('clock_drift_s', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terminals_school_id'), ['school_id'], unique=False)

    op.create_table('tombstones',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('rev', sa.BigInteger(), nullable=False),
    sa.Column('table', sa.String(length=32), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.create_index('ix_tombstones_school_rev', ['school_id', 'rev'], unique=False)

    op.create_table('topups',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('amount_kopecks', sa.BigInteger(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'reference')
    )
    op.create_table('admin_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['login'], ['admins.login'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )



def downgrade() -> None:

    op.drop_table('admin_sessions')
    op.drop_table('topups')
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.drop_index('ix_tombstones_school_rev')

    op.drop_table('tombstones')
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_terminals_school_id'))

    op.drop_table('terminals')
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_index('ix_students_school_rev')

    op.drop_table('students')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_school_rev')
        batch_op.drop_index('ix_orders_school_day')

    op.drop_table('orders')
    with op.batch_alter_table('menu_prices', schema=None) as batch_op:
        batch_op.drop_index('ix_menu_prices_school_rev')

    op.drop_table('menu_prices')
    with op.batch_alter_table('meal_slots', schema=None) as batch_op:
        batch_op.drop_index('ix_meal_slots_school_rev')

    op.drop_table('meal_slots')
    with op.batch_alter_table('holidays', schema=None) as batch_op:
        batch_op.drop_index('ix_holidays_school_rev')

    op.drop_table('holidays')
    with op.batch_alter_table('entitlements', schema=None) as batch_op:
        batch_op.drop_index('ix_entitlements_school_student')
        batch_op.drop_index('ix_entitlements_school_rev')

    op.drop_table('entitlements')
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.drop_index('ix_classes_school_rev')

    op.drop_table('classes')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index('ix_cards_school_student')
        batch_op.drop_index('ix_cards_school_rev')
        batch_op.drop_index('ix_cards_school_key32')
        batch_op.drop_index('ix_cards_school_key24')

    op.drop_table('cards')
    with op.batch_alter_table('breaks', schema=None) as batch_op:
        batch_op.drop_index('ix_breaks_school_rev')

    op.drop_table('breaks')
    op.drop_table('admins')
    with op.batch_alter_table('sync_log', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_log_terminal_at')

    op.drop_table('sync_log')
    op.drop_table('schools')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_terminal_seq')
        batch_op.drop_index('ix_events_school_rev')
        batch_op.drop_index('ix_events_school_day')
        batch_op.drop_index('ix_events_ref')

    op.drop_table('events')

