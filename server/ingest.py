"""Push: store a terminal's journal events exactly once and answer for each one.

One batch is one transaction: insert-or-ignore on the event id (so a batch sent twice, or cut
halfway and sent again, changes nothing), debit the accounts for the paid meals that were newly
stored, and take revs so the other windows of the school learn of these meals on their next pull.
What the server cannot accept is rejected per event with a reason; what it can store but doubts
(unknown student or card, served on stale data) is stored and flagged, never dropped.

A batch is thousands of events, so the events travel as plain tuples (`sync.wire.EventRow`) and
go into the table at the driver level: one ``executemany`` on SQLite; on PostgreSQL a COPY into a
temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING id``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from drivers.card import weaker_matches
from pos.ledger import SERVED_KINDS, Flag, balance_delta, join_flags
from server.accounts import Principal, utcnow
from server.db import take_revs
from server.models import Card, Student, SyncLog, Terminal
from sync.wire import EVENT_FIELDS, ROW, EventRow, WireError, check_event, event_id

CHUNK = 900  # IN-list size that every SQLite build accepts

# Column positions in an EventRow.
_ID, _TERMINAL, _KIND, _AT = ROW["id"], ROW["terminal_id"], ROW["kind"], ROW["at_utc"]
_STUDENT, _CARD, _PAID = ROW["student_id"], ROW["card_uid"], ROW["paid_kopecks"]
# What the server adds to each event; the insert's columns are EVENT_FIELDS + these.
SERVER_FIELDS = ("school_id", "server_flags", "received_at", "rev")
INSERT_COLUMNS = EVENT_FIELDS + SERVER_FIELDS
# The SQLite insert converts the time and date columns by position (slices, for speed).
assert [INSERT_COLUMNS.index(c) for c in ("at_utc", "local_date")] == [_AT, _AT + 1] == [4, 5]


@dataclass
class PushOutcome:
    stored: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _known(conn: Connection, column: Any, school_column: Any, school_id: str, values: set[Any]) -> set[Any]:
    """The `values` of `column` present in the school; driver-level SQL (a batch asks about thousands)."""
    if not values:
        return set()
    table, name = column.table.name, column.name
    where = f"WHERE {school_column.name} = " + ("%s" if conn.dialect.name == "postgresql" else "?")
    if conn.dialect.name == "postgresql":  # one array parameter instead of an IN list
        sql = f"SELECT {name} FROM {table} {where} AND {name} = ANY(%s)"
        return {r[0] for r in _fetch(conn, sql, (school_id, list(values)))}
    found: set[Any] = set()
    for chunk in _chunks(values):
        sql = f"SELECT {name} FROM {table} {where} AND {name} IN ({', '.join('?' * len(chunk))})"
        found.update(r[0] for r in _fetch(conn, sql, (school_id, *chunk)))
    return found


def _fetch(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """Rows of a driver-level query in the connection's transaction, without SQLAlchemy's row objects."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _card_forms(conn: Connection, school_id: str, column: Any, values: set[int]) -> dict[int, set[str]]:
    """For each key value, the number forms (EM, D10, W26…) of the school's cards registered with it."""
    table, name = column.table.name, column.name
    postgres = conn.dialect.name == "postgresql"
    forms: dict[int, set[str]] = {}
    chunks = [list(values)] if postgres else list(_chunks(values))
    for chunk in chunks:
        if postgres:
            sql = f"SELECT {name}, uid FROM {table} WHERE school_id = %s AND {name} = ANY(%s)"
            rows = _fetch(conn, sql, (school_id, chunk))
        else:
            sql = f"SELECT {name}, uid FROM {table} WHERE school_id = ? AND {name} IN ({', '.join('?' * len(chunk))})"
            rows = _fetch(conn, sql, (school_id, *chunk))
        for key, uid in rows:
            forms.setdefault(key, set()).add(uid.partition(":")[0])
    return forms


