"""The terminal store's schema versions: Alembic revisions in `versions/`, run in place at open.

`pos.store.make_engine` reads the store's revision (table `store_version`) and, only when it is not
`HEAD`, calls `bring_to_head` in its own ``BEGIN IMMEDIATE`` transaction; SQLite's DDL is
transactional, so a process killed mid-upgrade leaves the old schema and the next open starts over.
Alembic is imported here only when there is work to do: a store at head opens without it.

A new revision: change `pos.models`, then, against a store made by the code before the change,
``python -c 'from alembic import command; from pos.migrations import alembic_config;
command.revision(alembic_config("sqlite:///OLD.db"), "what", autogenerate=True, rev_id="0003_what")'``
and set `HEAD` to its id (ids are at most 32 characters; a test holds `HEAD` to the scripts).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from pos.models import Base

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0006_event_basis"
BASELINE = "0001_baseline"  # the schema of every store made before versioning (release 28a093d)
VERSION_TABLE = "store_version"
BASELINE_TABLES = frozenset({"meta", "classes", "breaks", "meal_slots", "students", "cards", "entitlements", "orders",
                             "menu_prices", "holidays", "events", "outbox", "served", "rejected"})
SCRIPTS = Path(__file__).parent


class SchemaError(RuntimeError):
    """The store's schema is not one this code can bring to head; the text is Russian, for staff."""


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """The Alembic configuration of the store: on an open `connection` (in its transaction) or a URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def bring_to_head(conn: Connection, version: str | None) -> None:
    """Create, adopt or upgrade the store on `conn` (inside the caller's transaction) to `HEAD`.

    `version` is the revision the store records, None when it has no version table. Raises
    `SchemaError` without writing anything for a store this code does not know (a newer release's,
    or not a terminal store at all).
    """
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = alembic_config(connection=conn)
    if version is None:
        tables = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
        if not tables - {"sqlite_sequence"}:  # a new store: the models' tables, recorded as head
            Base.metadata.create_all(conn)
            command.stamp(cfg, "head")
            return
        missing = BASELINE_TABLES - tables
        if missing:
            raise SchemaError(f"файл не похож на базу терминала (нет таблиц: {', '.join(sorted(missing))})")
        command.stamp(cfg, BASELINE)  # made before versioning: the baseline schema, then upgraded
    else:
        scripts = ScriptDirectory.from_config(cfg)
        if version not in {s.revision for s in scripts.walk_revisions()}:
            raise SchemaError(f"база терминала создана более новой версией программы (схема «{version}»): "
                              "обновите программу терминала; база не изменена")
    command.upgrade(cfg, "head")
