"""Database plumbing: engines for SQLite and PostgreSQL, revs, dialect-neutral upserts.

SQLite (the embedded default) gets WAL and ``BEGIN IMMEDIATE`` like the terminal store, so two
request threads never deadlock upgrading a read lock; PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, FromClause, create_engine, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from server.models import School


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (psycopg2 is not a dependency)."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_server_engine(url: str) -> Engine:
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # the server is on a UPS; WAL+NORMAL is durable to crashes
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in url:
            # A push commits thousands of events whose random ids touch most pages of the id index;
            # checkpointing every 1000 pages (the default) copied nearly that whole index back into the
            # database after every push. Every 10000 pages (~40 MB of WAL) writes each page once per
            # several pushes (measured: a fifth to a third of the push time at 200,000 events);
            # journal_size_limit trims the WAL file back after a checkpoint.
            cursor.execute("PRAGMA wal_autocheckpoint=10000")
            cursor.execute("PRAGMA journal_size_limit=67108864")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def take_revs(conn: Connection, school_id: str, count: int = 1) -> int:
    """Reserve `count` revs of a school and return the last one (the row lock orders commits)."""
    row = conn.execute(
        update(School).where(School.id == school_id).values(rev=School.rev + count).returning(School.rev)
    ).first()
    if row is None:
        raise LookupError(school_id)
    return int(row[0])


def upsert(conn: Connection, table: FromClause, rows: Sequence[Mapping[str, Any]], keys: Iterable[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE on both dialects, in one executemany."""
    if not rows:
        return
    keys = list(keys)
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    stmt = dialect.insert(table)
    columns = [c for c in rows[0] if c not in keys]
    if columns:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in columns})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt, list(rows))


