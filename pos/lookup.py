"""The reads a tap needs, as a few fixed SQL statements over the local store.

Written as SQL text rather than SQLAlchemy expressions because a tap must cost little more than its
durable write (see bench/scan.py): building and cache-keying Core statements per tap cost more than
the SQLite lookups themselves, so they run on the sqlite3 connection of the caller's transaction.
Column names are those of `pos.models`; the counter tests run every statement against a real store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from drivers.card import weaker_matches
from pos.decide import CardStatus, StudentView
from pos.domain import Meal

_CARD = "SELECT student_id, blocked, blocked_reason, uid FROM cards WHERE {column} = ?"
_STUDENT = (
    "SELECT s.id, s.full_name, c.name, c.grade, c.shift, s.birth_date, s.diet_note, s.daily_limit_kopecks,"
    " s.balance_kopecks, s.class_id FROM students s JOIN classes c ON c.id = s.class_id"
    " WHERE s.id = ? AND s.active = 1"
)
_SERVED = "SELECT meal, at_utc, paid_kopecks, free_kopecks FROM served WHERE student_id = ? AND local_date = ?"
_ORDERS = "SELECT meal FROM orders WHERE student_id = ? AND day = ?"
_ENTITLEMENTS = "SELECT category, starts, ends FROM entitlements WHERE student_id = ?"


def raw(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under `conn`, inside the same (BEGIN IMMEDIATE) transaction."""
    dbapi = conn.connection.driver_connection
    assert isinstance(dbapi, sqlite3.Connection)
    return dbapi


def sql_datetime(value: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy's SQLite dialect stores it, so both read the same rows."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class CardMatch:
    status: CardStatus
    student_id: str | None = None
    note: str = ""


def find_card(conn: Connection, uid: str) -> CardMatch:
    """Exact id first; else a card registered in a weaker form (a fob's printed number, another reader)."""
    rows = raw(conn).execute(_CARD.format(column="uid"), (uid,)).fetchall()
    for column, key, forms in [] if rows else weaker_matches(uid):
        candidates = raw(conn).execute(_CARD.format(column=column), (key,)).fetchall()
        rows = [r for r in candidates if r[3].partition(":")[0] in forms]
        if rows:
            break
    if not rows:
        return CardMatch(CardStatus.UNKNOWN)
    if len({r[0] for r in rows}) > 1:
        return CardMatch(CardStatus.AMBIGUOUS)
    active = [r for r in rows if not r[1]]
    if not active:
        return CardMatch(CardStatus.BLOCKED, rows[0][0], rows[0][2])
    return CardMatch(CardStatus.OK, active[0][0])


def student(conn: Connection, student_id: str) -> tuple[StudentView | None, str | None]:
    """The student as serving sees them, and their class id; None for someone not on the roster."""
    row = raw(conn).execute(_STUDENT, (student_id,)).fetchone()
    if row is None:
        return None, None
    birth = date.fromisoformat(row[5]) if row[5] else None
    view = StudentView(row[0], row[1], row[2], row[3], row[4], birth, row[6] or "", row[7], row[8])
    return view, row[9]


@dataclass(frozen=True)
class Day:
    """What a student has had and ordered on a day."""

    served: dict[Meal, datetime]  # aware UTC
    free_used_kopecks: int
    paid_kopecks: int
    ordered: frozenset[Meal]


def student_day(conn: Connection, student_id: str, day: date) -> Day:
    served: dict[Meal, datetime] = {}
    free = paid = 0
    for meal, at_utc, paid_k, free_k in raw(conn).execute(_SERVED, (student_id, day.isoformat())):
        served[Meal(meal)] = datetime.fromisoformat(at_utc).replace(tzinfo=UTC)
        free += free_k
        paid += paid_k
    ordered = frozenset(Meal(m) for (m,) in raw(conn).execute(_ORDERS, (student_id, day.isoformat())))
    return Day(served, free, paid, ordered)


def entitlements(conn: Connection, student_id: str, day: date) -> tuple[frozenset[str], tuple[str, date] | None]:
    """Categories in force on `day`, and the nearest lapsed one ("expired" or "not_started") for the message."""
    active: set[str] = set()
    expired: date | None = None
    upcoming: date | None = None
    for category, starts_s, ends_s in raw(conn).execute(_ENTITLEMENTS, (student_id,)):
        starts = date.fromisoformat(starts_s)
        ends = date.fromisoformat(ends_s) if ends_s else None
        if starts > day:
            upcoming = min(upcoming or starts, starts)
        elif ends is not None and ends < day:
            expired = max(expired or ends, ends)
        else:
            active.add(category)
    lapsed = ("expired", expired) if expired else ("not_started", upcoming) if upcoming else None
    return frozenset(active), lapsed
