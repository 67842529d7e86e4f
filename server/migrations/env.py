"""Alembic environment: migrates the database named by the configured URL (CANTEEN_DATABASE_URL)."""

from __future__ import annotations

from alembic import context

from server.db import make_server_engine
from server.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or "sqlite:///var/server.db"
engine = make_server_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
