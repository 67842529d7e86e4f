"""menu_age_group: a paid meal's menu price per age group of the menu; existing rows are for every age ("")

Revision ID: 0005_menu_age_group
Revises: 0004_class_days_off
Create Date: 2026-12-03 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_menu_age_group'
down_revision = '0004_class_days_off'
branch_labels = None
depends_on = None


def _copy(keys: list[str], columns: str, values: str, where: str = "") -> None:
    """SQLite cannot change a primary key in place: the table is copied (what batch mode does, by hand,
    since batch mode warns about a primary key that grows) inside the upgrade's transaction."""
    op.create_table('_menu_prices_new',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('meal', sa.String(length=16), nullable=False),
    *([sa.Column('age_group', sa.String(length=8), nullable=False)] if 'age_group' in keys
      else []),
    sa.Column('price_kopecks', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*keys)
    )
    op.execute(f"INSERT INTO _menu_prices_new ({columns}) SELECT {values} FROM menu_prices {where}")
    op.drop_table('menu_prices')
    op.rename_table('_menu_prices_new', 'menu_prices')


def upgrade() -> None:
    # Every existing row is for every age: age_group "".
    _copy(['day', 'meal', 'age_group'], "day, meal, age_group, price_kopecks", "day, meal, '', price_kopecks")


def downgrade() -> None:
    _copy(['day', 'meal'], "day, meal, price_kopecks", "day, meal, price_kopecks", "WHERE age_group = ''")
