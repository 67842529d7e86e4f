"""roster and benefits: the audit log indexed by entity, benefit applications and their documents checklists

Revision ID: 0005_roster_benefits
Revises: 0003_ingest_rules
Create Date: 2026-12-03 05:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_roster_benefits'
down_revision = '0004_office_users'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_log_school_entity', 'audit_log', ['school_id', 'entity', 'entity_id'], unique=False)
    op.create_table('applications',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('applicant', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('protocol_no', sa.String(length=64), nullable=False),
    sa.Column('refusal_reason', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=True),
    sa.Column('entitlement_id', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'id')
    )
    op.create_index('ix_applications_school_status', 'applications', ['school_id', 'status'], unique=False)
    op.create_index('ix_applications_school_student', 'applications', ['school_id', 'student_id'], unique=False)
    op.create_table('application_documents',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('received', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('school_id', 'application_id', 'position')
    )


def downgrade() -> None:
    op.drop_table('application_documents')
    op.drop_index('ix_applications_school_student', table_name='applications')
    op.drop_index('ix_applications_school_status', table_name='applications')
    op.drop_table('applications')
    op.drop_index('ix_audit_log_school_entity', table_name='audit_log')
