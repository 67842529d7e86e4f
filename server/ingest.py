"""Push: store a terminal's journal events exactly once and answer for each one.

One batch is one transaction: insert-or-ignore on (school, event id) (so a batch sent twice, or cut
halfway and sent again, changes nothing), debit the accounts for the paid meals that were newly
stored, and take revs so the other windows of the school learn of these meals on their next pull.

The ledger (`pos.ledger`) is enforced on everything a terminal sends, since a token can be copied
or forged: money only with the sign and size the kind allows; a reversal only of a stored serve of
the same school and student, with the opposite amounts, once (a unique index holds that against
concurrent pushes too); an id already stored with other content is a conflict, not a duplicate.
What the server refuses is answered per event with a reason and kept in `rejected_events`
(`server.rejected`); what it can store but doubts (unknown student or card, served on stale data, a
reversal from another window, one token on two devices) is stored and flagged, never dropped.

A batch is thousands of events, so the events travel as plain tuples (`sync.wire.EventRow`) and
go into the table at the driver level: one ``executemany`` on SQLite; on PostgreSQL a COPY into a
temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING id``. Only the ids
the insert did not store are read back and compared.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from pos.cards import weaker_matches
from pos.ledger import (
    SERVED_KINDS,
    Booked,
    EventKind,
    Flag,
    amount_problem,
    balance_delta,
    join_flags,
    reversal_flags,
    reversal_problem,
    split_flags,
)
from pos.lookup import SQLITE_IN_CHUNK as CHUNK
from server import notices, rejected
from server.accounts import Principal, utcnow
from server.db import take_revs
from server.models import Card, Event, Student, SyncLog, Terminal
from sync import wire
from sync.wire import EVENT_FIELDS, ROW, EventRow, WireError, check_event

# Column positions in an EventRow.
_ID, _TERMINAL, _KIND, _AT = ROW["id"], ROW["terminal_id"], ROW["kind"], ROW["at_utc"]
_STUDENT, _CARD, _PAID = ROW["student_id"], ROW["card_uid"], ROW["paid_kopecks"]
_SEQ, _MEAL, _FREE, _REF = ROW["seq"], ROW["meal"], ROW["free_kopecks"], ROW["ref_event_id"]
# What the server adds to each event; the insert's columns are EVENT_FIELDS + these.
SERVER_FIELDS = ("school_id", "server_flags", "received_at", "rev")
INSERT_COLUMNS = EVENT_FIELDS + SERVER_FIELDS
# The SQLite insert converts the time and date columns by position (slices, for speed).
assert [INSERT_COLUMNS.index(c) for c in ("at_utc", "local_date")] == [_AT, _AT + 1] == [4, 5]


CONFLICT = "событие с этим id уже получено с другим содержанием"
ALREADY_REVERSED = "эта выдача уже отменена"


@dataclass
class PushOutcome:
    stored: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    terminal_flags: list[str] = field(default_factory=list)  # what the server found about the terminal
    raws: dict[int, Any] = field(default_factory=dict)  # position in `rejected` -> the event as sent

    def reject(self, event_id: str | None, reason: str, message: str, raw: Any) -> None:
        self.raws[len(self.rejected)] = raw
        self.rejected.append({"id": event_id, "reason": reason, "message": message})


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
    `pos.cards.weaker_matches`: compared on the widest form both have)."""
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
            out.reject(wire.event_id(raw), exc.reason, exc.message, raw)
    return ingest_rows(conn, who, rows, out, received=len(raw_events), stale_hours=stale_hours, drift_s=drift_s)


def ingest_rows(conn: Connection, who: Principal, rows: Sequence[EventRow], out: PushOutcome | None = None, *,
                received: int | None = None, stale_hours: float = 36.0, drift_s: float | None = None) -> PushOutcome:
    """Store events already validated by `sync.wire` (`decode_push` or `check_event`); `out` may hold
    the rejections of the batch's invalid events, and `received` counts those too."""
    assert who.kind == "terminal" and who.school_id is not None
    out = out or PushOutcome()
    valid: list[EventRow] = []
    seen: dict[str, EventRow] = {}
    for row in rows:
        event_id = row[_ID]
        if row[_TERMINAL] != who.name:
            out.reject(event_id, "wrong_terminal", f"событие терминала {row[_TERMINAL]}, а токен — {who.name}", row)
        elif event_id in seen:
            if seen[event_id] == row:
                out.duplicate.append(event_id)
            else:
                out.reject(event_id, "conflict", CONFLICT, row)
        elif problem := amount_problem(row[_KIND], row[_PAID], row[_FREE]):
            out.reject(event_id, "amount", problem, row)
        else:
            seen[event_id] = row
            valid.append(row)
    now = utcnow()
    if valid:
        _store(conn, who.school_id, who.name, valid, out, now, stale_hours)
    rejected.keep(conn, who.school_id, who.name, out.rejected, out.raws, now)
    terminal_flags = conn.execute(select(Terminal.flags).where(Terminal.id == who.name)).scalar()
    out.terminal_flags = sorted(split_flags(terminal_flags or ""))
    conn.execute(update(Terminal).where(Terminal.id == who.name).values(last_seen_at=now, clock_drift_s=drift_s))
    conn.execute(insert(SyncLog).values(terminal_id=who.name, at=now, kind="push", drift_s=drift_s,
                                        events=len(rows) if received is None else received,
                                        stored=len(out.stored)))
    return out


