"""The reads a tap needs, as a few fixed SQL statements over the local store.

Written as SQL text rather than SQLAlchemy expressions because a tap must cost little more than its
durable write (see bench/scan.py): building and cache-keying Core statements per tap cost more than
the SQLite lookups themselves, so they run on the sqlite3 connection of the caller's transaction.
Column names are those of `pos.models`; the counter tests run every statement against a real store.
Each read returns plain facts (`pos.facts`); what they mean is `pos.decide`'s.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from pos.cards import CardMatch, Registered, form, judge, weaker_matches
from pos.domain import Meal, in_force
from pos.facts import BookedServe, Day, StudentView
from pos.ledger import EventKind

# Rows per IN (...) list: SQLite builds before 3.32 accept at most 999 bound parameters per statement.
SQLITE_IN_CHUNK = 900

_CARD = "SELECT student_id, blocked, blocked_reason, uid FROM cards WHERE {column} = ?"
_STUDENT = (
    "SELECT s.id, s.full_name, c.name, c.grade, c.shift, s.birth_date, s.diet_note, s.daily_limit_kopecks,"
    " s.balance_kopecks, s.class_id FROM students s JOIN classes c ON c.id = s.class_id"
    " WHERE s.id = ? AND s.active = 1"
)
_SERVED = "SELECT meal, at_utc, paid_kopecks, free_kopecks FROM served WHERE student_id = ? AND local_date = ?"
_ORDERS = "SELECT meal FROM orders WHERE student_id = ? AND day = ?"
_ENTITLEMENTS = "SELECT category, starts, ends FROM entitlements WHERE student_id = ?"
_OVERRIDDEN = "SELECT 1 FROM events WHERE ref_event_id = ? AND kind = ? LIMIT 1"
_LAST_SERVE = (
    "SELECT e.id, e.student_id, e.meal, e.at_utc, e.paid_kopecks, e.free_kopecks, e.budget_line, e.card_uid,"
    " e.free_category, e.free_rule"
    " FROM events e WHERE e.kind IN (?, ?) AND e.terminal_id = ? AND e.local_date = ? AND e.at_utc >= ?"
    " AND NOT EXISTS (SELECT 1 FROM events r WHERE r.ref_event_id = e.id AND r.kind = ?)"
    " ORDER BY e.seq DESC LIMIT 1"
)
_LAST_EVENT_AT = "SELECT MAX(at_utc) FROM events"


def raw(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under `conn`, inside the same (BEGIN IMMEDIATE) transaction."""
    dbapi = conn.connection.driver_connection
    assert isinstance(dbapi, sqlite3.Connection)
    return dbapi


def sql_datetime(value: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy's SQLite dialect stores it, so both read the same rows."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def find_card(conn: Connection, uid: str) -> CardMatch:
    """Exact id first; else a card registered in a weaker form (`pos.cards.weaker_matches`)."""
    rows = raw(conn).execute(_CARD.format(column="uid"), (uid,)).fetchall()
    for column, key, forms in [] if rows else weaker_matches(uid):
        candidates = raw(conn).execute(_CARD.format(column=column), (key,)).fetchall()
        rows = [r for r in candidates if form(r[3]) in forms]
        if rows:
            break
    return judge([Registered(r[0], bool(r[1]), r[2] or "", r[3]) for r in rows])


def student(conn: Connection, student_id: str) -> tuple[StudentView | None, str | None]:
    """The student as serving sees them, and their class id; None for someone not on the roster."""
    row = raw(conn).execute(_STUDENT, (student_id,)).fetchone()
    if row is None:
        return None, None
    birth = date.fromisoformat(row[5]) if row[5] else None
    view = StudentView(row[0], row[1], row[2], row[3], row[4], birth, row[6] or "", row[7], row[8])
    return view, row[9]


def student_day(conn: Connection, student_id: str, day: date) -> Day:
    served: dict[Meal, datetime] = {}
    free = paid = 0
    for meal, at_utc, paid_k, free_k in raw(conn).execute(_SERVED, (student_id, day.isoformat())):
        served[Meal(meal)] = _utc(at_utc)
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
        if in_force(starts, ends, day):
            active.add(category)
        elif starts > day:
            upcoming = min(upcoming or starts, starts)
        elif ends is not None:
            expired = max(expired or ends, ends)
    lapsed = ("expired", expired) if expired else ("not_started", upcoming) if upcoming else None
    return frozenset(active), lapsed


def overridden(conn: Connection, event_id: str) -> bool:
    """A staff override already answers this refusal."""
    return raw(conn).execute(_OVERRIDDEN, (event_id, EventKind.OVERRIDE.value)).fetchone() is not None


def last_serve(conn: Connection, terminal_id: str, day: date, since: datetime) -> BookedServe | None:
    """This window's last serve or override of `day` since `since` (aware) that is not reversed yet."""
    row = raw(conn).execute(_LAST_SERVE, (
        EventKind.SERVE.value, EventKind.OVERRIDE.value, terminal_id, day.isoformat(),
        sql_datetime(since.astimezone(UTC).replace(tzinfo=None)), EventKind.REVERSAL.value)).fetchone()
    if row is None:
        return None
    return BookedServe(row[0], row[1], Meal(row[2]) if row[2] else None, _utc(row[3]), row[4], row[5], row[6],
                       row[7], row[8], row[9])


def last_event_at(conn: Connection) -> datetime | None:
    """When the journal's latest event happened (aware UTC), or None for an empty journal."""
    value = raw(conn).execute(_LAST_EVENT_AT).fetchone()[0]
    return _utc(value) if value else None
