"""ingest rules: events keyed by (school, id), one reversal per serve, rejected events, terminal flags

Revision ID: 0003_ingest_rules
Revises: 0002
Create Date: 2026-12-03 04:00:00

A serve reversed twice before this revision (the server did not check) keeps its first reversal;
the later ones move to `rejected_events` and their refund is taken back from the account, so the
unique index on reversals can be made.
"""
from __future__ import annotations

import warnings
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0003_ingest_rules'
down_revision = '0002'
branch_labels = None
depends_on = None

REVERSAL = 'reversal'  # pos.ledger.EventKind.REVERSAL as of this revision


def upgrade() -> None:
    op.create_table('rejected_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('terminal_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rejected_events', schema=None) as batch_op:
        batch_op.create_index('ix_rejected_events_school_id', ['school_id', 'id'], unique=False)
    with op.batch_alter_table('terminals', schema=None) as batch_op:  # the default only fills existing rows
        batch_op.add_column(sa.Column('flags', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.alter_column('flags', existing_type=sa.String(length=200), existing_nullable=False,
                              server_default=None)
    _drop_second_reversals()
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.drop_constraint('events_pkey', 'events', type_='primary')
        op.create_primary_key('events_pkey', 'events', ['school_id', 'id'])
    else:
        _sqlite_key(['school_id', 'id'])
    op.create_index('ux_events_reversal_ref', 'events', ['school_id', 'ref_event_id'], unique=True,
                    sqlite_where=sa.text(f"kind = '{REVERSAL}'"), postgresql_where=sa.text(f"kind = '{REVERSAL}'"))


def _sqlite_key(columns: list[str]) -> None:
    # SQLite cannot alter a key: batch mode copies the table with the new one. SQLAlchemy warns that the
    # reflected key differs from the one asked for, and then uses the one asked for — what we want.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', sa.exc.SAWarning)
        with op.batch_alter_table('events', schema=None, recreate='always') as batch_op:
            batch_op.create_primary_key('events_pkey', columns)


def _drop_second_reversals() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, school_id, terminal_id, student_id, paid_kopecks, ref_event_id FROM events "
        "WHERE kind = :kind AND ref_event_id IS NOT NULL ORDER BY school_id, ref_event_id, rev"),
        {"kind": REVERSAL}).all()
    seen: set[tuple[str, str]] = set()
    now = datetime.now(UTC).replace(tzinfo=None)
    for row in rows:
        key = (row.school_id, row.ref_event_id)
        if key not in seen:
            seen.add(key)
            continue
        bind.execute(sa.text(
            "INSERT INTO rejected_events (school_id, terminal_id, event_id, reason, message, raw, received_at) "
            "VALUES (:school, :terminal, :id, 'reversal', :message, '', :now)"),
            {"school": row.school_id, "terminal": row.terminal_id, "id": row.id, "now": now,
             "message": "эта выдача уже отменена (повторная отмена убрана при обновлении сервера)"})
        if row.student_id and row.paid_kopecks:
            bind.execute(sa.text("UPDATE students SET balance_kopecks = balance_kopecks + :paid "
                                 "WHERE school_id = :school AND id = :student"),
                         {"paid": row.paid_kopecks, "school": row.school_id, "student": row.student_id})
        bind.execute(sa.text("DELETE FROM events WHERE id = :id AND school_id = :school"),
                     {"id": row.id, "school": row.school_id})


def downgrade() -> None:
    op.drop_index('ux_events_reversal_ref', table_name='events')
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.drop_constraint('events_pkey', 'events', type_='primary')
        op.create_primary_key('events_pkey', 'events', ['id'])
    else:
        _sqlite_key(['id'])
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.drop_column('flags')
    with op.batch_alter_table('rejected_events', schema=None) as batch_op:
        batch_op.drop_index('ix_rejected_events_school_id')
    op.drop_table('rejected_events')