def _store(conn: Connection, school_id: str, terminal_id: str, valid: list[EventRow], out: PushOutcome,
           now: datetime, stale_hours: float) -> None:
    last_rev = take_revs(conn, school_id, len(valid))  # locks the school: pushes of a school go one by one
    valid, extra = _check_reversals(conn, school_id, terminal_id, valid, out)
    for event_id in _clones(conn, school_id, terminal_id, valid):
        extra[event_id] = (*extra.get(event_id, ()), Flag.CLONE)
    if not valid:
        return
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
        more = extra.get(row[_ID], ()) if extra else ()
        if unknown_student or unknown_card or stale_data or more:  # the usual event has none: one test, not four
            flags.append(join_flags((*(flag for flag, on in ((Flag.UNKNOWN_STUDENT, unknown_student),
                                                             (Flag.UNKNOWN_CARD, unknown_card),
                                                             (Flag.STALE_DATA, stale_data)) if on), *more)))
        else:
            flags.append("")
    stored = _insert_new(conn, valid, flags, school_id, now, last_rev - len(valid) + 1)
    debits: dict[str, int] = defaultdict(int)
    unstored: list[EventRow] = []
    for row in valid:
        if row[_ID] in stored:
            out.stored.append(row[_ID])
            delta = balance_delta(row[_KIND], row[_PAID])
            if delta and row[_STUDENT] in students:
                debits[row[_STUDENT]] -= delta
        else:
            unstored.append(row)
    if unstored:
        _settle(conn, school_id, unstored, out)
    changes = [{"sid": sid, "amount": amount} for sid, amount in debits.items() if amount]
    if changes:  # a serve and its reversal in one batch change nothing
        conn.execute(
            update(Student).where(Student.school_id == school_id, Student.id == bindparam("sid"))
            .values(balance_kopecks=Student.balance_kopecks - bindparam("amount"), rev=last_rev)
            .execution_options(synchronize_session=False), changes)
        notices.balances_changed(conn, school_id, debits)  # parents' low-balance notices, one query


def _check_reversals(conn: Connection, school_id: str, terminal_id: str, valid: list[EventRow], out: PushOutcome
                     ) -> tuple[list[EventRow], dict[str, tuple[Flag, ...]]]:
    """The rows the ledger lets in (reversals of stored or earlier-in-batch serves, once each), and the
    flags the accepted reversals earn; the others are rejected into `out`."""
    refs = {row[_REF] for row in valid if row[_KIND] == EventKind.REVERSAL}
    if not refs:
        return valid, {}
    columns = (Event.id, Event.kind, Event.terminal_id, Event.student_id, Event.meal, Event.paid_kopecks,
               Event.free_kopecks)
    targets: dict[str, Booked] = {}
    reversed_by: dict[str, str] = {}  # serve id -> the id of the stored reversal that cancels it
    for chunk in _chunks(refs):
        targets.update((r.id, Booked(*r)) for r in conn.execute(
            select(*columns).where(Event.school_id == school_id, Event.id.in_(chunk))))
        reversed_by.update((ref, rid) for ref, rid in conn.execute(select(Event.ref_event_id, Event.id).where(
            Event.school_id == school_id, Event.kind == EventKind.REVERSAL, Event.ref_event_id.in_(chunk))) if ref)
    in_batch: dict[str, Booked] = {}  # serves earlier in this batch (journal order)
    kept: list[EventRow] = []
    flags: dict[str, tuple[Flag, ...]] = {}
    for row in valid:
        event_id, kind = row[_ID], row[_KIND]
        if kind in SERVED_KINDS:
            in_batch.setdefault(event_id, Booked(event_id, kind, row[_TERMINAL], row[_STUDENT], row[_MEAL],
                                                 row[_PAID], row[_FREE]))
        elif kind == EventKind.REVERSAL:
            ref = row[_REF]
            target = targets.get(ref) or in_batch.get(ref)  # a stored event wins over a resent copy
            earlier = reversed_by.get(ref)
            problem = reversal_problem(student_id=row[_STUDENT], paid_kopecks=row[_PAID], free_kopecks=row[_FREE],
                                       target=target, already_reversed=earlier not in (None, event_id))
            if problem or target is None:
                out.reject(event_id, "reversal", problem or ALREADY_REVERSED, row)
                continue
            reversed_by[ref] = event_id
            if marks := reversal_flags(terminal_id, target):
                flags[event_id] = marks
        kept.append(row)
    return kept, flags


