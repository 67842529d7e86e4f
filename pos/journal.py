"""Appending to the journal: the event, its outbox row and the derived `served` row, in the caller's
transaction. One function, so every kind of event (serve, refusal, override, reversal) is written the
same way. Fixed SQL for the same reason as `pos.lookup`: the event's INSERT is generated once, at import,
from `pos.models.EventFields`, and so is `Entry`.
"""

from __future__ import annotations

import operator
import re
from dataclasses import make_dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, DateTime

from pos.ledger import EventKind, balance_delta, counts_as_served
from pos.lookup import raw, sql_datetime
from pos.models import EVENT_COLUMNS, NOTE_MAX, STAFF_MAX

__all__ = ["NOTE_MAX", "STAFF_MAX", "Entry", "append"]

_COLUMNS = tuple(c.name for c in EVENT_COLUMNS)
_ENTRY_FIELDS = tuple(name for name in _COLUMNS if name != "seq")  # the journal numbers the event itself
_SEQ = _COLUMNS.index("seq")


def _python_type(column: Any) -> Any:
    kind = column.info.get("enum") or column.type.python_type
    return kind | None if column.nullable else kind


# A journal event before it has its sequence number: a frozen dataclass with the event's fields (but
# `seq`) in column order, made from the columns so it cannot drift from them.
Entry: Any = make_dataclass("Entry", [(c.name, _python_type(c)) for c in EVENT_COLUMNS if c.name != "seq"],
                            frozen=True, slots=True)
Entry.__module__ = __name__

_NEXT_SEQ = "SELECT COALESCE(MAX(seq), 0) + 1 FROM events"
_EVENT = f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_OUTBOX = "INSERT INTO outbox (seq, event_id) VALUES (?, ?)"
_SERVED = (
    "INSERT OR IGNORE INTO served (student_id, local_date, meal, event_id, at_utc, paid_kopecks, free_kopecks)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_DEBIT = "UPDATE students SET balance_kopecks = balance_kopecks - ? WHERE id = ?"
_UNSERVE = "DELETE FROM served WHERE event_id = ?"

_fields = operator.attrgetter(*_ENTRY_FIELDS)
_ENTRY_COLUMNS = [c for c in EVENT_COLUMNS if c.name != "seq"]
_TEXT = [i for i, c in enumerate(_ENTRY_COLUMNS) if c.type.python_type is str]
# What the store writes for a value of each column: times and dates as SQLAlchemy's SQLite types do.
_WRITE = [(i, sql_datetime if isinstance(c.type, DateTime) else date.isoformat)
          for i, c in enumerate(_ENTRY_COLUMNS) if isinstance(c.type, Date | DateTime)]
# No control character, DEL or lone surrogate goes into the journal: the server refuses such an event
# (and sqlite3 cannot even encode a surrogate), so the terminal cleans the text before writing it.
_UNFIT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _fit(value: str) -> str:
    return _UNFIT.sub(lambda m: " " if m.group() in "\t\n\r" else "\ufffd", value)


def append(conn: Connection, entry: Any) -> int:
    """Write the event (an `Entry`) and its outbox row; a served meal also marks `served` and debits the account.

    A reversal (negative amounts) deletes the `served` row of the event it reverses
    and credits the account back. Returns the event's sequence number.
    """
    db = raw(conn)
    seq = int(db.execute(_NEXT_SEQ).fetchone()[0])
    values: list[Any] = list(_fields(entry))
    for i in _TEXT:
        if values[i] and _UNFIT.search(values[i]):
            values[i] = _fit(values[i])
    for i, write in _WRITE:
        values[i] = write(values[i])
    values.insert(_SEQ, seq)
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
