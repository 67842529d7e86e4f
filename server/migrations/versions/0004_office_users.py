"""office users: people of the office, their role grants, one-time links and the audit log

Revision ID: 0004_office_users
Revises: 0003_ingest_rules
Create Date: 2026-12-03 04:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_office_users'
down_revision = '0003_ingest_rules'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_key', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login'),
    sa.UniqueConstraint('session_key')
    )
    op.create_table('role_grants',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('scope_kind', sa.String(length=16), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=True),
    sa.Column('scope_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_role_grants_user_id', 'role_grants', ['user_id'], unique=False)
    op.create_index('ix_role_grants_school', 'role_grants', ['school_id', 'role'], unique=False)
    op.create_table('user_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_user_links_user_id', 'user_links', ['user_id'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=True),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_school_at', 'audit_log', ['school_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_school_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_user_links_user_id', table_name='user_links')
    op.drop_table('user_links')
    op.drop_index('ix_role_grants_school', table_name='role_grants')
    op.drop_index('ix_role_grants_user_id', table_name='role_grants')
    op.drop_table('role_grants')
    op.drop_table('users')