def _clones(conn: Connection, school_id: str, terminal_id: str, valid: list[EventRow]) -> set[str]:
    """Ids of the batch whose sequence number the terminal already used for another event: its token
    is on two devices. Marks the earlier events and the terminal too (both devices are kept)."""
    if not valid:
        return set()
    seqs: dict[int, set[str]] = defaultdict(set)
    for row in valid:
        seqs[row[_SEQ]].add(row[_ID])
    earlier: dict[str, str] = {}
    for event_id, seq, flags in conn.execute(select(Event.id, Event.seq, Event.server_flags).where(
            Event.school_id == school_id, Event.terminal_id == terminal_id,
            Event.seq >= min(seqs), Event.seq <= max(seqs))).tuples():
        if seq in seqs:
            seqs[seq].add(event_id)
            earlier[event_id] = flags
    clones = {event_id for ids in seqs.values() if len(ids) > 1 for event_id in ids}
    if not clones:
        return set()
    marked = [{"eid": event_id, "new_flags": join_flags((*split_flags(flags), Flag.CLONE))}
              for event_id, flags in earlier.items() if event_id in clones and Flag.CLONE not in split_flags(flags)]
    if marked:
        conn.execute(update(Event).where(Event.school_id == school_id, Event.id == bindparam("eid"))
                     .values(server_flags=bindparam("new_flags")).execution_options(synchronize_session=False), marked)
    old = conn.execute(select(Terminal.flags).where(Terminal.id == terminal_id)).scalar() or ""
    if Flag.CLONE not in split_flags(old):
        conn.execute(update(Terminal).where(Terminal.id == terminal_id)
                     .values(flags=join_flags((*split_flags(old), Flag.CLONE))))
    return clones - earlier.keys()


def _settle(conn: Connection, school_id: str, rows: list[EventRow], out: PushOutcome) -> None:
    """Answer for the rows the insert did not store: the same content is a duplicate, other content
    under a stored id is a conflict, and a reversal that lost to a concurrent one is rejected."""
    columns = [getattr(Event, name) for name in EVENT_FIELDS]
    stored: dict[str, EventRow] = {}
    for chunk in _chunks(row[_ID] for row in rows):
        stored.update((r[_ID], tuple(r)) for r in conn.execute(
            select(*columns).where(Event.school_id == school_id, Event.id.in_(chunk))))
    for row in rows:
        event_id = row[_ID]
        same = stored.get(event_id)
        if same is None and row[_KIND] == EventKind.REVERSAL:  # the unique index: reversed meanwhile
            out.reject(event_id, "reversal", ALREADY_REVERSED, row)
        elif same is None or same == tuple(row):
            out.duplicate.append(event_id)
        else:
            out.reject(event_id, "conflict", CONFLICT, row)


def _insert_new(conn: Connection, rows: list[EventRow], flags: list[str], school_id: str, now: datetime,
                first_rev: int) -> set[str]:
    """Insert the events whose id is new in the school (the n-th gets `flags[n]` and rev
    `first_rev + n`); returns the ids stored."""
    columns = ", ".join(INSERT_COLUMNS)
    if conn.dialect.name == "postgresql":
        # COPY into a temporary table (psycopg writes the rows in C), then one INSERT ... SELECT whose
        # RETURNING says exactly which ids were new (a concurrent push of the same ids is stored once;
        # no conflict target, so a second reversal of a serve is not stored either).
        # Measured: half the time of an executemany or of unnest() arrays, which psycopg dumps in Python.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("CREATE TEMPORARY TABLE push_events (LIKE events) ON COMMIT DROP")
            with cursor.copy(f"COPY push_events ({columns}) FROM STDIN") as copy:
                for n, row in enumerate(rows):
                    copy.write_row((*row, school_id, flags[n], now, first_rev + n))
            cursor.execute(f"INSERT INTO events ({columns}) SELECT {columns} FROM push_events "
                           "ON CONFLICT DO NOTHING RETURNING id")
            return {r[0] for r in cursor.fetchall()}
        finally:
            cursor.close()
    # SQLite: one executemany of plain tuples, times and dates as SQLAlchemy's own SQLite types write
    # them. BEGIN IMMEDIATE (see server.db) holds the write lock, and take_revs reserved these revs for
    # this batch alone: if fewer rows went in than were offered, the rows carrying our school and revs
    # are exactly the ones this insert stored. No conflict target: the key and the one-reversal-per-serve
    # index both make a row "not stored", which `_settle` then tells apart.
    received = _sqlite_datetime(now)
    iso = datetime.isoformat
    values = [(*row[:4], iso(row[4], " ", "microseconds"), row[5].isoformat(), *row[6:], school_id, flags[n],
               received, first_rev + n) for n, row in enumerate(rows)]
    marks = ", ".join("?" * len(INSERT_COLUMNS))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO events ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING", values)
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