def _known_cards(conn: Connection, school_id: str, uids: set[str]) -> set[str]:
    """Card ids the school knows: exactly, or a card registered in a weaker form (the terminal's rule,
    `drivers.card.weaker_matches`: compared on the widest form both have)."""
    known = _known(conn, Card.uid, Card.school_id, school_id, uids)
    rest = {uid: weaker_matches(uid) for uid in uids - known}
    wanted: dict[str, set[int]] = {"key32": set(), "key24": set()}
    for tries in rest.values():
        for column, key, _ in tries:
            wanted[column].add(key)
    found = {column: _card_forms(conn, school_id, getattr(Card, column), keys) if keys else {}
             for column, keys in wanted.items()}
    for uid, tries in rest.items():
        if any(found[column].get(key, set()) & forms for column, key, forms in tries):
            known.add(uid)
    return known


def _pull_times(conn: Connection, terminal_id: str, since: datetime, until: datetime) -> list[datetime]:
    return list(conn.execute(
        select(SyncLog.at).where(SyncLog.terminal_id == terminal_id, SyncLog.kind == "pull",
                                 SyncLog.at >= since, SyncLog.at <= until).order_by(SyncLog.at)).scalars())


def ingest(conn: Connection, who: Principal, raw_events: Sequence[Any], *, stale_hours: float = 36.0,
           drift_s: float | None = None) -> PushOutcome:
    """Validate, flag and store one batch of JSON events from terminal `who`; returns the per-event answer.

    Each event is checked alone (`sync.wire.check_event`): a bad one is rejected with its reason and
    the others are stored."""
    out = PushOutcome()
    rows: list[EventRow] = []
    for raw in raw_events:
        try:
            rows.append(check_event(raw))
        except WireError as exc:
            out.rejected.append({"id": event_id(raw), "reason": exc.reason, "message": exc.message})
    return ingest_rows(conn, who, rows, out, received=len(raw_events), stale_hours=stale_hours, drift_s=drift_s)


def ingest_rows(conn: Connection, who: Principal, rows: Sequence[EventRow], out: PushOutcome | None = None, *,
                received: int | None = None, stale_hours: float = 36.0, drift_s: float | None = None) -> PushOutcome:
    """Store events already validated by `sync.wire` (`decode_push` or `check_event`); `out` may hold
    the rejections of the batch's invalid events, and `received` counts those too."""
    assert who.kind == "terminal" and who.school_id is not None
    out = out or PushOutcome()
    valid: list[EventRow] = []
    seen: set[str] = set()
    for row in rows:
        event_id = row[_ID]
        if row[_TERMINAL] != who.name:
            out.rejected.append({"id": event_id, "reason": "wrong_terminal",
                                 "message": f"событие терминала {row[_TERMINAL]}, а токен — {who.name}"})
        elif event_id in seen:
            out.duplicate.append(event_id)
        else:
            seen.add(event_id)
            valid.append(row)
    now = utcnow()
    if valid:
        _store(conn, who.school_id, who.name, valid, out, now, stale_hours)
    conn.execute(update(Terminal).where(Terminal.id == who.name).values(last_seen_at=now, clock_drift_s=drift_s))
    conn.execute(insert(SyncLog).values(terminal_id=who.name, at=now, kind="push", drift_s=drift_s,
                                        events=len(rows) if received is None else received,
                                        stored=len(out.stored)))
    return out


