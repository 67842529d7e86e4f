"""Database plumbing: engines for SQLite and PostgreSQL, transactions retried on conflicts, which
errors mean "the database is unavailable", revs, dialect-neutral upserts.

SQLite (the embedded default) gets WAL and ``BEGIN IMMEDIATE`` like the terminal store, so two
request threads never deadlock upgrading a read lock; PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection, Engine, FromClause, create_engine, event, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from server.models import School

T = TypeVar("T")

CONNECT_TIMEOUT_S = 10
"""A PostgreSQL host that does not answer fails a request after this long instead of hanging it."""
RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
# SQLite's own words for a database file it cannot use now (its OperationalError also covers SQL errors).
_SQLITE_UNAVAILABLE = ("unable to open", "database is locked", "database table is locked", "disk i/o error",
                       "readonly database", "database or disk is full")


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (psycopg2 is not a dependency)."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_server_engine(url: str) -> Engine:
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT_S}
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)
    # Writers queue for the lock up to `timeout` seconds (default 30; a URL may say ?timeout=…).
    timeout = {} if "timeout" in make_url(url).query else {"timeout": 30}
    engine = create_engine(url, connect_args={**timeout, "check_same_thread": False})

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


def _driver_error(exc: BaseException) -> BaseException:
    """The DB-API exception under SQLAlchemy's wrapper (ingest also talks to the driver directly)."""
    return exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc


def retryable(exc: BaseException) -> bool:
    """PostgreSQL aborted the transaction for a conflict with another one: running it again will do."""
    return getattr(_driver_error(exc), "sqlstate", None) in RETRY_SQLSTATES


def unavailable(exc: BaseException) -> bool:
    """The database cannot serve now (down, unreachable, connection lost, locked, conflicts that outlived
    the retries): the request may be repeated later. False for errors of the SQL or the data (bugs)."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.InterfaceError):  # pool exhausted; connection broken
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = _driver_error(exc)
    if isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return isinstance(orig, sqlite3.OperationalError) and any(m in str(orig).lower() for m in _SQLITE_UNAVAILABLE)


def run_transaction(engine: Engine, work: Callable[[Connection], T], *, isolation: str | None = None,
                    attempts: int = 5) -> T:
    """`work` in one transaction (at PostgreSQL's `isolation` level if given), run again from the start
    when PostgreSQL aborts it for a serialization failure or a deadlock, at most `attempts` times.

    Two requests of one terminal at once (its scheduler's sync and `canteen sync now`) both update the
    terminal's row; a repeatable-read pull whose snapshot predates a push's commit cannot, and is
    aborted. `work` must have no effect outside the connection, since it may run more than once."""
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect() as conn:
                if isolation is not None and conn.dialect.name == "postgresql":
                    conn = conn.execution_options(isolation_level=isolation)
                with conn.begin():
                    return work(conn)
        except Exception as exc:  # SQLAlchemy's wrapper, or psycopg's own from ingest's driver-level SQL
            if attempt == attempts or not retryable(exc):
                raise
        # Jittered, growing pauses, so the two requests do not collide again in lockstep.
        time.sleep(random.uniform(0, 0.02 * 2 ** attempt))
    raise AssertionError("unreachable")


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


