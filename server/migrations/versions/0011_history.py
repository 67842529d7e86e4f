"""history: students' class spans, the policy of each school year, food parcels and compensations,
registers as exported; events indexed by student

Revision ID: 0011_history
Revises: 0010_event_basis
Create Date: 2026-12-03 07:17:11.310493
"""
from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = '0011_history'
down_revision = '0010_event_basis'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('food_parcels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('budget_line', sa.String(length=64), nullable=False),
    sa.Column('amount_kopecks', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('food_parcels', schema=None) as batch_op:
        batch_op.create_index('ix_food_parcels_school_day', ['school_id', 'day'], unique=False)
        batch_op.create_index('ux_food_parcels_student_day_kind', ['school_id', 'student_id', 'day', 'kind'],
                              unique=True)

    op.create_table('report_exports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('submitted', sa.Boolean(), nullable=False),
    sa.Column('figures', sa.Text(), nullable=False),
    sa.Column('made_by', sa.String(length=64), nullable=False),
    sa.Column('made_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_exports', schema=None) as batch_op:
        batch_op.create_index('ix_report_exports_school_kind_month', ['school_id', 'kind', 'month'], unique=False)

    op.create_table('school_policies',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('school_year', sa.String(length=9), nullable=False),
    sa.Column('policy_text', sa.Text(), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'school_year')
    )
    op.create_table('student_classes',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'student_id', 'starts')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_school_student', ['school_id', 'student_id'], unique=False)
    _seed_history()


def _seed_history() -> None:
    """Every student's current class holds since the beginning; each school's policy is the policy of the
    school year its file states (a file that states none is left for the office to set)."""
    bind = op.get_bind()
    bind.execute(sa.text(
        "INSERT INTO student_classes (school_id, student_id, starts, class_id)"
        " SELECT school_id, id, :start, class_id FROM students"), {"start": date(2000, 1, 1)})
    for school_id, text in bind.execute(sa.text("SELECT id, policy_text FROM schools")).tuples():
        try:
            year = str(tomllib.loads(text)["policy"]["school_year"])
        except (tomllib.TOMLDecodeError, KeyError, TypeError):
            continue
        bind.execute(sa.text(
            "INSERT INTO school_policies (school_id, school_year, policy_text, set_by, set_at)"
            " VALUES (:school, :year, :text, 'migration', :at)"),
            {"school": school_id, "year": year[:9], "text": text, "at": datetime.now(UTC).replace(tzinfo=None)})



def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_school_student')

    op.drop_table('student_classes')
    op.drop_table('school_policies')
    with op.batch_alter_table('report_exports', schema=None) as batch_op:
        batch_op.drop_index('ix_report_exports_school_kind_month')

    op.drop_table('report_exports')
    with op.batch_alter_table('food_parcels', schema=None) as batch_op:
        batch_op.drop_index('ux_food_parcels_student_day_kind')
        batch_op.drop_index('ix_food_parcels_school_day')

    op.drop_table('food_parcels')
