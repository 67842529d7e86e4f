"""Alembic environment of the terminal store.

`pos.migrations.bring_to_head` hands over its connection, already inside a ``BEGIN IMMEDIATE``
transaction: the revisions run in it and the caller commits (or rolls back) all of them at once. By
hand (`alembic_config(url)`, e.g. for ``--autogenerate``) the store named by the URL is opened.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from pos.migrations import VERSION_TABLE
from pos.models import Base


def run(connection: Connection) -> None:
    # render_as_batch: SQLite alters a table by copying it; transactional_ddl: SQLite's DDL is transactional
    # (pysqlite's own transaction handling is off in pos.store), so one transaction holds the whole upgrade.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      version_table=VERSION_TABLE, transactional_ddl=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite:///var/terminal.db")
    with engine.begin() as conn:
        run(conn)
    engine.dispose()
