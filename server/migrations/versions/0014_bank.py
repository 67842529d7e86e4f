"""bank: payment registers imported and the conflicts kept from them

Revision ID: 0014_bank
Revises: 0013_notices
Create Date: 2026-12-03 09:40:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_bank'
down_revision = '0013_notices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_imports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('total_kopecks', sa.BigInteger(), nullable=False),
    sa.Column('applied', sa.Integer(), nullable=False),
    sa.Column('applied_kopecks', sa.BigInteger(), nullable=False),
    sa.Column('already', sa.Integer(), nullable=False),
    sa.Column('conflicts', sa.Integer(), nullable=False),
    sa.Column('commission_kopecks', sa.BigInteger(), nullable=False),
    sa.Column('made_by', sa.String(length=64), nullable=False),
    sa.Column('made_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_imports', schema=None) as batch_op:
        batch_op.create_index('ix_payment_imports_school', ['school_id', 'made_at'], unique=False)

    op.create_table('payment_conflicts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('import_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('account', sa.String(length=100), nullable=False),
    sa.Column('payer', sa.String(length=200), nullable=False),
    sa.Column('amount_kopecks', sa.BigInteger(), nullable=True),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('resolved_by', sa.String(length=64), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_conflicts', schema=None) as batch_op:
        batch_op.create_index('ix_payment_conflicts_school_status', ['school_id', 'status'], unique=False)
        batch_op.create_index('ux_payment_conflicts_fingerprint', ['school_id', 'fingerprint'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('payment_conflicts', schema=None) as batch_op:
        batch_op.drop_index('ux_payment_conflicts_fingerprint')
        batch_op.drop_index('ix_payment_conflicts_school_status')

    op.drop_table('payment_conflicts')
    with op.batch_alter_table('payment_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_imports_school')

    op.drop_table('payment_imports')
