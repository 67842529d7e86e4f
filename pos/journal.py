"""Appending to the journal: the event, its outbox row and the derived `served` row, in the caller's
transaction. One function, so every kind of event (serve, refusal, override, reversal) is written the
same way. Fixed SQL for the same reason as `pos.lookup`.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from pos.ledger import EventKind, balance_delta, counts_as_served
from pos.lookup import raw, sql_datetime

STAFF_MAX = 100  # characters; the journal's and the wire's limits
NOTE_MAX = 2000

_NEXT_SEQ = "SELECT COALESCE(MAX(seq), 0) + 1 FROM events"
_EVENT = (
    "INSERT INTO events (id, terminal_id, seq, kind, at_utc, local_date, student_id, card_uid, meal, outcome,"
    " reason, message, paid_kopecks, free_kopecks, budget_line, ref_event_id, source, staff, note, flags)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OUTBOX = "INSERT INTO outbox (seq, event_id) VALUES (?, ?)"
_SERVED = (
    "INSERT OR IGNORE INTO served (student_id, local_date, meal, event_id, at_utc, paid_kopecks, free_kopecks)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_DEBIT = "UPDATE students SET balance_kopecks = balance_kopecks - ? WHERE id = ?"
_UNSERVE = "DELETE FROM served WHERE event_id = ?"


@dataclass(frozen=True)
class Entry:
    """A journal event before it has its sequence number. Field order is the INSERT's."""

    id: str
    terminal_id: str
    kind: EventKind
    at_utc: datetime  # naive UTC
    local_date: date
    student_id: str | None
    card_uid: str | None
    meal: str | None
    outcome: str
    reason: str
    message: str
    paid_kopecks: int
    free_kopecks: int
    budget_line: str | None
    ref_event_id: str | None
    source: str
    staff: str
    note: str
    flags: str


def append(conn: Connection, entry: Entry) -> int:
    """Write the event and its outbox row; a served meal also marks `served` and debits the account.

    A reversal (negative amounts) deletes the `served` row of the event it reverses
    and credits the account back. Returns the event's sequence number.
    """
    db = raw(conn)
    seq = int(db.execute(_NEXT_SEQ).fetchone()[0])
    row = astuple(entry)
    values = (*row[:2], seq, row[2], sql_datetime(entry.at_utc), entry.local_date.isoformat(), *row[5:])
    db.execute(_EVENT, values)
    db.execute(_OUTBOX, (seq, entry.id))
    if counts_as_served(entry.kind) and entry.student_id and entry.meal:
        db.execute(_SERVED, (entry.student_id, entry.local_date.isoformat(), entry.meal, entry.id,
                                       sql_datetime(entry.at_utc), entry.paid_kopecks, entry.free_kopecks))
    if entry.kind == EventKind.REVERSAL and entry.ref_event_id:
        db.execute(_UNSERVE, (entry.ref_event_id,))
    delta = balance_delta(entry.kind, entry.paid_kopecks)
    if delta and entry.student_id:
        db.execute(_DEBIT, (-delta, entry.student_id))
    return seq
