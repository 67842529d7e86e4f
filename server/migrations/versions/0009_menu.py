"""menu: the dishes of each day per meal and age group; a paid meal's menu price per age group

Revision ID: 0009_menu
Revises: 0008_calendar_orders
Create Date: 2026-12-03 09:00:00
"""
from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = '0009_menu'
down_revision = '0008_calendar_orders'
branch_labels = None
depends_on = None


def _menu_prices_key(columns: list[str]) -> None:
    """Rebuild the primary key of menu_prices on `columns` (SQLite: by copying the table in batch mode)."""
    if op.get_bind().dialect.name == 'sqlite':
        # SQLAlchemy warns that the copied table's key differs from the reflected one: that is the point.
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', 'Table .* specifies columns', sa.exc.SAWarning)
            with op.batch_alter_table('menu_prices', schema=None, recreate='always') as batch_op:
                batch_op.create_primary_key('pk_menu_prices', columns)
    else:
        op.drop_constraint('menu_prices_pkey', 'menu_prices', type_='primary')
        op.create_primary_key('menu_prices_pkey', 'menu_prices', columns)


def upgrade() -> None:
    op.create_table('dishes',
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    sa.Column('age_group', sa.String(length=8), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=64), nullable=False),
    sa.Column('recipe', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('yield_c', sa.Integer(), nullable=False),
    sa.Column('price_kopecks', sa.Integer(), nullable=False),
    sa.Column('energy_c', sa.Integer(), nullable=False),
    sa.Column('proteins_c', sa.Integer(), nullable=False),
    sa.Column('fats_c', sa.Integer(), nullable=False),
    sa.Column('carbs_c', sa.Integer(), nullable=False),
    sa.Column('allergens', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('school_id', 'day', 'meal', 'age_group', 'position')
    )
    # Existing prices (from price files) are for every age: age_group "".
    with op.batch_alter_table('menu_prices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('age_group', sa.String(length=8), server_default='', nullable=False))
    with op.batch_alter_table('menu_prices', schema=None) as batch_op:
        batch_op.alter_column('age_group', server_default=None)
    _menu_prices_key(['school_id', 'day', 'meal', 'age_group'])


def downgrade() -> None:
    op.execute("DELETE FROM menu_prices WHERE age_group != ''")
    _menu_prices_key(['school_id', 'day', 'meal'])
    with op.batch_alter_table('menu_prices', schema=None) as batch_op:
        batch_op.drop_column('age_group')
    op.drop_table('dishes')
