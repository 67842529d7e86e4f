"""Opening the terminal's SQLite store with the durability the journal needs.

WAL with synchronous=FULL (a canteen terminal gets switched off at the wall; NORMAL can lose the
last commits on power loss), pysqlite's own transaction handling switched off and every
transaction begun with ``BEGIN IMMEDIATE`` (the recipe in SQLAlchemy's SQLite dialect docs), so
a serve's reads and writes happen under one write lock and COMMIT returns only once it is on disk.
Checkpoints are kept off the serving path: see `WAL_AUTOCHECKPOINT_PAGES`. Opening brings the
store's schema to the code's in place (`pos.migrations`), in one transaction, before anything reads it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from pos.migrations import HEAD, VERSION_TABLE, SchemaError, bring_to_head

BUSY_TIMEOUT_S = 2.0
# SQLite's default (1000 pages) makes every ~250th serve pay for a checkpoint; the terminal checkpoints
# while the window is idle instead (`Counter.checkpoint`), and this is the backstop.
WAL_AUTOCHECKPOINT_PAGES = 10_000


class StoreError(RuntimeError):
    """The local store cannot be read or written (locked, read-only, missing, corrupt)."""


def explain_sqlite_error(exc: BaseException) -> str:
    """A message in Russian that staff can act on."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return "база данных терминала доступна только для чтения"
    if "locked" in text or "busy" in text:
        return "база данных терминала занята другой программой"
    if "unable to open" in text:
        return "не удалось открыть файл базы данных терминала"
    if "malformed" in text or "not a database" in text:
        return "файл базы данных терминала повреждён"
    return f"ошибка базы данных терминала: {exc}"


def make_engine(path: str | Path, *, readonly: bool = False, create: bool = True) -> Engine:
    """An engine on the terminal's database file, created or migrated to the code's schema if `create`.

    `readonly` opens the file as a read-only file system would; it exists so that the refusal a
    read-only store gets is tested (root ignores file permissions).
    """
    path = Path(path)
    if readonly:
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if not readonly:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    if create:
        try:
            _open_at_head(engine)
        except DBAPIError as exc:
            engine.dispose()
            raise StoreError(f"{path}: {explain_sqlite_error(exc)}") from exc
        except SchemaError as exc:
            engine.dispose()
            raise StoreError(f"{path}: {exc}") from exc
    return engine


def _open_at_head(engine: Engine) -> None:
    """Bring the store to the code's schema; at head (the usual case) one version read, no Alembic."""
    with engine.begin() as conn:
        at_head = store_version(conn) == HEAD
        if at_head:
            _prove_writable(conn)
    if not at_head:
        _migrate(engine)


def _migrate(engine: Engine) -> None:
    """Create, adopt or upgrade the store in one ``BEGIN IMMEDIATE`` transaction (SQLite's DDL is
    transactional: a process killed midway leaves the old schema). Foreign keys are off meanwhile, as
    SQLite's recipe for altering a table by copying it asks (Alembic's batch mode copies), and
    checked before COMMIT."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection  # not through SQLAlchemy: that would begin a transaction
        assert isinstance(raw, sqlite3.Connection)
        raw.execute("PRAGMA foreign_keys=OFF")  # ignored inside a transaction
        try:
            with conn.begin():
                bring_to_head(conn, store_version(conn))  # read again under the lock: another process may be done
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise SchemaError(f"после обновления схемы нарушена ссылка в таблице {broken[0]}; база не изменена")
                _prove_writable(conn)
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def store_version(conn: Connection) -> str | None:
    """The schema revision the store records; None for a new store or one made before versioning."""
    versioned = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)).first()
    return conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar() if versioned else None


def _prove_writable(conn: Connection) -> None:
    """A real write proves the file is writable now, not at the first serve."""
    user_version = conn.exec_driver_sql("PRAGMA user_version").scalar()
    conn.exec_driver_sql(f"PRAGMA user_version = {int(user_version or 0)}")