def _store(conn: Connection, school_id: str, terminal_id: str, valid: list[EventRow], out: PushOutcome,
           now: datetime, stale_hours: float) -> None:
    last_rev = take_revs(conn, school_id, len(valid))
    students = _known(conn, Student.id, Student.school_id, school_id, {r[_STUDENT] for r in valid if r[_STUDENT]})
    cards = _known_cards(conn, school_id, {r[_CARD] for r in valid if r[_CARD]})
    stale = timedelta(hours=stale_hours)
    served_at = [r[_AT] for r in valid if r[_KIND] in SERVED_KINDS]
    pulls = _pull_times(conn, terminal_id, min(served_at) - stale, max(served_at)) if served_at else []
    flags: list[str] = []
    bisect_right = bisect.bisect_right
    for row in valid:
        student, card = row[_STUDENT], row[_CARD]
        unknown_student = bool(student) and student not in students
        unknown_card = bool(card) and card not in cards
        stale_data = False
        if row[_KIND] in SERVED_KINDS:
            at = row[_AT]
            i = bisect_right(pulls, at)
            stale_data = i == 0 or at - pulls[i - 1] > stale
        if unknown_student or unknown_card or stale_data:  # the usual event has no flag: one test, not three
            flags.append(join_flags(flag for flag, on in ((Flag.UNKNOWN_STUDENT, unknown_student),
                                                          (Flag.UNKNOWN_CARD, unknown_card),
                                                          (Flag.STALE_DATA, stale_data)) if on))
        else:
            flags.append("")
    stored = _insert_new(conn, valid, flags, school_id, now, last_rev - len(valid) + 1)
    debits: dict[str, int] = defaultdict(int)
    for row in valid:
        if row[_ID] in stored:
            out.stored.append(row[_ID])
            delta = balance_delta(row[_KIND], row[_PAID])
            if delta and row[_STUDENT] in students:
                debits[row[_STUDENT]] -= delta
        else:
            out.duplicate.append(row[_ID])
    if debits:
        conn.execute(
            update(Student).where(Student.school_id == school_id, Student.id == bindparam("sid"))
            .values(balance_kopecks=Student.balance_kopecks - bindparam("amount"), rev=last_rev)
            .execution_options(synchronize_session=False),
            [{"sid": sid, "amount": amount} for sid, amount in debits.items() if amount])


def _insert_new(conn: Connection, rows: list[EventRow], flags: list[str], school_id: str, now: datetime,
                first_rev: int) -> set[str]:
    """Insert the events whose id is new anywhere on the server (the n-th gets `flags[n]` and rev
    `first_rev + n`); returns the ids stored."""
    columns = ", ".join(INSERT_COLUMNS)
    if conn.dialect.name == "postgresql":
        # COPY into a temporary table (psycopg writes the rows in C), then one INSERT ... SELECT whose
        # RETURNING says exactly which ids were new (a concurrent push of the same ids is stored once).
        # Measured: half the time of an executemany or of unnest() arrays, which psycopg dumps in Python.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("CREATE TEMPORARY TABLE push_events (LIKE events) ON COMMIT DROP")
            with cursor.copy(f"COPY push_events ({columns}) FROM STDIN") as copy:
                for n, row in enumerate(rows):
                    copy.write_row((*row, school_id, flags[n], now, first_rev + n))
            cursor.execute(f"INSERT INTO events ({columns}) SELECT {columns} FROM push_events "
                           "ON CONFLICT (id) DO NOTHING RETURNING id")
            return {r[0] for r in cursor.fetchall()}
        finally:
            cursor.close()
    # SQLite: one executemany of plain tuples, times and dates as SQLAlchemy's own SQLite types write
    # them. BEGIN IMMEDIATE (see server.db) holds the write lock, and take_revs reserved these revs for
    # this batch alone: if fewer rows went in than were offered, the rows carrying our school and revs
    # are exactly the ones this insert stored (ids are global: an id may exist in another school).
    received = _sqlite_datetime(now)
    iso = datetime.isoformat
    values = [(*row[:4], iso(row[4], " ", "microseconds"), row[5].isoformat(), *row[6:], school_id, flags[n],
               received, first_rev + n) for n, row in enumerate(rows)]
    marks = ", ".join("?" * len(INSERT_COLUMNS))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO events ({columns}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING", values)
        if cursor.rowcount == len(rows):
            return {r[_ID] for r in rows}
        last_rev = first_rev + len(rows) - 1
        stored: set[str] = set()
        for chunk in _chunks(r[_ID] for r in rows):
            cursor.execute(f"SELECT id FROM events WHERE school_id = ? AND rev BETWEEN ? AND ? "
                           f"AND id IN ({', '.join('?' * len(chunk))})", (school_id, first_rev, last_rev, *chunk))
            stored.update(r[0] for r in cursor.fetchall())
        return stored
    finally:
        cursor.close()


def _sqlite_datetime(moment: datetime) -> str:
    """The text SQLAlchemy's DateTime writes on SQLite (always with microseconds), so reads and
    comparisons treat these rows like every other."""
    return moment.isoformat(" ", "microseconds")
